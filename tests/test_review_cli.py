"""`syndicate claims review` on a real SQLite database filled by a real run over the bundled
demo sites (real HTTP on loopback).

The sentence model is replaced by a character-trigram hashing embedder during the run (no
model load: a fast test); the run caches those vectors in the database, so the review
(in-process, and as a real subprocess fed on stdin) finds every vector there and encodes
nothing.

Covers: JSON batch mode (questions with each sentence under its own partner, answers read
back from a file and from stdin, stale and unknown answers reported), the interactive
mode, answers recorded as decisions that a rebuild respects, the model refitted and stored,
FAQ questions in the same queue.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.demo import DEMO_SOURCES
from pipeline.clustering import rebuild_claims
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store

from test_dedupe import HashEmbedder  # tests/ is on sys.path (rootdir conftest)


@pytest.fixture()
def demo_db(tmp_path, demo_server, monkeypatch):
    monkeypatch.setattr("pipeline.dedupe.embed._default", HashEmbedder())
    path = tmp_path / "review.sqlite"
    store = Store.open(f"sqlite:///{path}", create=True)
    assert run_sources(load_sources(DEMO_SOURCES), store).ok
    store.close()
    return str(path)


def _review(db, *args, input=None):
    result = CliRunner().invoke(cli, ["claims", "review", "--db", db, *args], input=input)
    return result


def _members(store):
    out: dict[int, set[int]] = {}
    for m in store.export_mentions():
        if m["kind"] == "claim":
            out.setdefault(m["claim_id"], set()).add(m["mention_id"])
    return out


def test_json_batch_questions_and_answers(demo_db, tmp_path):
    first = _review(demo_db, "--json", "--limit", "6")
    assert first.exit_code == 0, first.output
    questions = json.loads(first.output)["questions"]
    assert len(questions) == 6
    store = Store.open(demo_db)
    site_of = {m["mention_id"]: m["site"] for m in store.export_mentions()}
    names = store.source_names()
    sides = [q[s]["id"] for q in questions for s in ("left", "right") if q["kind"] == "claim"]
    assert len(sides) == len(set(sides)), "a claim appears in two questions of one batch"
    for q in questions:
        assert q["kind"] in ("claim", "faq") and 0 < q["p_same"] < 1 and q["pairs"] >= 1
        for side in (q["left"], q["right"]):
            for s in side["sentences"]:  # each sentence under its own partner's name
                if q["kind"] == "claim":
                    assert site_of[s["mention_id"]] == s["site"]
                assert s["partner"] == names[s["site"]]
    gains = [q["p_same"] for q in questions]
    assert max(gains) > 0.0
    claim_qs = [q for q in questions if q["kind"] == "claim"]
    yes_q, no_q = claim_qs[0], claim_qs[1]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{"id": yes_q["id"], "answer": "yes"}, {"id": no_q["id"], "answer": "no"},
                                   {"id": "claim:1:2:0000000000", "answer": "yes"},
                                   {"id": no_q["id"], "answer": "maybe"}]))
    second = _review(demo_db, "--json", "--answers", str(answers))
    assert second.exit_code == 1  # two answers could not be applied; the others were
    out = json.loads(second.output)
    assert [a["answer"] for a in out["applied"]] == ["yes", "no"]
    assert len(out["errors"]) == 2
    keep = out["applied"][0]["merged_into"]
    assert keep == min(yes_q["left"]["id"], yes_q["right"]["id"])
    merged = {s["mention_id"] for side in ("left", "right") for s in yes_q[side]["sentences"]}
    members = _members(store)
    assert members[keep] == merged
    left = {s["mention_id"] for s in no_q["left"]["sentences"]}
    right = {s["mention_id"] for s in no_q["right"]["sentences"]}
    assert (frozenset(left), frozenset(right)) in store.cannot_links()
    assert store.pair_model("claim") is None  # two answers are too few for runs to use a model
    for q in out["questions"]:  # neither answered question comes back
        assert q["id"] not in (yes_q["id"], no_q["id"])
        if q["kind"] == "claim":
            ids = {q["left"]["id"], q["right"]["id"]}
            assert ids != {no_q["left"]["id"], no_q["right"]["id"]}
    # the decisions hold through a full rebuild
    rebuild_claims(store, datetime.now(timezone.utc))
    after = _members(store)
    claim_of = {m: c for c, ms in after.items() for m in ms}
    assert len({claim_of[m] for m in merged}) == 1
    assert not any(claim_of[a] == claim_of[b] for a in left for b in right)
    # answers from stdin
    third_q = next(q for q in out["questions"])
    third = _review(demo_db, "--json", "--answers", "-", input=json.dumps({"id": third_q["id"], "answer": "s"}))
    assert third.exit_code == 0, third.output
    assert json.loads(third.output)["applied"] == [{"id": third_q["id"], "answer": "skip", "merged_into": None}]
    assert [a.verdict for a in store.review_answers()] == ["yes", "no", "skip"]
    store.close()


def test_faq_questions_go_through_the_same_queue(demo_db):
    result = _review(demo_db, "--json", "--kind", "faq", "--limit", "3")
    assert result.exit_code == 0, result.output
    questions = json.loads(result.output)["questions"]
    assert questions and all(q["kind"] == "faq" for q in questions)
    q = questions[0]
    assert all(s["text"].endswith("?") for side in ("left", "right") for s in q[side]["sentences"])
    done = _review(demo_db, "--json", "--kind", "faq", "--answers", "-",
                   input=json.dumps([{"id": q["id"], "answer": "yes"}]))
    assert done.exit_code == 0, done.output
    keep = json.loads(done.output)["applied"][0]["merged_into"]
    store = Store.open(demo_db)
    entries = {s["mention_id"] for side in ("left", "right") for s in q[side]["sentences"]}
    fixed = store.fixed_faq_memberships()
    assert {e: keep for e in entries} == {e: fixed[e] for e in entries}
    store.close()


def test_interactive_review_in_a_terminal_session(demo_db):
    """A real process reading its answers from stdin: yes, an invalid line, no, then quit."""
    env = {**os.environ, "SYNDICATE_DB": demo_db}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "claims", "review", "--kind", "claims"],
                          input="y\nmaybe\nn\nq\n", capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("Do these two claims say the same thing?") == 3
    assert "please answer y, n, s or q" in out
    assert "merged into claim" in out
    assert "2 answer(s): 1 merged, 1 kept apart, 0 skipped" in out
    store = Store.open(demo_db)
    assert [a.verdict for a in store.review_answers()] == ["yes", "no"]
    # every sentence shown under its own partner: "Partner Name (site):" then the sentence
    names = store.source_names()
    sites_of_text: dict[str, set[str]] = {}  # a syndicated sentence can be several partners' own
    for m in store.export_mentions():
        if m["kind"] == "claim":
            sites_of_text.setdefault(m["text"], set()).add(m["site"])
    lines = out.splitlines()
    shown = 0
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith("\u201c") and text.endswith("\u201d") and text[1:-1] in sites_of_text:
            assert lines[i - 1].strip() in {f"{names[site]} ({site}):" for site in sites_of_text[text[1:-1]]}
            shown += 1
    assert shown >= 6
    store.close()


def test_answers_need_json_mode(demo_db, tmp_path):
    result = _review(demo_db, "--answers", str(tmp_path / "a.json"))
    assert result.exit_code == 2 and "--answers needs --json" in result.output
