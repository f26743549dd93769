"""A review session: the review queue (pure, `pipeline.review`) wired to the store.

Owns: loading the claims and FAQ questions with their sentence vectors (from the store's
cache; only texts never encoded are encoded), asking the queue, checking an editor's reply
against the question it answers, applying it (the answer rows and their effect: merges,
cannot-links, sentences hidden as not a claim, refreshed canonical texts, in ONE
transaction, so an interrupted process leaves both or neither), refitting the pair model,
and the plain-dict form of a question that the CLI prints and reads back.
Must not: talk to the terminal (the CLI does) or decide anything itself (the queue does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from .clustering import mention_vectors, rebuild_claims, refresh_claims
from .dedupe import ClaimState, PairContext
from .errors import StoreError
from .review import KINDS, Answer, PairModel, Question, ReviewQueue, engine_model, parse_key, refit
from .store import Store


class StaleQuestion(StoreError):
    """An answer names a question whose claims have changed since it was asked."""


class RefusedAnswer(StoreError):
    """A reply that does not fit its question (nothing of it is recorded)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An editor's reply to one question: the candidates (claim ids) that say the same as
    the anchor (every other candidate does not), the mentions that are not claims at all,
    or a skip."""

    same: frozenset[int] = frozenset()
    hidden: frozenset[int] = frozenset()
    skip: bool = False

    @classmethod
    def verdict(cls, q: Question, verdict: str) -> "Reply":
        """The reply a plain verdict gives: yes (every candidate is the same), no (none
        is), skip."""
        if verdict == "yes":
            return cls(same=frozenset(c.claim.claim_id for c in q.candidates))
        if verdict == "no":
            return cls()
        if verdict == "skip":
            return cls(skip=True)
        raise RefusedAnswer(f"unknown answer {verdict!r} (yes, no, skip or not-claim)")


@dataclass(frozen=True, slots=True)
class Applied:
    key: str
    verdict: str  # yes (at least one candidate merged), no, skip, not-claim
    merged_into: int | None  # the claim (or question) id the anchor and its "yes" candidates share
    merged: tuple[int, ...] = ()  # candidates merged
    kept_apart: tuple[int, ...] = ()  # candidates an editor said differ
    hidden: tuple[int, ...] = ()  # mentions hidden as not a claim (with every copy of their text)
    items: int = 0  # items judged: one per candidate answered yes or no, one per "not a claim"
    details: dict = field(default_factory=dict)


class ReviewSession:
    """One editor's session over a database. `kinds`: "claim", "faq" or both. `editor`:
    who answers (recorded with every sentence hidden as not a claim). `groups`: also ask
    group questions ("which of these say the same as A?"); default pair questions only."""

    def __init__(self, store: Store, now: Callable[[], datetime], *, kinds: Iterable[str] = KINDS,
                 embedder=None, editor: str = "editor", groups: bool = False) -> None:
        self.store = store
        self.groups = groups
        self.now = now
        self.editor = editor
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

    def _apart(self, kind: str):
        return self.store.cannot_links() if kind == "claim" else ()

    def questions(self, limit: int = 1) -> list[Question]:
        """The next questions across kinds, best first (expected gain per item); no claim
        appears in two of them (so a batch can be answered in any order)."""
        pool: list[Question] = []
        for kind, queue in self.queues.items():
            pool.extend(queue.ask(self.states(kind), self.answers, self.models[kind], limit=max(limit, 1),
                                  apart=self._apart(kind), groups=self.groups))
        pool.sort(key=lambda q: (-q.gain, q.kind, q.anchor.claim_id))
        return pool[:limit]

    def find(self, key: str) -> Question:
        """The question a key names, as it stands now; StaleQuestion when its claims changed."""
        try:
            kind, anchor_id, candidate_ids = parse_key(key)
        except ValueError:
            raise StaleQuestion(f"not a question id: {key!r}") from None
        queue = self.queues.get(kind)
        if queue is None:
            raise StaleQuestion(f"question {key}: nothing of kind {kind!r} to review")
        by_id = {c.claim_id: c for c in self.states(kind)}
        for cid in (anchor_id, *candidate_ids):
            if cid not in by_id:
                raise StaleQuestion(f"question {key}: claim {cid} no longer exists (merged, retired or hidden)")
        if anchor_id in candidate_ids or len(set(candidate_ids)) != len(candidate_ids):
            raise RefusedAnswer(f"question {key}: a claim cannot be compared with itself")
        q = queue.question(by_id[anchor_id], [by_id[c] for c in candidate_ids], self.models[kind])
        if q.key != key:
            raise StaleQuestion(f"question {key}: its claims have changed since it was asked")
        return q

    def _check(self, q: Question, reply: Reply) -> None:
        """Refuse a reply that does not fit the question, before anything is written."""
        candidates = {c.claim.claim_id: c for c in q.candidates}
        shown = {m.mention_id for m in q.anchor.members} | {m.mention_id for c in q.candidates
                                                           for m in c.claim.members}
        if reply.skip and (reply.same or reply.hidden):
            raise RefusedAnswer(f"question {q.key}: a skip cannot also merge or hide")
        if not reply.same <= set(candidates):
            raise RefusedAnswer(f"question {q.key}: claim(s) {', '.join(map(str, sorted(reply.same - set(candidates))))}"
                                " are not candidates of this question")
        if reply.hidden and q.kind != "claim":
            raise RefusedAnswer(f"question {q.key}: only claim sentences can be hidden as not a claim")
        if not reply.hidden <= shown:
            raise RefusedAnswer(f"question {q.key}: mention(s) {', '.join(map(str, sorted(reply.hidden - shown)))}"
                                " are not shown in this question")
        anchor = {m.mention_id for m in q.anchor.members}
        if reply.hidden & anchor and reply.same:
            raise RefusedAnswer(f"question {q.key}: the anchor is not a claim, so nothing can be the same as it")
        for cid in reply.same:
            if {m.mention_id for m in candidates[cid].claim.members} & reply.hidden:
                raise RefusedAnswer(f"question {q.key}: claim {cid} cannot be both the same and not a claim")

    def apply(self, q: Question, reply: Reply | str) -> Applied:
        """Record the reply and apply it, in one transaction: "yes" candidates merge into
        the anchor (the lowest id stays), every other judged candidate is kept apart from
        the merged claim (a cannot-link: no later run joins them), sentences that are not
        claims are hidden for good (`Store.hide_mentions`). Then the queue's model is
        refitted from every answer so far. A refused reply records nothing."""
        if isinstance(reply, str):
            reply = Reply.verdict(q, reply)
        self._check(q, reply)
        now = self.now()
        anchor_ids = tuple(m.mention_id for m in q.anchor.members)
        rows: list[tuple[Answer, int, int, float | None]] = []  # answer, left id, right id, p
        hidden_anchor = bool(reply.hidden & set(anchor_ids))
        judged, yes, no = [], [], []
        if reply.skip:
            for c in q.candidates:
                rows.append((Answer(q.kind, anchor_ids, tuple(m.mention_id for m in c.claim.members), "skip",
                                    c.evidence), q.anchor.claim_id, c.claim.claim_id, c.p_same))
        elif not hidden_anchor:
            for c in q.candidates:
                members = tuple(m.mention_id for m in c.claim.members)
                if set(members) & reply.hidden:
                    continue  # a candidate that is not a claim is not judged against the anchor
                verdict = "yes" if c.claim.claim_id in reply.same else "no"
                (yes if verdict == "yes" else no).append(c.claim.claim_id)
                judged.append(c)
                rows.append((Answer(q.kind, anchor_ids, members, verdict, c.evidence),
                             q.anchor.claim_id, c.claim.claim_id, c.p_same))
        hidden_groups = []  # the hidden mentions, one group per side shown
        for side in (q.anchor, *(c.claim for c in q.candidates)):
            got = tuple(sorted(m.mention_id for m in side.members if m.mention_id in reply.hidden))
            if got:
                hidden_groups.append((side.claim_id, got))
                rows.append((Answer(q.kind, got, (), "not-claim"), side.claim_id, side.claim_id, None))
        keep = min([q.anchor.claim_id, *yes])
        hidden_now: list[int] = []
        with self.store.transaction():
            for answer, left, right, p in rows:
                self.store.record_answer(answer, left_claim_id=left, right_claim_id=right, p_same=p, now=now)
            for other in sorted({q.anchor.claim_id, *yes} - {keep}):
                if q.kind == "claim":
                    self.store.merge_claims(keep, other, now)
                else:
                    self.store.merge_questions(keep, other, now)
            if q.kind == "claim":
                for other in no:  # kept apart from the anchor and all that joined it
                    self.store.add_cannot_link(keep, other, now)
                if reply.hidden:
                    hidden_now = self.store.hide_mentions(sorted(reply.hidden), by=self.editor, origin="review",
                                                          now=now)
                if yes or reply.hidden:
                    refresh_claims(self.store, now)
        self.answers.extend(answer for answer, *_ in rows)
        if yes or no:
            self.models[q.kind] = refit(self.answers, q.kind)
        verdict = ("skip" if reply.skip else "yes" if yes else "no" if no
                   else "not-claim" if reply.hidden else "no")
        return Applied(q.key, verdict, keep if yes else None, tuple(sorted(yes)), tuple(sorted(no)),
                       tuple(hidden_now), len(yes) + len(no) + len(hidden_groups))

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
        """A question as JSON: the anchor and each candidate, each sentence under its own
        partner's name. A question with one candidate also has the pair form (left, right,
        p_same, pairs)."""
        def side(c: ClaimState) -> dict:
            return {"id": c.claim_id,
                    "sentences": [{"mention_id": m.mention_id, "site": m.site,
                                   "partner": self.names.get(m.site, m.site), "text": m.text, "url": m.url}
                                  for m in sorted(c.members, key=lambda m: (m.site, m.mention_id))]}
        out = {"id": q.key, "kind": q.kind, "question": question_text(q), "items": q.items,
               "gain": round(q.gain, 4), "anchor": side(q.anchor),
               "candidates": [{**side(c.claim), "p_same": c.p_same, "pairs": c.new_pairs} for c in q.candidates]}
        if q.items == 1:
            out.update(left=side(q.anchor), right=side(q.right), p_same=q.p_same, pairs=q.new_pairs)
        return out


def question_text(q: Question) -> str:
    what = "claim" if q.kind == "claim" else "FAQ question"
    if q.items == 1:
        return ("Do these two claims say the same thing?" if q.kind == "claim"
                else "Do these two FAQ questions ask the same thing?")
    return f"Which of these {what}s say the same as {what} A?"
