""""Not a claim": `syndicate claims hide` / `unhide` and the store's hidden sentences, over a
real database filled by a real run of the bundled demo sites (real HTTP on loopback; the
sentence model replaced by a character-trigram hashing embedder, so no model loads).

Covers: a hidden sentence leaves its claim, the `claim_summary` view, claim exports and the
digest's data; the decision is stored with who and when and lists in
`Store.hidden_mentions()` (the label classifier's training data); a rebuild and a new
revision of the article respect it (the sentence arrives hidden); `unhide` undoes it and the
sentence joins a claim again, the hidden sentence's record and the `hide` editor decision
kept as undone (who, when; the desk's undo then refuses it); a decision partly unhidden stays
in force; hiding a claim id hides its members; errors are clear. The same on PostgreSQL.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core import Syndicate
from pipeline.errors import StoreError
from pipeline.demo import DEMO_SOURCES
from pipeline.clustering import rebuild_claims
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store
from pipeline.types import Kind

from fixtures.embedders import HashEmbedder


def _fill(url: str) -> None:
    store = Store.open(url, create=True)
    assert run_sources(load_sources(DEMO_SOURCES), store).ok
    store.close()


@pytest.fixture()
def sqlite_db(tmp_path, demo_server, monkeypatch):
    monkeypatch.setattr("pipeline.dedupe.embed._default", HashEmbedder())
    url = f"sqlite:///{tmp_path / 'hide.sqlite'}"
    _fill(url)
    return url


@pytest.fixture()
def pg_db(pg_url, demo_server, monkeypatch):
    monkeypatch.setattr("pipeline.dedupe.embed._default", HashEmbedder())
    _fill(pg_url)
    return pg_url


def _claims(args, db, **env):
    return CliRunner().invoke(cli, ["claims", *args, "--db", db], env=env)


def _a_merged_claim(store):
    """A claim stated by two or more sentences (its members' ids and texts)."""
    for row in store.view_rows("claim_summary", order_by=["claim_id"]):
        if row["mentions"] >= 2:
            return store.claim_detail(row["claim_id"])
    pytest.fail("the demo gives no claim of two sentences")


def _everywhere(store, mention_id: int) -> dict:
    """Where a mention shows up as a claim sentence."""
    week = store.digest_week(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
    return {
        "claim_sources": any(r["mention_id"] == mention_id for r in store.view_rows("claim_sources")),
        "claim_states": any(m.mention_id == mention_id for c in store.claim_states() for m in c.members),
        "digest": any(s.mention_id == mention_id for c in week.claims for s in c.statements),
        "export": any(m["mention_id"] == mention_id and m["kind"] == "claim" and m["claim_id"] is not None
                      for m in store.export_mentions()),
    }


def _latest(store, action: str):
    """The newest editor decision of this action."""
    return next(d for d in store.decisions() if d.action == action)


def _hide_and_unhide(db: str) -> None:
    store = Store.open(db)
    claim = _a_merged_claim(store)
    target = claim.members[0]
    summary = {r["claim_id"]: r for r in store.view_rows("claim_summary")}
    before = summary[claim.claim_id]["mentions"]
    assert all(_everywhere(store, target.mention_id).values())

    result = _claims(["hide", "--mention", str(target.mention_id), "--by", "Dana"], db)
    assert result.exit_code == 0, result.output
    assert "hidden as not a claim" in result.output
    assert not any(_everywhere(store, target.mention_id).values())
    hide = _latest(store, "hide")
    assert hide.undone_at is None and hide.undoable and target.mention_id in hide.details["hidden"]
    summary = {r["claim_id"]: r for r in store.view_rows("claim_summary")}
    assert summary[claim.claim_id]["mentions"] == before - 1
    hidden = store.hidden_mentions()
    assert [(h.site, h.text, h.mention_id, h.claim_id, h.decided_by, h.origin) for h in hidden] == [
        (target.site, target.text, target.mention_id, claim.claim_id, "Dana", "command")]
    assert hidden[0].block and abs(hidden[0].decided_at - datetime.now(timezone.utc)) < timedelta(minutes=10)
    kinds = {m["mention_id"]: m["kind"] for m in store.export_mentions()}
    assert kinds[target.mention_id] == Kind.HIDDEN.value
    # a rebuild respects it
    rebuild_claims(store, datetime.now(timezone.utc))
    assert not any(_everywhere(store, target.mention_id).values())
    # hiding twice is harmless; a mention that is not a claim sentence is refused clearly
    again = _claims(["hide", "--mention", str(target.mention_id)], db)
    assert again.exit_code == 0 and len(store.hidden_mentions()) == 1
    other = next(m for m in store.export_mentions() if m["kind"] not in ("claim", "hidden"))
    refused = _claims(["hide", "--mention", str(other["mention_id"])], db)
    assert refused.exit_code == 1 and f"labelled {other['kind']}" in refused.output
    missing = _claims(["hide", "--mention", "999999999"], db)
    assert missing.exit_code == 1 and "does not exist" in missing.output and "Traceback" not in missing.output

    result = _claims(["unhide", "--mention", str(target.mention_id), "--by", "Lee"], db)
    assert result.exit_code == 0, result.output
    assert store.hidden_mentions() == []
    # the hide decision is marked undone, by whom, and the desk no longer offers to undo it
    undone = store.decision(hide.id)[0]
    assert undone.undone_at is not None and undone.undone_by == "Lee" and not undone.undoable
    assert _latest(store, "hide").undone_at is not None  # the second hide, which found it hidden already
    with Syndicate(db) as syn, pytest.raises(StoreError, match="already undone"):
        syn.undo(hide.id, by="Lee")
    assert all(_everywhere(store, target.mention_id).values())  # clustered again at once
    not_hidden = _claims(["unhide", "--mention", str(target.mention_id)], db)
    assert not_hidden.exit_code == 1 and "is not hidden" in not_hidden.output

    # by claim id: every member; unhide by the same claim id brings them back
    claim = _a_merged_claim(store)
    ids = [m.mention_id for m in claim.members]
    assert _claims(["hide", str(claim.claim_id)], db, SYNDICATE_EDITOR="Sam").exit_code == 0
    assert store.claim_detail(claim.claim_id).status == "retired"
    assert claim.claim_id not in {r["claim_id"] for r in store.view_rows("claim_summary")}
    assert {h.mention_id for h in store.hidden_mentions()} == set(ids)
    assert {h.decided_by for h in store.hidden_mentions()} == {"Sam"}
    # unhiding part of a hide decision leaves it in force; unhiding the rest marks it undone
    hide = _latest(store, "hide")
    assert _claims(["unhide", "--mention", str(ids[0])], db).exit_code == 0
    assert store.decision(hide.id)[0].undone_at is None
    assert _claims(["unhide", str(claim.claim_id)], db).exit_code == 0
    assert all(_everywhere(store, mid)["claim_states"] for mid in ids)
    assert store.decision(hide.id)[0].undone_at is not None
    store.close()


def test_hide_and_unhide_through_the_cli_on_sqlite(sqlite_db):
    _hide_and_unhide(sqlite_db)


def test_hide_and_unhide_through_the_cli_on_postgres(pg_db):
    _hide_and_unhide(pg_db)


def test_a_new_revision_keeps_the_sentence_hidden(sqlite_db):
    """The partner republishes the article (one sentence changed): the hidden sentence,
    stored again in the new revision, arrives hidden and joins no claim."""
    store = Store.open(sqlite_db)
    claim = _a_merged_claim(store)
    target = claim.members[0]
    assert _claims(["hide", "--mention", str(target.mention_id)], sqlite_db).exit_code == 0
    from pipeline.extract import extract_article
    from sqlalchemy import select
    from pipeline.store.models import ArticleRow, MentionRow, RevisionRow

    with store.session() as s:
        article, rev = s.execute(select(ArticleRow, RevisionRow)
                                 .join(RevisionRow, RevisionRow.id == ArticleRow.current_revision_id)
                                 .join(MentionRow, MentionRow.revision_id == RevisionRow.id)
                                 .where(MentionRow.id == target.mention_id)).one()
        sha = rev.snapshot_sha256
    extracted = extract_article(store.snapshot_body(sha), url=article.url)
    changed = [dataclasses.replace(x, text=x.text + " Indeed.", display=x.display + " Indeed.")
               if x.text != target.text and x.kind == Kind.CLAIM else x for x in extracted.sentences]
    assert any(x.text == target.text for x in changed)
    extracted = dataclasses.replace(extracted, sentences=tuple(changed))
    later = datetime.now(timezone.utc) + timedelta(days=1)
    saved = store.save_article(article.source_id, article.url, extracted, guid=article.guid,
                               snapshot_sha256=None, fetched_at=later)
    assert saved.new_revision
    from pipeline.clustering import cluster_new_mentions
    cluster_new_mentions(store, later)
    with store.session() as s:
        again = s.execute(select(MentionRow.id, MentionRow.kind).where(
            MentionRow.revision_id == saved.revision_id, MentionRow.text == target.text)).one()
    assert again.kind == Kind.HIDDEN.value
    assert not any(_everywhere(store, again.id).values())
    store.close()
