"""Editor decisions through the library API (issue 19), on a database built from the demo
sites over real HTTP: topic renames and merges kept for later weeks, the week's note in
every format, splits, pins and review answers undone exactly, undo refused while a later
decision built on the same claims, and every send of a week recorded (a second one needs
an override)."""
from __future__ import annotations

import shutil

import httpx

import pytest

from fixtures.demo_db import NOW, WEEK, build_demo_db, build_demo_into
from fixtures.desk_server import DeskServer, free_port
from fixtures.embedders import HashEmbedder
from pipeline import Syndicate
from pipeline.core import RunEvents
from pipeline.desk import DeskSettings
from pipeline.errors import AlreadySent, ConfigError, StoreError
from pipeline.publish.topics import OTHER, apply_renames


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo-db") / "built.sqlite"
    build_demo_db(path)
    return path


@pytest.fixture()
def syn(built, tmp_path):
    path = tmp_path / "syndicate.sqlite"
    shutil.copy(built, path)
    with Syndicate(f"sqlite:///{path}", embedder=HashEmbedder(), now=lambda: NOW) as s:
        yield s


def test_apply_renames_follows_chains_and_merges_by_label():
    topics = [("Nights", [1, 2]), ("Sleep", [3]), ("Doctor", [4, 5]), (OTHER, [6])]
    out = apply_renames(topics, [("nights", "Sleep"), ("Doctor", "Medical help"), ("medical help", "Care")])
    assert out == [("Sleep", [1, 2, 3]), ("Care", [4, 5]), (OTHER, [6])]
    assert apply_renames(topics, [("Doctor", OTHER)])[-1] == (OTHER, [4, 5, 6])


def test_topic_rename_and_merge_are_kept_and_undone(syn):
    labels = syn.topic_labels(WEEK)
    assert len(labels) >= 3
    first, second = labels[0], labels[1]
    d1 = syn.rename_topic(WEEK, first, "Editor's label", by="ann")
    assert d1.action == "topic-rename" and d1.decided_by == "ann" and d1.week == WEEK
    assert "Editor's label" in syn.topic_labels(WEEK) and first not in syn.topic_labels(WEEK)
    d2 = syn.merge_topics(WEEK, second, "Editor's label", by="ann")
    assert d2.action == "topic-merge" and second not in syn.topic_labels(WEEK)
    # kept for later weeks: the rows of any week carry the renames in force
    assert [(r.label, r.shown_as) for r in syn.digest_week("2026-W48").topic_renames] == \
        [(first, "Editor's label"), (second, "Editor's label")]
    with pytest.raises(ConfigError):
        syn.rename_topic(WEEK, "no such topic", "x", by="ann")
    with pytest.raises(ConfigError):
        syn.rename_topic(WEEK, "Editor's label", "   ", by="ann")
    syn.undo(d2.id, by="bo")
    assert second in syn.topic_labels(WEEK)
    undone = next(d for d in syn.decisions(week=WEEK) if d.id == d2.id)
    assert undone.undone_by == "bo" and undone.undone_at is not None and not undone.undoable
    with pytest.raises(StoreError):
        syn.undo(d2.id, by="bo")


def test_week_note_in_every_format_and_undo_restores_the_last(syn, tmp_path):
    syn.set_week_note(WEEK, "First note.", by="ann")
    d = syn.set_week_note(WEEK, "Welcome <b>back</b>.\n\nSecond paragraph.", by="ann")
    result = syn.digest(WEEK, out=tmp_path / "out")
    assert "Welcome &lt;b&gt;back&lt;/b&gt;." in result.texts["html"] and "<b>back" not in result.texts["html"]
    assert "FROM THE EDITOR" in result.texts["txt"] and "Second paragraph." in result.texts["txt"]
    assert "## From the editor" in result.texts["md"] and "\\<b\\>" in result.texts["md"]
    assert result.digest.note.startswith("Welcome")
    syn.undo(d.id, by="ann")
    assert syn.digest(WEEK).digest.note == "First note."


def test_split_pin_and_undo_put_the_claims_back(syn):
    merged = syn.digest(WEEK).full.merged
    claim = next(c for c in merged if len(c.statements) >= 2)
    before = syn.get_claim(claim.claim_id)
    lead = claim.statements[-1]
    pin = syn.pin_claim(claim.claim_id, lead.mention_id, by="ann", week=WEEK)
    assert pin.pinned_mention_id == lead.mention_id
    again = next(c for c in syn.digest(WEEK).full.merged if c.claim_id == claim.claim_id)
    assert again.statements[0].mention_id == lead.mention_id  # the chosen wording leads
    off = claim.statements[0].mention_id
    new = syn.split_claim(claim.claim_id, [off], by="ann", week=WEEK)
    assert [m.mention_id for m in new.members] == [off]
    decisions = syn.decisions(week=WEEK)
    split_d, pin_d = decisions[0], decisions[1]
    assert (split_d.action, pin_d.action) == ("split", "pin")
    assert not pin_d.undoable  # the split changed the same claim after it
    with pytest.raises(StoreError, match=f"undo decision {split_d.id} first"):
        syn.undo(pin_d.id, by="ann")
    syn.undo(split_d.id, by="ann")
    assert syn.get_claim(new.claim_id).status == "retired"
    syn.undo(pin_d.id, by="ann")
    after = syn.get_claim(claim.claim_id)
    assert after.pinned_mention_id == before.pinned_mention_id
    assert sorted((m.mention_id, m.method) for m in after.members) == \
        sorted((m.mention_id, m.method) for m in before.members)


def _members(syn, claim_id):
    return {m.mention_id for m in syn.get_claim(claim_id).members}


def test_review_answers_are_recorded_and_undone_exactly(syn):
    store = syn.store()
    review = syn.review(("claim",))
    q = review.questions(1)[0]
    answers_before, overrides_before = len(store.review_answers()), len(store.cannot_links())
    done = review.answer(q.id, "no", by="ann")
    # one answer row and one cannot-link per candidate judged (a group question has several)
    assert len(store.review_answers()) == answers_before + q.items
    assert len(store.cannot_links()) == overrides_before + q.items
    syn.undo(done.decision_id, by="ann")
    assert len(store.review_answers()) == answers_before and len(store.cannot_links()) == overrides_before
    review.reload()
    q2 = review.questions(1)[0]
    sides = {q2.anchor.id: {s.mention_id for s in q2.anchor.sentences},
             **{c.id: {s.mention_id for s in c.sentences} for c in q2.candidates}}
    done = review.answer(q2.id, "yes", by="ann")
    assert done.merged_into is not None and set(done.merged) | {q2.anchor.id} >= set(sides) - {done.merged_into}
    others = set(sides) - {done.merged_into}
    assert all(syn.get_claim(o).status == "merged" for o in others)
    syn.undo(done.decision_id, by="ann")
    for cid, mentions in sides.items():
        assert syn.get_claim(cid).status == "active" and _members(syn, cid) == mentions
    progress = review.progress()
    assert progress.answered == 2 and progress.left >= 1 and progress.next_gain is not None


def test_not_a_claim_in_the_review_and_on_the_week_are_undone(syn):
    review = syn.review(("claim",))
    q = review.questions(1)[0]
    side = q.anchor  # the anchor is not a claim: no candidate is judged against it
    shown = {s.mention_id for s in side.sentences}
    candidates_before = {c.id: _members(syn, c.id) for c in q.candidates}
    done = review.answer(q.id, "not-claim", hidden=shown, by="ann")
    assert done.verdict == "not-claim" and set(done.hidden) >= shown and not done.kept_apart
    assert {h.mention_id for h in syn.hidden_mentions()} >= shown
    assert {cid: _members(syn, cid) for cid in candidates_before} == candidates_before
    decision = syn.decisions(limit=1)[0]
    assert decision.action == "review" and decision.details["hidden"] == list(done.hidden)
    syn.undo(done.decision_id, by="bo")
    assert not {h.mention_id for h in syn.hidden_mentions()} & shown
    assert syn.get_claim(side.id).status == "active" and _members(syn, side.id) == shown
    # "not a claim" on the week's page: a decision on the week, with who, that undo reverses
    claim = next(c for c in syn.digest(WEEK).full.merged if len(c.statements) >= 2)
    before = _members(syn, claim.claim_id)
    target = claim.statements[-1].mention_id
    hidden = syn.hide_mentions([target], mentions=True, by="ann", week=WEEK)
    assert target in hidden and target not in _members(syn, claim.claim_id)
    site, text = claim.statements[-1].source.site, claim.statements[-1].text
    assert all((s.source.site, s.text) != (site, text) for c in syn.digest(WEEK).full.merged for s in c.statements)
    d = syn.decisions(week=WEEK)[0]
    assert (d.action, d.decided_by, d.week) == ("hide", "ann", WEEK) and d.undoable
    syn.undo(d.id, by="ann")
    assert _members(syn, claim.claim_id) == before
    assert not {h.mention_id for h in syn.hidden_mentions()} & set(hidden)


def test_a_sent_week_needs_an_override(syn, tmp_path):
    store = syn.store()
    store.record_send(WEEK, ["ed@example.org"], status="failed", error="no route", by="ann", now=NOW)
    syn._refuse_resend(syn.week(WEEK))  # a failed send does not count
    store.record_send(WEEK, ["ed@example.org"], status="sent", by="ann", now=NOW)
    with pytest.raises(AlreadySent, match="already sent"):
        syn.digest(WEEK, out=tmp_path / "out", email_to=["ed@example.org"], smtp_url="smtp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()  # refused before anything is written
    preview = syn.email_preview(WEEK, email_to=["ed@example.org"])
    assert preview.sent is not None and preview.subject == f"Partner digest, week {WEEK}"
    assert preview.digest.items() and all(i.url in preview.text for i in preview.digest.items())


def test_decisions_and_the_desk_on_postgresql(pg_url):
    """The same API and the desk's pages on PostgreSQL: an answer with a sentence that is
    not a claim, undone; a topic rename, the week's note, a send recorded."""
    build_demo_into(pg_url)
    with Syndicate(pg_url, embedder=HashEmbedder(), now=lambda: NOW) as syn:
        review = syn.review(("claim",), editor="ann")
        q = review.questions(1)[0]
        shown = {s.mention_id for s in q.anchor.sentences}
        done = review.answer(q.id, "not-claim", hidden=shown)
        assert {h.mention_id for h in syn.hidden_mentions()} >= shown
        assert syn.decisions(limit=1)[0].decided_by == "ann"
        syn.undo(done.decision_id, by="ann")
        assert not syn.hidden_mentions() and {m.mention_id for m in syn.get_claim(q.anchor.id).members} == shown
        label = syn.topic_labels(WEEK)[0]
        syn.rename_topic(WEEK, label, "Renamed on PostgreSQL", by="ann")
        syn.set_week_note(WEEK, "A note kept on PostgreSQL.", by="ann")
        syn.store().record_send(WEEK, ["ed@example.org"], status="sent", by="ann", now=NOW)
        with DeskServer(syn, DeskSettings(port=free_port(), editor="Ada", week=WEEK)) as server, \
                httpx.Client(follow_redirects=False) as client:
            pages = {path: client.get(server.base + path) for path in
                     (f"/week/{WEEK}", f"/week/{WEEK}/email.txt", "/review", f"/send/{WEEK}", "/history", "/health")}
        assert {path: r.status_code for path, r in pages.items()} == dict.fromkeys(pages, 200)
        assert "Renamed on PostgreSQL" in pages[f"/week/{WEEK}/email.txt"].text
        assert "A note kept on PostgreSQL." in pages[f"/week/{WEEK}/email.txt"].text
        assert "Which of these" in pages["/review"].text or "Do these two" in pages["/review"].text
        assert "ed@example.org" in pages["/history"].text


def test_a_second_scheduled_job_on_a_sent_week_writes_the_digest_and_mails_nothing(tmp_path, monkeypatch):
    """The scheduler's job on a week already sent: the digest is written, the email is not
    sent again (the SMTP address is a closed port: trying would fail the job)."""
    from pipeline.demo import DEMO_SITES, DEMO_SOURCES, StaticSiteServer

    with StaticSiteServer(DEMO_SITES) as server:
        monkeypatch.setenv("SYNDICATE_DEMO_BASE", server.base)
        with Syndicate(tmp_path / "s.sqlite", DEMO_SOURCES, embedder=HashEmbedder(), now=lambda: NOW) as syn:
            syn.store(create=True).record_send(WEEK, ["ed@example.org"], status="sent", by="ann", now=NOW)
            said: list[str] = []

            class Notes(RunEvents):
                def note(self, message: str) -> None:
                    said.append(message)
            result = syn.scheduled(week=WEEK, out=tmp_path / "out", email_to=["ed@example.org"],
                                   smtp_url="smtp://127.0.0.1:9", events=Notes())
    assert result.outcome == "ok" and result.digest is not None and result.digest.email is None
    assert (tmp_path / "out" / f"digest-{WEEK}.html").is_file()
    assert any("not emailed" in x and "already sent" in x for x in said)
    assert [s.status for s in Syndicate(tmp_path / "s.sqlite").sends(WEEK)] == ["sent"]
