"""The digest on the served partner sites (../shared/partners), weeks 1 and 2, through the CLI.

A Monday cron after week 1 publishes W47 (`--week last`): Archway's FAQ under "questions
answered", every claim stated by several partners with each partner's own sentence.
After the week-2 run, `--week last` is W48 and shows ALANA's revision of 25 November
(2022 -> 2023) under "what changed", dated by ALANA, not by when it was fetched; W47 does
not show it. The new claim's first_seen_at is when Syndicate stored it, its first_stated_at
the partner's date.
"""
from __future__ import annotations

import re

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from pipeline import cli as cli_module
from pipeline import core
from pipeline.publish import Week, build_digest
from pipeline.store import Store

UTC = timezone.utc
pytestmark = pytest.mark.slow  # four partner sites, two runs, the sentence model


def _cli(args):
    result = CliRunner().invoke(cli_module.cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _digest_last(monkeypatch, db_url, out, now):
    monkeypatch.setattr(core, "utcnow", lambda: now)  # the library API's clock
    _cli(["digest", "--db", db_url, "--out", str(out)])
    week = Week.parse("last", now=now)
    return week, json.loads((out / f"digest-{week}.json").read_text("utf-8"))


def test_partner_weeks_one_and_two(partner_sites, tmp_path, db_url, monkeypatch):
    sources = partner_sites.write_sources(tmp_path / "sources")
    _cli(["run", "--sources", str(sources), "--db", db_url, "--quiet"])
    out = tmp_path / "digest"

    # --- Monday 23 November: the week of the four articles ---------------------------------------
    week, sent = _digest_last(monkeypatch, db_url, out, datetime(2026, 11, 23, 6, tzinfo=UTC))
    assert str(week) == "2026-W47"
    archway_answers = [a for q in sent["questions"] for a in q["answers"] if a["source"]["site"] == "archway"]
    assert archway_answers, "Archway's FAQ is not under questions answered"
    assert all(a["source"]["url"].startswith(partner_sites.base("archway")) for a in archway_answers)
    assert {p["site"] for p in sent["partners"]} >= {"archway", "omnia", "alana", "civiq"}

    store = Store.open(db_url)
    full = build_digest(store.digest_week(week.start, week.end), week)
    mentions = [json.loads(line) for line in _cli(["export", "mentions", "--db", db_url]).splitlines()]
    own = {}
    for m in mentions:
        if m["claim_id"] is not None:
            own.setdefault((m["claim_id"], m["site"]), set()).add(m["display"])
    assert full.merged, "no claim stated by several partners"
    for claim in full.merged:
        assert len({s.source.site for s in claim.statements}) == len(claim.statements) >= 2
        for s in claim.statements:
            assert s.text in own[(claim.claim_id, s.source.site)], (claim.claim_id, s.source.site, s.text)
            assert s.source.url.startswith(partner_sites.base(s.source.site))
    # the page as sent quotes the first merged claims the same way
    html = (out / "digest-2026-W47.html").read_text("utf-8")
    for claim in sent["merged"]:
        for s in claim["statements"]:
            assert f'data-item="{claim["id"]}/{s["source"]["site"]}"' in html
    assert not [c for c in sent["changed"] if c["source"]["site"] == "alana"]

    # --- week 2: ALANA revised its post on 25 November ---------------------------------------------
    partner_sites.week(2)
    _cli(["run", "--sources", str(sources), "--db", db_url, "--quiet"])
    week, sent = _digest_last(monkeypatch, db_url, out, datetime(2026, 11, 30, 6, tzinfo=UTC))
    assert str(week) == "2026-W48"
    (change,) = [c for c in sent["changed"] if c["source"]["site"] == "alana"]
    assert change["date"].startswith("2026-11-25") and change["date_source"] == "updated"
    assert any("2023" in t and "6,000" in t for t in change["added"])
    assert any("2022" in t and "6,000" in t and "2023" not in t for t in change["removed"])
    assert not any("admissions team" in t for t in change["added"])  # promotion is not a change worth a line
    html = (out / "digest-2026-W48.html").read_text("utf-8")
    assert "What changed" in html and "updated 2026-11-25" in re.sub(r"<[^>]+>", "", html)
    assert not sent["topics"]  # the added sentence is under "what changed", not listed twice
    # the new claim: stored now, stated by ALANA on the 25th
    data = store.digest_week(week.start, week.end)
    (new_claim,) = [c for c in data.claims if any("2023" in s.text for s in c.statements)]
    assert new_claim.first_stated_at == datetime(2026, 11, 25, 14, tzinfo=UTC)
    stored_at = new_claim.first_seen_at  # when this test stored it, not the partner's date
    assert abs((stored_at - datetime.now(UTC)).total_seconds()) < 600
    # only the sentence ALANA added on the 25th is a claim stated in W48 ...
    def w48_claim_texts():
        claims = store.digest_week(week.start, week.end).claims
        return [st.text for c in claims for st in c.statements if week.start <= st.stated_at < week.end]
    assert w48_claim_texts() and all("2023" in t for t in w48_claim_texts())
    # ... also after the claims are rebuilt from scratch (new claim ids for the same sentences)
    _cli(["claims", "rebuild", "--db", db_url])
    assert w48_claim_texts() and all("2023" in t for t in w48_claim_texts())
    # W47 again: the revision is not in it, and both weeks are in the archive and feed
    _cli(["digest", "--db", db_url, "--out", str(out), "--week", "2026-W47"])
    w47 = json.loads((out / "digest-2026-W47.json").read_text("utf-8"))
    assert not w47["changed"]
    feed = (out / "feed.atom").read_text("utf-8")
    assert feed.count("<entry>") == 2
