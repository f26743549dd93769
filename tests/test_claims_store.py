"""Claims through the real store: stable ids, incremental == rebuild, retirement,
editor overrides that survive later runs, explanations, the embedding cache.

Sites are served over real HTTP from a temporary folder (a tiny blog of our own words)
or from the bundled demo sites; the database is a real SQLite file.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.demo import DEMO_SOURCES, StaticSiteServer
from pipeline.clustering import rebuild_claims
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store
from pipeline.types import Source

pytestmark = pytest.mark.slow  # loads the sentence model

PAGE = """<!doctype html><html lang="en"><head><title>{title} | Fernhill Notes</title>
<meta property="og:site_name" content="Fernhill Notes"></head><body>
<nav><a href="/">Home</a></nav><article><h1>{title}</h1>
<p class="byline">By Sam Ortega, <time datetime="2026-11-17">November 17, 2026</time></p>
{body}</article><footer>Fernhill Notes footer</footer></body></html>"""
FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Fernhill</title>
<link>{{{{base}}}}/fernhill/</link>{items}</channel></rss>"""
ITEM = "<item><title>{title}</title><link>{{{{base}}}}/fernhill/{slug}/</link><guid>{slug}</guid>" \
       "<pubDate>Tue, 17 Nov 2026 10:00:00 +0000</pubDate><description>Excerpt.</description></item>"


def write_blog(root, posts):
    """posts: {slug: (title, [paragraph, ...])}"""
    site = root / "fernhill"
    site.mkdir(parents=True, exist_ok=True)
    items = []
    for slug, (title, paragraphs) in posts.items():
        (site / slug).mkdir(exist_ok=True)
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        (site / slug / "index.html").write_text(PAGE.format(title=title, body=body), "utf-8")
        items.append(ITEM.format(title=title, slug=slug))
    (site / "feed").mkdir(exist_ok=True)
    (site / "feed" / "index.xml").write_text(FEED.format(items="".join(items)), "utf-8")


FIRST = ["Walking for twenty minutes a day lowers resting blood pressure in most adults.",
         "Regular walkers also report sleeping more deeply than people who rarely walk.",
         "Cold water swimming raises the heart rate sharply in the first minute."]


def test_retired_claim_ids_are_not_reused(tmp_path):
    write_blog(tmp_path, {"walking": ("Walking", FIRST)})
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with StaticSiteServer(tmp_path) as server:
        src = [Source(id="fernhill", name="Fernhill Notes", homepage=f"{server.base}/fernhill/",
                      feeds=(f"{server.base}/fernhill/feed/",))]
        assert run_sources(src, store).ok
        claims = {c["text"]: c["claim_id"] for c in store.export_claims()}
        assert len(claims) == 3
        swim_id = claims[FIRST[2]]
        # the partner drops the swimming sentence and adds another one
        write_blog(tmp_path, {"walking": ("Walking", FIRST[:2] + ["Stretching after a walk eases stiff calves."])})
        # the feed did not change, so stored pages are re-validated only when due: make them due
        assert run_sources(src, store, recheck_after=timedelta(0)).ok
    after = {c["text"]: c["claim_id"] for c in store.export_claims()}
    assert FIRST[2] not in after
    assert after[FIRST[0]] == claims[FIRST[0]] and after[FIRST[1]] == claims[FIRST[1]]  # carried, same ids
    new_id = after["Stretching after a walk eases stiff calves."]
    assert new_id > swim_id  # the retired id is not reused
    detail = store.claim_detail(swim_id)
    assert detail.status == "retired" and detail.members == ()
    assert store.claim_detail(claims[FIRST[0]]).members[0].method == "carried"


@pytest.fixture()
def demo_store(tmp_path, demo_server):
    store = Store.open(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    sources = load_sources(DEMO_SOURCES)
    yield store, sources
    store.close()


def memberships(store):
    return {(m["mention_id"], m["claim_id"]) for m in store.export_mentions() if m["kind"] == "claim"}


def test_incremental_runs_equal_a_rebuild_and_ids_are_stable(demo_store, tmp_path):
    store, sources = demo_store
    assert run_sources(sources[:2], store).ok  # two partners first
    first = memberships(store)
    assert run_sources(sources, store).ok  # the others join incrementally
    incremental = memberships(store)
    # the engine's state is kept beside the database for the next increment
    assert (tmp_path / "demo.sqlite.clustering-state").stat().st_size > 0
    # (older articles among the later partners' are placed where the canonical order puts
    # them: that run re-clusters, so memberships of `first` may move; docs/dedupe.md)
    assert {m for m, _ in first} <= {m for m, _ in incremental}
    assert rebuild_claims(store, now=_now()) == 0  # a full rebuild gives the same clusters
    assert memberships(store) == incremental
    assert run_sources(sources, store).ok  # re-running renumbers nothing
    assert memberships(store) == incremental
    merged = [c for c in store.export_claims() if len(c["sites"]) > 1]
    assert merged, "the demo's shared sentences should merge across partners"
    # every vector was cached: a rebuild encodes nothing new
    counts = store.table_counts()
    assert counts["embeddings"] >= len({m["text"] for m in store.export_mentions() if m["kind"] == "claim"})


def test_editor_overrides_survive_runs_and_rebuilds(demo_store, tmp_path):
    store, sources = demo_store
    assert run_sources(sources, store).ok
    db = str(tmp_path / "demo.sqlite")
    claims = sorted(store.export_claims(), key=lambda c: c["claim_id"])
    a, b = claims[0]["claim_id"], claims[1]["claim_id"]
    runner = CliRunner()
    assert runner.invoke(cli, ["claims", "merge", str(a), str(b), "--db", db]).exit_code == 0
    shown = json.loads(runner.invoke(cli, ["claims", "show", str(a), "--db", db, "--json"]).output)
    assert len(shown["members"]) >= 2 and {m["method"] for m in shown["members"]} >= {"editor-merge"}
    assert shown["overrides"][0]["action"] == "merge"
    split_off = shown["members"][-1]["mention_id"]
    out = runner.invoke(cli, ["claims", "split", str(a), str(split_off), "--db", db])
    assert out.exit_code == 0, out.output
    new_claim = int(out.output.split("claim ")[-1])
    keep = shown["members"][0]["mention_id"]
    assert runner.invoke(cli, ["claims", "pin", str(a), str(keep), "--db", db]).exit_code == 0
    before = memberships(store)
    assert run_sources(sources, store).ok
    rebuild_claims(store, now=_now())
    after = memberships(store)
    assert (split_off, new_claim) in after and (keep, a) in after
    assert {(m, c) for m, c in before if c in (a, new_claim)} <= after
    detail = store.claim_detail(a)
    assert detail.pinned_mention_id == keep
    assert detail.text == next(m.text for m in detail.members if m.mention_id == keep)
    assert store.claim_detail(b).status == "merged"
    text = runner.invoke(cli, ["claims", "show", str(a), "--db", db]).output
    assert "editor-" in text and "mention" in text


def test_bad_override_is_a_clear_error(demo_store, tmp_path):
    store, sources = demo_store
    assert run_sources(sources[:1], store).ok
    db = str(tmp_path / "demo.sqlite")
    result = CliRunner().invoke(cli, ["claims", "merge", "1", "999999", "--db", db])
    assert result.exit_code == 1 and "999999" in result.output
    result = CliRunner().invoke(cli, ["claims", "show", "999999", "--db", db])
    assert result.exit_code == 1 and "no claim 999999" in result.output


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
