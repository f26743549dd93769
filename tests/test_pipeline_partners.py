"""End to end through the CLI on the four shared partner sites, over real HTTP on loopback,
into a real SQLite file: discovery from the homepage alone, storage, export, a broken
partner. (Re-runs, revisions and every bad input: tests/test_ingest.py.)"""
from __future__ import annotations

import json

from click.testing import CliRunner

from pipeline.cli import cli
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
    health = {h.id: h for h in store.source_health()}
    assert health["downsite"].last_error_kind == "connection"
    assert health["brokenfeed"].last_error_kind == "not-a-feed"
    assert health["brokenfeed"].consecutive_failures == 1
    assert health["alana"].last_error_kind is None and health["alana"].articles == 1
    assert health["civiq"].articles >= 1
