"""`syndicate claims review` on a real SQLite database filled by a real run over the bundled
demo sites (real HTTP on loopback).

The sentence model is replaced by a character-trigram hashing embedder during the run (no
model load: a fast test); the run caches those vectors in the database, so the review
(in-process, and as a real subprocess fed on stdin) finds every vector there and encodes
nothing.

Covers: JSON batch mode (pair questions by default, group questions with --groups, each
sentence under its own partner, answers read back from a file and from stdin, "same"
subsets, stale, unknown and refused answers reported and not recorded), the interactive mode, answers recorded as
decisions that a rebuild respects (a "no" keeps the candidate apart from everything merged
with the anchor), the model refitted, FAQ questions in the same queue, malformed answer
files (clear error, non-zero exit, no traceback), and an answer killed half-way (kill -9
inside its transaction leaves neither the answer nor its merge).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.demo import DEMO_SOURCES
from pipeline.clustering import rebuild_claims
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store

from fixtures.embedders import HashEmbedder


@pytest.fixture()
def demo_db(tmp_path, demo_server, monkeypatch):
    monkeypatch.setattr("pipeline.dedupe.embed._default", HashEmbedder())
    path = tmp_path / "review.sqlite"
    store = Store.open(f"sqlite:///{path}", create=True)
    assert run_sources(load_sources(DEMO_SOURCES), store).ok
    store.close()
    return str(path)


def _review(db, *args, input=None):
    return CliRunner().invoke(cli, ["claims", "review", "--db", db, *args], input=input)


def _members(store):
    out: dict[int, set[int]] = {}
    for m in store.export_mentions():
        if m["kind"] == "claim" and m["claim_id"] is not None:
            out.setdefault(m["claim_id"], set()).add(m["mention_id"])
    return out


def _mentions(side) -> set[int]:
    return {s["mention_id"] for s in side["sentences"]}


def test_json_batch_questions_and_answers(demo_db, tmp_path):
    pairs = _review(demo_db, "--json", "--kind", "claims", "--limit", "6")
    assert pairs.exit_code == 0, pairs.output
    assert [q["items"] for q in json.loads(pairs.output)["questions"]] == [1] * 6  # pair questions by default
    first = _review(demo_db, "--json", "--kind", "claims", "--limit", "6", "--groups")
    assert first.exit_code == 0, first.output
    questions = json.loads(first.output)["questions"]
    assert len(questions) == 6
    assert any(q["items"] > 1 for q in questions), "--groups: the demo's first questions hold a group"
    store = Store.open(demo_db)
    site_of = {m["mention_id"]: m["site"] for m in store.export_mentions()}
    names = store.source_names()
    sides = [side["id"] for q in questions for side in (q["anchor"], *q["candidates"])]
    assert len(sides) == len(set(sides)), "a claim appears in two questions of one batch"
    for q in questions:
        assert q["kind"] == "claim" and q["items"] == len(q["candidates"]) >= 1
        for c in q["candidates"]:
            assert 0 < c["p_same"] < 1 and c["pairs"] >= 1
        for side in (q["anchor"], *q["candidates"]):
            for s in side["sentences"]:  # each sentence under its own partner's name
                assert site_of[s["mention_id"]] == s["site"]
                assert s["partner"] == names[s["site"]]
    gains = [q["gain"] for q in questions]
    assert gains == sorted(gains, reverse=True)
    yes_q, no_q = questions[0], questions[1]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{"id": yes_q["id"], "same": [yes_q["candidates"][0]["id"]]},
                                   {"id": no_q["id"], "answer": "no"},
                                   {"id": "claim:1:2:0000000000", "answer": "yes"},  # stale
                                   {"id": no_q["id"], "answer": "maybe"}]))
    second = _review(demo_db, "--json", "--kind", "claims", "--answers", str(answers))
    assert second.exit_code == 1  # two answers could not be applied; the others were
    out = json.loads(second.output)
    assert [a["answer"] for a in out["applied"]] == ["yes", "no"]
    assert len(out["errors"]) == 2
    keep = out["applied"][0]["merged_into"]
    first_candidate = yes_q["candidates"][0]
    assert keep == min(yes_q["anchor"]["id"], first_candidate["id"])
    merged = _mentions(yes_q["anchor"]) | _mentions(first_candidate)
    members = _members(store)
    assert members[keep] == merged
    # the candidates not named in "same" were kept apart from the merged claim
    assert out["applied"][0]["kept_apart"] == sorted(c["id"] for c in yes_q["candidates"][1:])
    assert out["applied"][0]["items"] == yes_q["items"]
    apart = store.cannot_links()
    anchor = _mentions(no_q["anchor"])
    for c in no_q["candidates"]:
        assert (frozenset(anchor), frozenset(_mentions(c))) in apart
    for c in yes_q["candidates"][1:]:  # "no" to the anchor is "no" to all merged with it
        assert (frozenset(merged), frozenset(_mentions(c))) in apart
    assert store.pair_model("claim") is None  # too few answers for runs to use a model
    asked = {frozenset({q["anchor"]["id"], c["id"]}) for q in out["questions"] for c in q["candidates"]}
    for c in no_q["candidates"]:  # a "no" is never asked again
        assert frozenset({no_q["anchor"]["id"], c["id"]}) not in asked
    assert frozenset({yes_q["anchor"]["id"], first_candidate["id"]}) not in asked
    # the decisions hold through a full rebuild
    rebuild_claims(store, datetime.now(timezone.utc))
    after = _members(store)
    claim_of = {m: c for c, ms in after.items() for m in ms}
    assert len({claim_of[m] for m in merged}) == 1
    for c in no_q["candidates"]:
        assert not any(claim_of[a] == claim_of[b] for a in anchor for b in _mentions(c))
    # answers from stdin
    third_q = out["questions"][0]
    third = _review(demo_db, "--json", "--kind", "claims", "--answers", "-",
                    input=json.dumps({"id": third_q["id"], "answer": "s"}))
    assert third.exit_code == 0, third.output
    assert json.loads(third.output)["applied"][0]["answer"] == "skip"
    verdicts = [a.verdict for a in store.review_answers()]
    assert verdicts.count("skip") == third_q["items"]
    assert verdicts[: yes_q["items"] + no_q["items"]] == (
        ["yes"] + ["no"] * (yes_q["items"] - 1) + ["no"] * no_q["items"])
    store.close()


def test_refused_answers_are_not_recorded(demo_db):
    questions = json.loads(_review(demo_db, "--json", "--kind", "claims", "--limit", "2").output)["questions"]
    q = questions[0]
    other = questions[1]["anchor"]["id"]
    bad = [{"id": f"claim:{q['anchor']['id']}:{q['anchor']['id']}:0123456789", "answer": "yes"},  # self-pair
           {"id": q["id"], "same": [other]},  # not a candidate of this question
           {"id": q["id"], "not_claim": [10 ** 9]},  # not shown in it
           {"id": q["id"], "same": "all"},  # not a list of ids
           {"id": q["id"], "answer": "not-claim"}]  # which sentence?
    result = _review(demo_db, "--json", "--kind", "claims", "--answers", "-", input=json.dumps(bad))
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["applied"] == [] and len(out["errors"]) == len(bad)
    assert "itself" in out["errors"][0]["error"]
    store = Store.open(demo_db)
    assert store.review_answers() == []
    assert store.cannot_links() == []
    store.close()


@pytest.mark.parametrize("content, message", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"id": "claim:1:2:abc", "answer": "yes\xff\xfe"}', "not UTF-8"),
    (None, "no file at"),
    ("dir", "is a directory"),
], ids=["deeply-nested", "invalid-utf8", "missing-file", "directory"])
def test_malformed_answer_files_are_clear_errors(demo_db, tmp_path, content, message):
    path = tmp_path / "answers.json"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    env = {**os.environ, "SYNDICATE_DB": demo_db}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "claims", "review", "--json", "--answers",
                           str(path)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    store = Store.open(demo_db)
    assert store.review_answers() == []
    store.close()


_KILL_MIDWAY = textwrap.dedent("""
    import os, signal, sys
    from pipeline.store import Store

    original = getattr(Store, sys.argv[1])

    def then_die(self, *args, **kwargs):  # the effect is written, the transaction not committed
        original(self, *args, **kwargs)
        with self.session() as s:
            s.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(Store, sys.argv[1], then_die)
    from pipeline.cli import cli
    cli(sys.argv[2:])
""")


@pytest.mark.parametrize("verdict, effect", [("yes", "merge_claims"), ("no", "add_cannot_link"),
                                             ("not-claim", "hide_mentions")])
def test_kill_during_an_answer_leaves_neither_the_answer_nor_its_effect(demo_db, verdict, effect):
    """kill -9 in the middle of applying an answer (after the answer rows and the effect
    were written inside its transaction, before the commit): the database has neither,
    and the question is asked again."""
    store = Store.open(demo_db)
    before_members, before_apart = _members(store), store.cannot_links()
    store.close()
    q = json.loads(_review(demo_db, "--json", "--kind", "claims", "--limit", "1").output)["questions"][0]
    if verdict == "yes":
        answer = {"id": q["id"], "same": [q["candidates"][0]["id"]]}
    elif verdict == "no":
        answer = {"id": q["id"], "answer": "no"}
    else:
        answer = {"id": q["id"], "answer": "not-claim", "not_claim": sorted(_mentions(q["candidates"][0]))}
    env = {**os.environ, "SYNDICATE_DB": demo_db}
    proc = subprocess.run([sys.executable, "-c", _KILL_MIDWAY, effect, "claims", "review", "--json",
                           "--kind", "claims", "--answers", "-"], input=json.dumps(answer),
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == -9, (proc.stdout, proc.stderr)
    store = Store.open(demo_db)
    assert store.review_answers() == []
    assert _members(store) == before_members
    assert store.cannot_links() == before_apart
    assert store.hidden_mentions() == []
    store.close()
    again = json.loads(_review(demo_db, "--json", "--kind", "claims", "--limit", "1").output)["questions"][0]
    assert again["id"] == q["id"]
    # and the same answer, not killed, is applied whole
    done = _review(demo_db, "--json", "--kind", "claims", "--answers", "-", input=json.dumps(answer))
    assert done.exit_code == 0, done.output
    store = Store.open(demo_db)
    assert len(store.review_answers()) >= 1
    store.close()


def test_faq_questions_go_through_the_same_queue(demo_db):
    result = _review(demo_db, "--json", "--kind", "faq", "--limit", "3")
    assert result.exit_code == 0, result.output
    questions = json.loads(result.output)["questions"]
    assert questions and all(q["kind"] == "faq" for q in questions)
    q = questions[0]
    assert all(s["text"].endswith("?") for side in (q["anchor"], *q["candidates"]) for s in side["sentences"])
    done = _review(demo_db, "--json", "--kind", "faq", "--answers", "-",
                   input=json.dumps([{"id": q["id"], "answer": "yes"}]))
    assert done.exit_code == 0, done.output
    keep = json.loads(done.output)["applied"][0]["merged_into"]
    store = Store.open(demo_db)
    entries = set().union(*(_mentions(side) for side in (q["anchor"], *q["candidates"])))
    fixed = store.fixed_faq_memberships()
    assert {e: keep for e in entries} == {e: fixed[e] for e in entries}
    # "not a claim" is for claim sentences only
    nxt = json.loads(done.output)["questions"]
    if nxt:
        refused = _review(demo_db, "--json", "--kind", "faq", "--answers", "-", input=json.dumps(
            {"id": nxt[0]["id"], "answer": "x", "not_claim": sorted(_mentions(nxt[0]["anchor"]))}))
        assert refused.exit_code == 1 and "only claim sentences" in refused.output
    store.close()


def test_interactive_review_in_a_terminal_session(demo_db):
    """A real process reading its answers from stdin: yes, an invalid line, no, then quit."""
    env = {**os.environ, "SYNDICATE_DB": demo_db}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "claims", "review", "--kind", "claims"],
                          input="y\nmaybe\nn\nq\n", capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("Question ") == 3
    assert "please answer as shown" in out
    assert "merged into claim" in out
    assert "2 answer(s):" in out and "0 hidden, 0 skipped" in out
    store = Store.open(demo_db)
    verdicts = [a.verdict for a in store.review_answers()]
    assert verdicts and set(verdicts) <= {"yes", "no"} and "yes" in verdicts and verdicts[-1] == "no"
    # every sentence shown under its own partner: "Partner Name (site):" then the sentence
    names = store.source_names()
    sites_of_text: dict[str, set[str]] = {}  # a syndicated sentence can be several partners' own
    for m in store.export_mentions():
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


def test_interactive_not_a_claim(demo_db):
    """x b (pair) or x 1 (group): the candidate's sentences are hidden, recorded with who."""
    env = {**os.environ, "SYNDICATE_DB": demo_db, "SYNDICATE_EDITOR": "Dana"}
    # asked in a process of its own like the session below, so both read the same encoder's
    # vectors (each encoder's are cached apart; this process's fixture uses a hash embedder)
    listed = subprocess.run([sys.executable, "-m", "pipeline.cli", "claims", "review", "--kind", "claims",
                             "--json", "--limit", "1"], capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0, listed.stderr
    q = json.loads(listed.stdout)["questions"][0]
    line = "x b\n" if q["items"] == 1 else "x 1\n"
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "claims", "review", "--kind", "claims"],
                          input=line + "q\n", capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "hidden as not a claim" in proc.stdout
    store = Store.open(demo_db)
    hidden = store.hidden_mentions()
    assert {h.mention_id for h in hidden} == _mentions(q["candidates"][0])
    assert all(h.decided_by == "Dana" and h.origin == "review" for h in hidden)
    # in a group question the candidates not named say something else than A
    assert [a.verdict for a in store.review_answers()] == ["no"] * (q["items"] - 1) + ["not-claim"]
    store.close()


def test_answers_need_json_mode(demo_db, tmp_path):
    result = _review(demo_db, "--answers", str(tmp_path / "a.json"))
    assert result.exit_code == 2 and "--answers needs --json" in result.output
