"""Editor decisions and sends: the desk's (and the CLI's) record of what editors decided.

Owns the `editor_decisions` log (who, when, what, and what undoing restores), the topic
renames and the week's note read back from it, the snapshot of claims a decision is about
to change and its restoration on undo, and `digest_sends` (each attempt to email a week).
Decides nothing itself: `pipeline.core.Syndicate` says when a decision is taken and may be
undone; the digest model applies the renames and the note.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import delete, func, select, update

from ..errors import StoreError
from ..safetext import clean_text
from ..types import EditorDecision, Kind, SendRecord, TopicRename
from ._base import StoreBase, _utc
from .models import (ClaimMember, ClaimRow, DigestSendRow, EditorDecisionRow, FaqRow, MentionRow, Override,
                     ReviewAnswer)

WHO_CHARS = 200
TOPIC_ACTIONS = ("topic-rename", "topic-merge")
# the tables whose new rows a claims decision may add, and undoing it deletes
_ADDED = {"review_answers": ReviewAnswer, "overrides": Override}


def _who(by: str) -> str:
    who = " ".join(clean_text(by or "").split())[:WHO_CHARS]
    if not who:
        raise StoreError("a decision needs the name of who takes it")
    return who


class EditorMixin(StoreBase):
    # --- the log -------------------------------------------------------------------------------------

    def record_decision(self, action: str, *, subject: str, details: dict, by: str, now: datetime,
                        week: str | None = None, undo: dict | None = None) -> int:
        with self.session() as s:
            row = EditorDecisionRow(action=action, week=week, subject=clean_text(subject), details=dict(details),
                                    undo=dict(undo or {}), decided_by=_who(by), created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def decisions(self, *, limit: int = 100, week: str | None = None,
                  include_undone: bool = True) -> list[EditorDecision]:
        """The latest decisions, newest first (of one week, when given)."""
        with self.session() as s:
            q = select(EditorDecisionRow).order_by(EditorDecisionRow.id.desc()).limit(limit)
            if week is not None:
                q = q.where(EditorDecisionRow.week == week)
            if not include_undone:
                q = q.where(EditorDecisionRow.undone_at.is_(None))
            rows = s.scalars(q).all()
            blocked = self._blocked(s, [r for r in rows if r.undone_at is None])
            return [_decision(r, r.id not in blocked) for r in rows]

    def decision(self, decision_id: int) -> tuple[EditorDecision, dict]:
        """A decision and what undoing it restores; `StoreError` when there is none."""
        with self.session() as s:
            row = s.get(EditorDecisionRow, decision_id)
            if row is None:
                raise StoreError(f"no editor decision {decision_id}")
            blocked = self._blocked(s, [row]) if row.undone_at is None else set()
            return _decision(row, row.id not in blocked), dict(row.undo or {})

    @staticmethod
    def _blocked(s, rows) -> dict[int, int]:
        """{decision id: a later decision in force that changed the same claims}: an earlier
        claims decision is undone only after the later ones that built on it."""
        claim_rows = [r for r in rows if _touched(r.undo or {})]
        if not claim_rows:
            return {}
        later = s.scalars(select(EditorDecisionRow).where(EditorDecisionRow.id > min(r.id for r in claim_rows),
                                                          EditorDecisionRow.undone_at.is_(None))
                          .order_by(EditorDecisionRow.id)).all()
        out = {}
        for r in claim_rows:
            mine = _touched(r.undo)
            for other in later:
                if other.id > r.id and mine & _touched(other.undo or {}):
                    out[r.id] = other.id
                    break
        return out

    def blocking_decision(self, decision_id: int) -> int | None:
        with self.session() as s:
            row = s.get(EditorDecisionRow, decision_id)
            return None if row is None else self._blocked(s, [row]).get(decision_id)

    def mark_undone(self, decision_id: int, *, by: str, now: datetime) -> None:
        with self.session() as s:
            row = s.get(EditorDecisionRow, decision_id)
            if row is None:
                raise StoreError(f"no editor decision {decision_id}")
            if row.undone_at is not None:
                raise StoreError(f"decision {decision_id} was already undone")
            row.undone_at, row.undone_by = now, _who(by)

    # --- what the digest reads back --------------------------------------------------------------------

    def topic_renames(self) -> tuple[TopicRename, ...]:
        """Every topic rename and merge in force, oldest first."""
        with self.session() as s:
            rows = s.scalars(select(EditorDecisionRow).where(EditorDecisionRow.action.in_(TOPIC_ACTIONS),
                                                             EditorDecisionRow.undone_at.is_(None))
                             .order_by(EditorDecisionRow.id)).all()
            return tuple(TopicRename(r.details["label"], r.details["shown_as"],
                                     "merge" if r.action == "topic-merge" else "rename") for r in rows)

    def week_note(self, week: str) -> str | None:
        """The week's note from the editor in force (None: none, or the last one was emptied)."""
        with self.session() as s:
            row = s.scalars(select(EditorDecisionRow).where(EditorDecisionRow.action == "note",
                                                            EditorDecisionRow.week == week,
                                                            EditorDecisionRow.undone_at.is_(None))
                            .order_by(EditorDecisionRow.id.desc()).limit(1)).first()
            text = (row.details or {}).get("text") if row is not None else None
            return text or None

    # --- claims decisions: what they change, and undoing them ------------------------------------------------

    def claims_snapshot(self, claim_ids: Iterable[int]) -> dict:
        """The claims (status, merged into, pinned wording) and their memberships as they
        are now, plus the last id of each table a decision may add rows to: what undoing a
        decision about these claims restores."""
        ids = sorted(set(claim_ids))
        with self.session() as s:
            claims = {str(r.id): [r.status, r.merged_into, r.pinned_mention_id]
                      for r in s.scalars(select(ClaimRow).where(ClaimRow.id.in_(ids)))}
            members = {str(m.mention_id): [m.claim_id, m.method, m.score]
                       for m in s.scalars(select(ClaimMember).where(ClaimMember.claim_id.in_(ids)))}
            marks = {name: s.scalar(select(func.max(table.id))) or 0 for name, table in _ADDED.items()}
            marks["claims"] = s.scalar(select(func.max(ClaimRow.id))) or 0
        return {"claims": claims, "members": members, "marks": marks}

    def faq_snapshot(self, question_ids: Iterable[int]) -> dict:
        """The same for FAQ questions: their entries' question, method and score as now."""
        ids = sorted(set(question_ids))
        with self.session() as s:
            entries = {str(f.id): [f.question_id, f.method, f.score]
                       for f in s.scalars(select(FaqRow).where(FaqRow.question_id.in_(ids)))}
            marks = {name: s.scalar(select(func.max(table.id))) or 0 for name, table in _ADDED.items()}
        return {"faq": entries, "faq_questions": ids, "marks": marks}

    def claims_added_since(self, snapshot: dict) -> dict:
        """The rows added since `snapshot` was taken (under the run lock: by the decision)."""
        marks = snapshot.get("marks", {})
        with self.session() as s:
            added = {name: list(s.scalars(select(table.id).where(table.id > marks.get(name, 0))))
                     for name, table in _ADDED.items()}
            if "claims" in marks:
                added["claims"] = list(s.scalars(select(ClaimRow.id).where(ClaimRow.id > marks["claims"])))
        return added

    def restore_claims(self, undo: dict, now: datetime) -> None:
        """Undo a claims decision: the rows it added are deleted, the claims and memberships
        it changed are put back as they were (mentions a later run added stay where they are),
        and a claim it created is retired once nothing is left in it."""
        added = undo.get("added", {})
        with self.session() as s:
            for name, table in _ADDED.items():
                ids = added.get(name) or []
                if ids:
                    s.execute(delete(table).where(table.id.in_(ids)))
            members = {int(m): v for m, v in undo.get("members", {}).items()}
            placed = set(s.scalars(select(ClaimMember.mention_id).where(ClaimMember.mention_id.in_(list(members)))))
            # a member hidden as not a claim lost its row; it comes back when its sentence is a claim again
            claims_now = set(s.scalars(select(MentionRow.id).where(MentionRow.id.in_(list(members)),
                                                                    MentionRow.kind == Kind.CLAIM.value)))
            for mention_id, (claim_id, method, score) in members.items():
                if mention_id in placed:
                    s.execute(update(ClaimMember).where(ClaimMember.mention_id == mention_id)
                              .values(claim_id=claim_id, method=method, score=score, decided_at=now))
                elif mention_id in claims_now:
                    s.add(ClaimMember(mention_id=mention_id, claim_id=claim_id, method=method, score=score,
                                      decided_at=now))
            s.flush()
            for claim_id, (status, merged_into, pinned) in undo.get("claims", {}).items():
                s.execute(update(ClaimRow).where(ClaimRow.id == int(claim_id))
                          .values(status=status, merged_into=merged_into, pinned_mention_id=pinned, updated_at=now))
            for entry_id, (question_id, method, score) in undo.get("faq", {}).items():
                s.execute(update(FaqRow).where(FaqRow.id == int(entry_id))
                          .values(question_id=question_id, method=method, score=score))
            for claim_id in added.get("claims") or []:
                if not s.scalar(select(func.count()).select_from(ClaimMember).where(ClaimMember.claim_id == claim_id)):
                    s.execute(update(ClaimRow).where(ClaimRow.id == claim_id).values(status="retired", updated_at=now))

    def claims_of_mentions(self, mention_ids: Iterable[int]) -> list[int]:
        """The claims these mentions are members of now."""
        with self.session() as s:
            return sorted(set(s.scalars(select(ClaimMember.claim_id).where(
                ClaimMember.mention_id.in_(sorted(set(mention_ids)))))))

    def hide_decisions_undone_by(self, mention_ids: Iterable[int]) -> list[int]:
        """The "hide" decisions in force (`syndicate claims hide`) that named or hid some of
        these mentions and none of whose sentences is hidden any more: an unhide of these
        mentions undid them. A decision with a sentence still hidden stays in force (its undo brings
        that one back)."""
        ids = set(mention_ids)
        with self.session() as s:
            rows = s.scalars(select(EditorDecisionRow).where(EditorDecisionRow.action == "hide",
                                                             EditorDecisionRow.undone_at.is_(None))
                             .order_by(EditorDecisionRow.id)).all()
            # the mentions it named and those it hid (none when they were hidden already)
            mine = [(r.id, {int(m) for m in ((r.undo or {}).get("hidden") or [])
                            + ((r.details or {}).get("mention_ids") or [])}) for r in rows]
        mine = [(did, hidden) for did, hidden in mine if hidden & ids]
        return [did for did, hidden in mine if not self.still_hidden(hidden)]

    def still_hidden(self, mention_ids: Iterable[int]) -> list[int]:
        """Those of these mentions that are hidden as not a claim now (an undo restores them;
        one an editor made a claim again since is left alone)."""
        with self.session() as s:
            return sorted(s.scalars(select(MentionRow.id).where(MentionRow.id.in_(sorted(set(mention_ids))),
                                                                MentionRow.kind == Kind.HIDDEN.value)))

    # --- sends ------------------------------------------------------------------------------------

    def record_send(self, week: str, recipients: Sequence[str], *, status: str, by: str, now: datetime,
                    error: str | None = None, smtp_host: str | None = None, message_id: str | None = None,
                    content_hash: str | None = None, override: bool = False) -> int:
        if status not in ("sent", "failed"):
            raise StoreError(f"unknown send status {status!r}")
        with self.session() as s:
            row = DigestSendRow(week=week, recipients=list(recipients), status=status,
                                error=clean_text(error) if error else None, smtp_host=smtp_host,
                                message_id=(message_id or "")[:300] or None, content_hash=content_hash,
                                override=override, sent_by=_who(by), created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def sends(self, week: str | None = None) -> list[SendRecord]:
        """Every send attempt (of one week), newest first."""
        with self.session() as s:
            q = select(DigestSendRow).order_by(DigestSendRow.id.desc())
            if week is not None:
                q = q.where(DigestSendRow.week == week)
            return [SendRecord(r.id, r.week, tuple(r.recipients or ()), r.status, r.error, r.sent_by,
                               _utc(r.created_at), bool(r.override), r.message_id, r.smtp_host)
                    for r in s.scalars(q)]


def _touched(undo: dict) -> set[tuple[str, int]]:
    """The claims (and FAQ questions) a decision changed or created."""
    return ({("claim", int(c)) for c in (undo.get("claims") or {})}
            | {("claim", int(c)) for c in (undo.get("added") or {}).get("claims") or ()}
            | {("faq", int(q)) for q in undo.get("faq_questions") or ()})


def _decision(row: EditorDecisionRow, undoable: bool) -> EditorDecision:
    return EditorDecision(id=row.id, action=row.action, week=row.week, subject=row.subject,
                          details=dict(row.details or {}), decided_by=row.decided_by,
                          created_at=_utc(row.created_at), undone_at=_utc(row.undone_at), undone_by=row.undone_by,
                          undoable=undoable and row.undone_at is None)
