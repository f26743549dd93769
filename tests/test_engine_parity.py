"""Issue 17, finding 6: no partner content makes one engine lose what the other keeps.

One partner on loopback serves an article whose title carries a NUL character (and a
terminal escape), whose page declares an over-long language tag, whose FAQ answer carries a
NUL, and which holds a 1.5 MB sentence; a second article's URL is too long to be a key.
`syndicate run` stores it into a real SQLite file and a real PostgreSQL database: both keep
the same rows (the NUL and the escape removed on both, the long sentence whole on both, the
language tag cut to its column on both, the over-long URL refused on both with a clear
error), and search finds the long sentence on both."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline import clustering
from pipeline.cli import cli
from pipeline.store import Store

from fixtures.ingest.hostile import HostileServer, static

RSS = "application/rss+xml"
LONG_WORDS = 230_000  # "Walking helps w0x w1x …": about 1.6 MB


@pytest.fixture(autouse=True)
def _no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)
    monkeypatch.setenv("SYNDICATE_ALLOW_PRIVATE", "1")  # the partner is on loopback


def long_sentence() -> str:
    return "Walking helps " + " ".join(f"w{i % 7919}x" for i in range(LONG_WORDS)) + " marathon."


def odd_site(server: HostileServer) -> None:
    ld = json.dumps({"@context": "https://schema.org", "@graph": [
        {"@type": "BlogPosting", "headline": "Sleep \u0000matters\x1b]0;owned\x07 now"},
        {"@type": "FAQPage", "mainEntity": [{"@type": "Question", "name": "Is it normal?",
                                             "acceptedAnswer": {"@type": "Answer", "text": "Yes\u0000, for a while."}}]}]})
    html = (f'<!doctype html><html lang="en-x-{"a" * 40}"><head><title>t</title>'
            f'<script type="application/ld+json">{ld}</script></head><body><article><h1>Sleep</h1>'
            "<p>Sleep problems are common in early recovery. Most people sleep better after a few weeks.</p>"
            f"<p>{long_sentence()}</p></article></body></html>")
    too_long = "/q?" + "x" * 2100
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>H</title>'
            f'<link>{server.url("/")}</link>'
            f'<item><title>Sleep</title><link>{server.url("/p")}</link><guid>{server.url("/p")}</guid></item>'
            f'<item><title>Long</title><link>{server.url(too_long)}</link></item>'
            "</channel></rss>")
    server.route("/p", static(html, "text/html; charset=utf-8"))
    server.route("/q", static("<html><body><article><p>Walking is good for the heart, most studies agree.</p>"
                              "</article></body></html>", "text/html; charset=utf-8"))
    server.route("/feed.xml", static(feed, RSS))
    server.route("/", static(f'<html><head><link rel="alternate" type="{RSS}" href="/feed.xml"></head></html>',
                             "text/html"))


def _run(server: HostileServer, db: str, folder) -> dict:
    folder.mkdir(exist_ok=True)
    (folder / "odd.toml").write_text(f'name = "Odd"\nhomepage = "{server.url("/")}"\n')
    result = CliRunner().invoke(cli, ["run", "--sources", str(folder), "--db", db, "--json"])
    return json.loads(result.stdout)  # the summary; errors go to stderr


def _stored(db: str) -> dict:
    store = Store.open(db)
    try:
        drop = ("fetched", "first_seen", "last_fetched", "published", "updated", "article_url", "url", "mention_id",
                "faq_entry_id", "citations")
        rows = {what: sorted(json.dumps({k: v for k, v in r.items() if k not in drop}, sort_keys=True)
                             for r in store.export(what)) for what in ("articles", "mentions", "faq")}
        # the index covers a sentence's first 100,000 characters on both engines: "w17x" is in
        # them, "marathon" (the last word) is not
        rows["search"] = [h["text"][:20] for h in store.search('"walking helps" w17x')]
        rows["search_tail"] = [h["text"][:20] for h in store.search("marathon")]
        return rows
    finally:
        store.close()


def test_both_engines_keep_the_same_data_from_odd_partner_content(tmp_path, pg_url):
    lite = f"sqlite:///{tmp_path / 'odd.sqlite'}"
    with HostileServer() as server:
        odd_site(server)
        summaries = {"sqlite": _run(server, lite, tmp_path / "src"), "postgresql": _run(server, pg_url, tmp_path / "src")}
    for engine, summary in summaries.items():
        assert summary["articles_seen"] == 2, (engine, summary)
        # the over-long URL is refused on both, with a message that says why (not a traceback)
        (error,) = summary["errors"]
        assert error["kind"] == "store" and "over the 2,000-byte limit" in error["message"], (engine, error)
        assert "Traceback" not in error["message"] and "SQL" not in error["message"]
    sqlite_rows, pg_rows = _stored(lite), _stored(pg_url)
    assert sqlite_rows == pg_rows
    (article,) = [json.loads(r) for r in sqlite_rows["articles"]]
    assert article["title"] == "Sleep matters now" and len(article.get("language") or "en-x-aaaa") <= 20
    long = [json.loads(r)["text"] for r in sqlite_rows["mentions"] if json.loads(r)["text"].startswith("Walking helps")]
    assert len(long) == 1 and len(long[0]) > 1_500_000 and long[0].endswith("marathon.")  # stored whole
    assert [json.loads(r)["answer"] for r in sqlite_rows["faq"]] == ["Yes, for a while."]
    assert sqlite_rows["search"] == ["Walking helps w0x w1"] and sqlite_rows["search_tail"] == []
