"""The review queue's records: editors' answers (each a merge, a cannot-link or a hidden
sentence; the pair model is refitted from them and stored by `_claims.save_pair_model`),
sentences hidden as "not a claim" (`hidden_sentences`: the decision, and the mentions it
labels `hidden`), FAQ merges, and what the queue needs to show a question (partner names,
where each sentence sits in its article).

An answer and its effect are applied in one transaction by the caller
(`Store.transaction()`): these methods join it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import delete, select, update

from ..errors import StoreError
from ..types import Kind
from ._base import StoreBase
from .models import ClaimMember, FaqRow, HiddenSentence, MentionRow, ReviewAnswer, SourceRow


@dataclass(frozen=True, slots=True)
class HiddenMention:
    """A sentence an editor said is not a claim, as the label classifier may learn from it:
    its partner and text, where it sat (HTML block, heading above it) when it is still
    stored, and the decision (who, when, from the review or the `claims hide` command)."""

    site: str
    text: str
    mention_id: int | None
    claim_id: int | None
    block: str | None
    section: str | None
    origin: str
    decided_by: str
    decided_at: datetime


if TYPE_CHECKING:  # imported where used: read commands never need the review package
    from ..review import Answer


class ReviewMixin(StoreBase):
    def record_answer(self, answer: Answer, *, left_claim_id: int, right_claim_id: int,
                      p_same: float | None, now: datetime) -> int:
        """Store one answer; returns its id. (Applying it is separate: "yes" is `merge_claims`
        or `merge_questions`; "no" is `add_cannot_link` for claims, and for FAQ questions
        `faq_cannot_links` reads it back from here.)"""
        if answer.verdict not in ("yes", "no", "skip", "not-claim"):
            raise StoreError(f"unknown answer {answer.verdict!r} (yes, no, skip or not-claim)")
        with self.session() as s:
            row = ReviewAnswer(kind=answer.kind, left_claim_id=left_claim_id, right_claim_id=right_claim_id,
                               left_mention_ids=list(answer.left), right_mention_ids=list(answer.right),
                               verdict=answer.verdict, p_same=p_same, evidence=dict(answer.evidence),
                               created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def review_answers(self, kind: str | None = None) -> list[Answer]:
        """Every answer (of one kind), in the order given."""
        from ..review import Answer
        with self.session() as s:
            q = select(ReviewAnswer).order_by(ReviewAnswer.id)
            if kind is not None:
                q = q.where(ReviewAnswer.kind == kind)
            return [Answer(r.kind, tuple(r.left_mention_ids), tuple(r.right_mention_ids), r.verdict,
                           {k: float(v) for k, v in (r.evidence or {}).items()}) for r in s.scalars(q)]

    def faq_cannot_links(self) -> list[tuple[frozenset[int], frozenset[int]]]:
        """FAQ questions an editor kept apart, as two groups of entry ids each (claims keep
        theirs as "cannot-link" overrides: `cannot_links`)."""
        return [(frozenset(a.left), frozenset(a.right)) for a in self.review_answers("faq") if a.verdict == "no"]

    def source_names(self) -> dict[str, str]:
        with self.session() as s:
            return dict(s.execute(select(SourceRow.id, SourceRow.name)).all())

    def mention_places(self, mention_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """{mention id: (revision id, position)}: where each sentence sits in its article."""
        return self._places(MentionRow, mention_ids)

    def faq_places(self, entry_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        return self._places(FaqRow, entry_ids)

    def _places(self, table, ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        ids = list(ids)
        out: dict[int, tuple[int, int]] = {}
        with self.session() as s:
            for i in range(0, len(ids), 500):
                for mid, rev, pos in s.execute(select(table.id, table.revision_id, table.position)
                                               .where(table.id.in_(ids[i:i + 500]))):
                    out[mid] = (rev, pos)
        return out

    def merge_questions(self, keep: int, other: int, now: datetime) -> None:
        """Editor decision: every entry of FAQ question `other` joins question `keep`, fixed."""
        if keep == other:
            raise StoreError("cannot merge a question with itself")
        with self.session() as s:
            found = {q for q in s.scalars(select(FaqRow.question_id).where(FaqRow.question_id.in_([keep, other])))}
            for q in (keep, other):
                if q not in found:
                    raise StoreError(f"FAQ question {q} does not exist")
            s.execute(update(FaqRow).where(FaqRow.question_id.in_([keep, other]))
                      .values(question_id=keep, method="editor-merge", score=1.0))

    def fixed_faq_memberships(self) -> dict[int, int]:
        """FAQ entries an editor placed: no clustering may move them."""
        with self.session() as s:
            return dict(s.execute(select(FaqRow.id, FaqRow.question_id)
                                  .where(FaqRow.method.like("editor%"), FaqRow.question_id.is_not(None))).all())

    # --- sentences that are not claims ------------------------------------------------------------

    def hide_mentions(self, mention_ids: Iterable[int], *, by: str, origin: str, now: datetime) -> list[int]:
        """Editor decision "not a claim": each given mention, and every other mention of its
        partner with the same text (other revisions, later ones too: `save_article` labels
        them on arrival), is labelled `hidden` and leaves its claim. Returns the ids of the
        mentions hidden now. Callers refresh the claims after it (one may be left empty)."""
        ids = sorted(set(mention_ids))
        if not ids:
            raise StoreError("no mention to hide")
        with self.session() as s:
            rows = {r.id: r for r in s.execute(select(MentionRow.id, MentionRow.source_id, MentionRow.text,
                                                      MentionRow.kind).where(MentionRow.id.in_(ids)))}
            for mid in ids:
                row = rows.get(mid)
                if row is None:
                    raise StoreError(f"mention {mid} does not exist")
                if row.kind not in (Kind.CLAIM.value, Kind.HIDDEN.value):
                    raise StoreError(f"mention {mid} is labelled {row.kind}, not claim: it is in no claim")
            claim_of = dict(s.execute(select(ClaimMember.mention_id, ClaimMember.claim_id)
                                      .where(ClaimMember.mention_id.in_(ids))).all())
            active = {(h.source_id, h.text) for h in s.scalars(
                select(HiddenSentence).where(HiddenSentence.undone_at.is_(None),
                                             HiddenSentence.source_id.in_({r.source_id for r in rows.values()})))}
            hidden: list[int] = []
            for mid in ids:
                row = rows[mid]
                key = (row.source_id, row.text)
                if key not in active:
                    active.add(key)
                    s.add(HiddenSentence(source_id=row.source_id, text=row.text, mention_id=mid,
                                         claim_id=claim_of.get(mid), origin=origin, decided_by=by,
                                         created_at=now))
                same = list(s.scalars(select(MentionRow.id).where(
                    MentionRow.source_id == row.source_id, MentionRow.text == row.text,
                    MentionRow.kind == Kind.CLAIM.value)))
                if same:
                    s.execute(delete(ClaimMember).where(ClaimMember.mention_id.in_(same)))
                    s.execute(update(MentionRow).where(MentionRow.id.in_(same)).values(kind=Kind.HIDDEN.value))
                    hidden.extend(same)
            s.flush()
            return sorted(set(hidden))

    def unhide_mentions(self, mention_ids: Iterable[int], *, by: str, now: datetime) -> list[int]:
        """Undo "not a claim" for these mentions' sentences: the decision is kept, marked
        undone (who, when); every mention of the partner with that text is a claim again,
        in no claim yet (the next clustering places it). Returns the mentions restored."""
        ids = sorted(set(mention_ids))
        if not ids:
            raise StoreError("no mention to unhide")
        with self.session() as s:
            rows = {r.id: r for r in s.execute(select(MentionRow.id, MentionRow.source_id, MentionRow.text,
                                                      MentionRow.kind).where(MentionRow.id.in_(ids)))}
            restored: list[int] = []
            for mid in ids:
                row = rows.get(mid)
                if row is None:
                    raise StoreError(f"mention {mid} does not exist")
                decisions = list(s.scalars(select(HiddenSentence).where(
                    HiddenSentence.source_id == row.source_id, HiddenSentence.text == row.text,
                    HiddenSentence.undone_at.is_(None))))
                if not decisions and row.kind != Kind.HIDDEN.value:
                    raise StoreError(f"mention {mid} is not hidden")
                for d in decisions:
                    d.undone_at, d.undone_by = now, by
                same = list(s.scalars(select(MentionRow.id).where(
                    MentionRow.source_id == row.source_id, MentionRow.text == row.text,
                    MentionRow.kind == Kind.HIDDEN.value)))
                s.execute(update(MentionRow).where(MentionRow.id.in_(same)).values(kind=Kind.CLAIM.value))
                restored.extend(same)
            return sorted(set(restored))

    def hidden_of_claim(self, claim_id: int) -> list[int]:
        """The mentions hidden (and still hidden) out of claim `claim_id`."""
        with self.session() as s:
            return sorted(mid for mid in s.scalars(select(HiddenSentence.mention_id).where(
                HiddenSentence.claim_id == claim_id, HiddenSentence.undone_at.is_(None))) if mid is not None)

    def hidden_mentions(self) -> list[HiddenMention]:
        """Every sentence an editor hid as not a claim (undone decisions left out), oldest
        first: training data for the sentence label classifier (text and partner, with the
        HTML block and the heading above it when the mention is still stored)."""
        with self.session() as s:
            q = (select(HiddenSentence, MentionRow.block, MentionRow.section)
                 .outerjoin(MentionRow, MentionRow.id == HiddenSentence.mention_id)
                 .where(HiddenSentence.undone_at.is_(None)).order_by(HiddenSentence.id))
            return [HiddenMention(h.source_id, h.text, h.mention_id, h.claim_id, block, section, h.origin,
                                  h.decided_by, h.created_at) for h, block, section in s.execute(q)]
