"""Conflicting figures through the real store and CLI (issue 8, item 6; issue 16): two articles
give different durations for one thing; they are one claim (the annotation rule of the
claims golds: the same proposition with other figures is one claim whose conflict is
flagged, so another figure no longer vetoes a merge), and `claims show` and `export claims`
flag the conflict, with the canonical text's own site. A tiny blog of our own words over
real HTTP, a real SQLite file.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.demo import StaticSiteServer
from pipeline.orchestrator import run_sources
from pipeline.store import Store
from pipeline.types import Source

from test_claims_store import write_blog

pytestmark = pytest.mark.slow  # loads the sentence model

POSTS = {
    "caffeine": ("Caffeine", ["Headaches from stopping coffee usually fade within two days.",
                              "Tea contains less caffeine than filter coffee."]),
    "quitting": ("Quitting coffee", ["Headaches from stopping coffee usually fade within a week.",
                                     "Decaf still contains a little caffeine."]),
}


def test_merged_claim_with_other_durations_is_flagged(tmp_path):
    write_blog(tmp_path, POSTS)
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store.open(db)
    with StaticSiteServer(tmp_path) as server:
        src = [Source(id="fernhill", name="Fernhill Notes", homepage=f"{server.base}/fernhill/",
                      feeds=(f"{server.base}/fernhill/feed/",))]
        assert run_sources(src, store).ok
    claim_of = {r["text"]: r["claim_id"] for r in store.export_mentions()}
    two = claim_of["Headaches from stopping coffee usually fade within two days."]
    assert two == claim_of["Headaches from stopping coffee usually fade within a week."]  # one claim
    assert {r["claim_id"]: r for r in store.export_claims()}[two]["canonical_site"] == "fernhill"
    store.close()

    runner = CliRunner()
    shown = runner.invoke(cli, ["claims", "show", str(two), "--db", db])
    assert "CONFLICT (duration)" in shown.output and "two days" in shown.output and "a week" in shown.output
    assert "[fernhill]" in shown.output
    exported = [json.loads(line) for line in runner.invoke(cli, ["export", "claims", "--db", db]).output.splitlines()]
    (claim,) = [c for c in exported if c["claim_id"] == two]
    assert [c["kind"] for c in claim["conflicts"]] == ["duration"]
    assert {s["figure"] for s in claim["conflicts"][0]["statements"]} == {"two days", "a week"}
