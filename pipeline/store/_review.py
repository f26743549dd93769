"""The review queue's records: editors' answers (each a merge or a cannot-link; the pair
model is refitted from them and stored by `_claims.save_pair_model`), FAQ merges, and what
the queue needs to show a question (partner names, where each sentence sits in its article)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select, update

from ..errors import StoreError
from ..review import Answer
from ._base import StoreBase
from .models import FaqRow, MentionRow, ReviewAnswer, SourceRow


class ReviewMixin(StoreBase):
    def record_answer(self, answer: Answer, *, left_claim_id: int, right_claim_id: int,
                      p_same: float | None, now: datetime) -> int:
        """Store one answer; returns its id. (Applying it is separate: "yes" is `merge_claims`
        or `merge_questions`; "no" is `add_cannot_link` for claims, and for FAQ questions
        `faq_cannot_links` reads it back from here.)"""
        if answer.verdict not in ("yes", "no", "skip"):
            raise StoreError(f"unknown answer {answer.verdict!r} (yes, no or skip)")
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
