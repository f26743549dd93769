"""A review session: the review queue (pure, `pipeline.review`) wired to the store.

Owns: loading the claims and FAQ questions with their sentence vectors (from the store's
cache; only texts never encoded are encoded), asking the queue, applying an answer (record
it, merge on "yes", refresh canonical texts, refit and store the pair model), and the
plain-dict form of a question that the CLI prints and reads back.
Must not: talk to the terminal (the CLI does) or decide anything itself (the queue does).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from .clustering import mention_vectors, rebuild_claims, refresh_claims
from .dedupe import ClaimState, PairContext
from .errors import StoreError
from .review import KINDS, VERDICTS, Answer, PairModel, Question, ReviewQueue, engine_model, refit
from .store import Store


class StaleQuestion(StoreError):
    """An answer names a question whose claims have changed since it was asked."""


@dataclass(frozen=True, slots=True)
class Applied:
    key: str
    verdict: str
    merged_into: int | None  # the claim (or question) id both sides now share, on "yes"


class ReviewSession:
    """One editor's session over a database. `kinds`: "claim", "faq" or both."""

    def __init__(self, store: Store, now: Callable[[], datetime], *, kinds: Iterable[str] = KINDS,
                 embedder=None) -> None:
        self.store = store
        self.now = now
        self.kinds = tuple(k for k in KINDS if k in set(kinds))
        self.embedder = embedder
        self.names = store.source_names()
        self.answers = store.review_answers()
        self.queues: dict[str, ReviewQueue] = {}
        self.models: dict[str, PairModel] = {}
        for kind in self.kinds:
            states = self.states(kind)
            mentions = [m for c in states for m in c.members]
            if not mentions:
                continue
            vectors = mention_vectors(store, mentions, embedder=embedder)
            places = (store.mention_places if kind == "claim" else store.faq_places)(
                [m.mention_id for m in mentions])
            context = PairContext.build(mentions, embeddings=vectors)
            self.queues[kind] = ReviewQueue(kind, mentions, vectors, places=places, context=context)
            self.models[kind] = refit(self.answers, kind)

    def states(self, kind: str) -> list[ClaimState]:
        if kind == "claim":
            return self.store.claim_states()
        questions, _, _ = self.store.faq_states()
        return questions

    def questions(self, limit: int = 1) -> list[Question]:
        """The next questions across kinds, best first; no claim appears in two of them
        (so a batch can be answered in any order)."""
        pool: list[Question] = []
        for kind, queue in self.queues.items():
            pool.extend(queue.ask(self.states(kind), self.answers, self.models[kind], limit=max(limit * 4, 8)))
        pool.sort(key=lambda q: (-q.gain, q.kind, q.left.claim_id, q.right.claim_id))
        out: list[Question] = []
        used: set[tuple[str, int]] = set()
        for q in pool:
            sides = {(q.kind, q.left.claim_id), (q.kind, q.right.claim_id)}
            if sides & used:
                continue
            used |= sides
            out.append(q)
            if len(out) == limit:
                break
        return out

    def find(self, key: str) -> Question:
        """The question a key names, as it stands now; StaleQuestion when its claims changed."""
        try:
            kind, left, right, _ = key.split(":")
            left_id, right_id = int(left), int(right)
        except ValueError:
            raise StaleQuestion(f"not a question id: {key!r}") from None
        queue = self.queues.get(kind)
        if queue is None:
            raise StaleQuestion(f"question {key}: nothing of kind {kind!r} to review")
        by_id = {c.claim_id: c for c in self.states(kind)}
        if left_id not in by_id or right_id not in by_id:
            raise StaleQuestion(f"question {key}: claim {left_id if left_id not in by_id else right_id} "
                                "no longer exists (merged or retired)")
        q = queue.question(by_id[left_id], by_id[right_id], self.models[kind])
        if q.key != key:
            raise StaleQuestion(f"question {key}: its claims have changed since it was asked")
        return q

    def apply(self, q: Question, verdict: str) -> Applied:
        """Record the answer; "yes" merges the two sides (the lower id stays); the model is
        refitted from every answer so far and stored."""
        if verdict not in VERDICTS:
            raise StoreError(f"unknown answer {verdict!r} (yes, no or skip)")
        now = self.now()
        answer = Answer(q.kind, tuple(m.mention_id for m in q.left.members),
                        tuple(m.mention_id for m in q.right.members), verdict, q.evidence)
        keep, other = sorted((q.left.claim_id, q.right.claim_id))
        self.store.record_answer(answer, left_claim_id=q.left.claim_id, right_claim_id=q.right.claim_id,
                                 p_same=q.p_same, now=now)
        self.answers.append(answer)
        merged = None
        if verdict == "yes":
            if q.kind == "claim":
                self.store.merge_claims(keep, other, now)
                refresh_claims(self.store, now)
            else:
                self.store.merge_questions(keep, other, now)
            merged = keep
        elif verdict == "no" and q.kind == "claim":
            self.store.add_cannot_link(q.left.claim_id, q.right.claim_id, now)
        if verdict != "skip":
            self.models[q.kind] = refit(self.answers, q.kind)
        return Applied(q.key, verdict, merged)

    def finish(self) -> bool:
        """At the end of a session: store the engine's pair model refitted from every answer
        (once there are enough) and, when it changed, re-cluster the claims with it, so the
        stored claims are those a rebuild gives with the same answers. Returns whether it did."""
        changed = False
        for kind, stored_kind in (("claim", "claim"), ("faq", "question")):
            if kind not in self.queues:
                continue
            model = engine_model(self.answers, kind)
            if model is None or model == self.store.pair_model(stored_kind):
                continue
            self.store.save_pair_model(stored_kind, model, model["answers"], self.now())
            changed = changed or kind == "claim"
        if changed:
            rebuild_claims(self.store, self.now(), embedder=self.embedder)
        return changed

    def as_dict(self, q: Question) -> dict:
        """A question as JSON: both sides, each sentence under its own partner's name."""
        def side(c: ClaimState) -> dict:
            return {"id": c.claim_id,
                    "sentences": [{"mention_id": m.mention_id, "site": m.site,
                                   "partner": self.names.get(m.site, m.site), "text": m.text}
                                  for m in sorted(c.members, key=lambda m: (m.site, m.mention_id))]}
        return {"id": q.key, "kind": q.kind, "question": QUESTION_TEXT[q.kind],
                "p_same": q.p_same, "pairs": q.new_pairs, "left": side(q.left), "right": side(q.right)}


QUESTION_TEXT = {"claim": "Do these two claims say the same thing?",
                 "faq": "Do these two FAQ questions ask the same thing?"}
