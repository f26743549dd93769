"""The library API (`pipeline.core.Syndicate`) owns the rules, whoever calls: the run lock
(a second writer is refused, naming the holder), the stop (a run stopped from another
thread stores what it fetched and is recorded interrupted), the order of steps (what an
interrupted run left is clustered before a digest), and typed results. Real HTTP on
loopback (the demo's sample sites), a real SQLite file; the sentence model is replaced by a
small hashing embedder (tests/fixtures/embedders.py), which these rules do not depend on."""
from __future__ import annotations

import dataclasses

import pytest

from pipeline import RunEvents, Syndicate
from pipeline.demo import DEMO_SOURCES
from pipeline.errors import ClaimNotFound, ConfigError, Interrupted, LockHeld, MissingDatabase, StoreError
from pipeline.types import ClaimDetail, RunResult, SourceHealth

from fixtures.embedders import HashEmbedder


@pytest.fixture()
def syn(tmp_path, demo_server):
    with Syndicate(tmp_path / "s.sqlite", DEMO_SOURCES, embedder=HashEmbedder()) as s:
        yield s


def test_a_run_returns_typed_results_and_reads_need_an_existing_database(syn, tmp_path):
    with pytest.raises(MissingDatabase):
        Syndicate(tmp_path / "typo.sqlite").source_health()
    assert not (tmp_path / "typo.sqlite").exists()
    result = syn.run()
    assert isinstance(result, RunResult) and result.ok and not result.failed
    assert [r.source_id for r in result.sources] == sorted(p.stem for p in DEMO_SOURCES.glob("*.toml"))
    assert result.requests > 0 and result.new_claims > 0 and result.summary()["sources_ok"] == len(result.sources)
    health = syn.source_health()
    assert all(isinstance(h, SourceHealth) and h.last_success and h.articles >= 1 for h in health)
    assert syn.counts().articles == sum(h.articles for h in health)
    (record,) = syn.runs()
    assert record.status == "ok" and record.summary["new_claims"] == result.new_claims
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.requests = 0  # type: ignore[misc]


def test_a_second_writer_is_refused_naming_the_holder(syn):
    syn.run()
    store = syn.store()
    with store.acquire_lock("someone else's run"):
        with pytest.raises(LockHeld, match="someone else's run"):
            syn.run()
        with pytest.raises(LockHeld):
            syn.rebuild_claims()
        claim = syn.list_claims()[0]
        with pytest.raises(LockHeld):
            syn.pin_claim(claim.claim_id)
        assert syn.get_claim(claim.claim_id).pinned_mention_id is None  # nothing was written
        assert len(syn.list_claims()) >= 1  # reads never need the lock
    assert syn.pin_claim(claim.claim_id).pinned_mention_id is not None  # free again


def test_stop_from_another_thread_interrupts_the_run_and_the_digest_clusters_what_it_left(syn):
    class StopAfterFirst(RunEvents):
        def source_done(self, result):
            syn.stop()  # as a web request or a signal handler would, while the run goes on

    result = syn.run(workers=1, events=StopAfterFirst())
    assert result.interrupted and result.unclustered > 0
    assert syn.runs()[0].status == "interrupted"
    assert syn.store().count_unclustered() == result.unclustered

    notes = []

    class Notes(RunEvents):
        def note(self, message):
            notes.append(message)

    syn.digest_week("2026-W47", events=Notes())
    assert syn.store().count_unclustered() == 0
    assert notes and "interrupted run left" in notes[0]
    assert syn.run().ok  # the next run carries on; stop() affected only the call it interrupted


def test_a_stop_while_waiting_for_the_lock_is_interrupted(syn):
    import threading
    syn.run()
    with syn.store().acquire_lock("a long rebuild"):
        stop = threading.Event()
        stop.set()
        with pytest.raises(Interrupted):
            syn.run(wait=True, stop=stop)


def test_claims_operations_return_typed_claims(syn):
    syn.run()
    merged = [c for c in syn.list_claims(min_partners=2)]
    assert merged and all(c.partners >= 2 and len(c.sites) == c.partners for c in merged)
    one = [c for c in syn.list_claims() if c.partners == 1][:2]
    keep, other = sorted(c.claim_id for c in one)
    detail = syn.merge_claims(keep, other)
    assert isinstance(detail, ClaimDetail) and detail.claim_id == keep
    assert {m.method for m in detail.members} == {"editor-merge"}
    assert syn.get_claim(other).status == "merged" and syn.get_claim(other).merged_into == keep
    moved = detail.members[0].mention_id
    new = syn.split_claim(keep, [moved])
    assert [m.mention_id for m in new.members] == [moved] and new.claim_id not in (keep, other)
    with pytest.raises(ClaimNotFound):
        syn.get_claim(10**9)
    with pytest.raises(StoreError):
        syn.merge_claims(keep, keep)
    assert syn.rebuild_claims() >= 0
    assert syn.get_claim(new.claim_id).members[0].mention_id == moved  # the override holds


def test_the_review_is_typed_and_answers_under_the_lock(syn):
    syn.run()
    review = syn.review(kinds=("claim",))
    questions = review.questions(2)
    assert questions and all(q.kind == "claim" and q.left.sentences and q.right.sentences for q in questions)
    q = questions[0]
    with syn.store().acquire_lock("a run"):
        with pytest.raises(LockHeld):
            review.answer(q.id, "no")
    done = review.answer(q.id, "yes")
    assert done.verdict == "yes" and done.merged_into == min(q.left.id, q.right.id)
    assert syn.get_claim(max(q.left.id, q.right.id)).status == "merged"


def test_the_registry_is_checked_before_anything_runs(tmp_path):
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "bad.toml").write_text('name = "No homepage"\n')
    syn = Syndicate(tmp_path / "s.sqlite", folder)
    with pytest.raises(ConfigError, match="no usable partner file"):
        syn.run()
    with pytest.raises(ConfigError, match="no such source"):
        Syndicate(tmp_path / "s.sqlite", DEMO_SOURCES).run(only=("nosuch",))
    assert not (tmp_path / "s.sqlite").exists()  # nothing was created


def test_extract_pages_without_a_database(tmp_path):
    from pipeline import extract_pages
    page = tmp_path / "p.html"
    page.write_text("<html><head><title>T</title></head><body><article><h1>T</h1><p>Sleep improves with "
                    "regular hours. Most people notice it within weeks.</p></article></body></html>")
    (ok, bad) = extract_pages([str(page), str(tmp_path / "missing.html")])
    assert ok.article is not None and "Sleep improves" in ok.article.text and ok.error is None
    assert bad.article is None and "missing.html" in bad.error
