"""End to end on the four shared partner sites, over real HTTP on loopback, into a real
SQLite file: discovery from the homepage alone, storage, export, idempotent re-runs,
the week-2 revision."""
from __future__ import annotations

import json

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store

from conftest import PARTNERS


def _run(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result


def test_run_discovers_and_stores_all_four_partner_articles(partner_sites, tmp_path, db_url):
    sources = partner_sites.write_sources(tmp_path / "sources")
    result = _run(["run", "--sources", str(sources), "--db", db_url, "--quiet"])
    assert result.exit_code == 0, result.output

    articles = [json.loads(line) for line in _run(["export", "articles", "--db", db_url]).output.splitlines()]
    stored = {(a["site"], a["url"]) for a in articles}
    for site, (_, path) in PARTNERS.items():
        assert (site, partner_sites.base(site) + path) in stored, f"{site} article missing: {stored}"

    mentions = [json.loads(line) for line in _run(["export", "mentions", "--db", db_url]).output.splitlines()]
    by_site = {}
    for m in mentions:
        assert {"site", "article_url", "text", "kind", "claim_id"} <= m.keys()
        assert (m["claim_id"] is None) == (m["kind"] != "claim")
        by_site.setdefault(m["site"], []).append(m)
    for site, (_, path) in PARTNERS.items():
        article_mentions = [m for m in by_site.get(site, []) if m["article_url"].endswith(path)]
        assert len([m for m in article_mentions if m["kind"] == "claim"]) >= 10, site
    # civiq has no feed: its article came through the sitemap (or the blog index)
    assert any(m["site"] == "civiq" and "double" not in m["text"] for m in by_site["civiq"])


def test_second_run_adds_no_rows_and_only_revalidates(partner_sites, tmp_path, db_url):
    sources = load_sources(partner_sites.write_sources(tmp_path / "sources"))
    store = Store.open(db_url)
    first = run_sources(sources, store)
    assert first.ok, first
    before = store.table_counts()
    second = run_sources(sources, store)
    assert second.ok
    assert store.table_counts() == before
    assert sum(r.new_articles + r.new_revisions for r in second.sources) == 0
    # every feed, sitemap and page request of the second run was conditional and answered 304
    # (robots.txt lookups are the only unconditional ones)
    assert second.not_modified >= second.requests - len(sources) * 2


def test_week_two_revision_keeps_history(partner_sites, tmp_path, db_url):
    sources = load_sources(partner_sites.write_sources(tmp_path / "sources", sites=("alana",)))
    store = Store.open(db_url)
    assert run_sources(sources, store).ok
    partner_sites.week(2)
    report = run_sources(sources, store)
    assert report.ok
    assert sum(r.new_revisions for r in report.sources) == 1
    articles = list(store.export_articles())
    assert len(articles) == 1 and articles[0]["revisions"] == 2
    history = store.revision_history(articles[0]["url"])
    assert [h["number"] for h in history] == [1, 2]
    assert any("2023" in t for t in history[1]["added"])
    assert any("2022" in t and "6,000" in t for t in history[1]["removed"])
    texts = [m["text"] for m in store.export_mentions()]
    assert not any("fewer than 6,000 in 2022" in t for t in texts)
    assert any("admissions team is available seven days a week" in t for t in texts)


def test_broken_partner_fails_the_run_but_others_are_stored(partner_sites, tmp_path, db_url):
    folder = partner_sites.write_sources(tmp_path / "sources", sites=("alana", "civiq"))
    (folder / "downsite.toml").write_text('name = "Down"\nhomepage = "http://127.0.0.1:9/down/"\n')
    bad = partner_sites.base("bad")
    (folder / "brokenfeed.toml").write_text(
        f'name = "Broken Feed"\nhomepage = "{bad}/bad/"\nfeeds = ["{bad}/bad/not-a-feed.html"]\n')
    result = _run(["run", "--sources", str(folder), "--db", db_url])
    assert result.exit_code == 1
    assert "downsite" in result.output and "brokenfeed" in result.output
    store = Store.open(db_url)
    health = {h["id"]: h for h in store.source_health()}
    assert health["downsite"]["last_error_kind"] == "connection"
    assert health["brokenfeed"]["last_error_kind"] == "not-a-feed"
    assert health["brokenfeed"]["consecutive_failures"] == 1
    assert health["alana"]["last_error_kind"] is None and health["alana"]["articles"] == 1
    assert health["civiq"]["articles"] >= 1
