"""The review queue: which "do these two claims say the same thing?" question to ask next.

Owns: candidate pairs of claims (claims whose members are near neighbours), their evidence
and P(same) under the current pair model, the order of the questions, and the constraints
the answers imply (never ask again about a pair an editor answered "no" to, nor about a
pair containing one).
Must not: touch the database, the terminal or the clock; apply an answer (the store does,
and the caller passes the claims as they are after it).

Order. An answer is worth the pairs of mentions it settles: "yes" to two claims of 3 and 4
mentions joins 12 pairs; "yes" to two single sentences, one. So the expected gain of a
question is P(same) x the new pairs it would join, plus a bonus for uncertainty
(P(1-P)) so the model keeps learning where it is unsure, while a question it is sure of
("no" at 0.01) is never worth an editor's time.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..dedupe import ClaimState
from ..types import MentionInput
from .evidence import Corpus
from .model import PairModel

KINDS = ("claim", "faq")
VERDICTS = ("yes", "no", "skip")
CANDIDATE_NEIGHBOURS = 12  # nearest mentions whose claims make a candidate pair
UNCERTAINTY_BONUS = 0.5
PAIR_EXPONENT = 0.5
BAN_EVERY_PAIR = False


@dataclass(frozen=True, slots=True)
class Answer:
    """An editor's answer to one question, as recorded: the two sides' mention ids when it
    was asked, the verdict, and the evidence then (the model is refitted from these)."""

    kind: str
    left: tuple[int, ...]
    right: tuple[int, ...]
    verdict: str
    evidence: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Question:
    kind: str
    left: ClaimState
    right: ClaimState
    p_same: float
    gain: float
    new_pairs: int
    evidence: Mapping[str, float]  # the queue's FEATURES and, with a context, the engine's

    @property
    def key(self) -> str:
        """Names the question by what it asks: the kind, both claim ids and a digest of
        both member sets (so an answer to a stale question is recognised as stale)."""
        ids = ",".join(map(str, sorted(m.mention_id for m in self.left.members))) + "|" + \
            ",".join(map(str, sorted(m.mention_id for m in self.right.members)))
        digest = hashlib.sha256(ids.encode()).hexdigest()[:10]
        return f"{self.kind}:{self.left.claim_id}:{self.right.claim_id}:{digest}"


def question_key(kind: str, left: ClaimState, right: ClaimState) -> str:
    return Question(kind, left, right, 0.0, 0.0, 0, {}).key


def cannot_links(answers: Iterable[Answer], kind: str = "claim") -> set[tuple[int, int]]:
    """Every mention pair an editor said "no" to (each pair once, smaller id first)."""
    out: set[tuple[int, int]] = set()
    for a in answers:
        if a.kind == kind and a.verdict == "no":
            out.update((min(x, y), max(x, y)) for x in a.left for y in a.right)
    return out


class ReviewQueue:
    """Questions over one kind of claim (claims or FAQ questions) of one corpus.

    `ask(claims, answers, model, limit)` is a pure function of its arguments (the corpus
    statistics are cached on the instance, which is built once per session)."""

    def __init__(self, kind: str, mentions: Sequence[MentionInput],
                 vectors: Mapping[int, np.ndarray], *,
                 places: Mapping[int, tuple[object, int]] | None = None, context=None) -> None:
        """`places`: {mention id: (article, position)} (see `Corpus`). `context`: a
        `dedupe.PairContext` over the same mentions; with it, each question's evidence also
        carries the engine's own features, from which the engine's pair model is fitted."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        self.kind = kind
        self.corpus = Corpus(mentions, vectors, places=places)
        self.context = context
        self._candidates: list[tuple[int, int]] | None = None

    def evidence(self, left: ClaimState, right: ClaimState) -> tuple[float, ...]:
        idx = self.corpus.index
        return self.corpus.claim_evidence([idx[m.mention_id] for m in left.members],
                                          [idx[m.mention_id] for m in right.members])

    def question(self, left: ClaimState, right: ClaimState, model: PairModel) -> Question:
        """The question about these two claims (for an answer that names it)."""
        left, right = sorted((left, right), key=lambda c: c.claim_id)
        e = self.evidence(left, right)
        return self._with_engine(self._question(left, right, e, float(model.probability([e])[0])))

    def _question(self, left: ClaimState, right: ClaimState, e, pk: float) -> Question:
        pairs = len(left.members) * len(right.members)
        gain = pairs ** PAIR_EXPONENT * (pk + UNCERTAINTY_BONUS * pk * (1 - pk))
        return Question(self.kind, left, right, round(pk, 4), round(gain, 4), pairs, e)

    def _with_engine(self, q: Question) -> Question:
        """The question with the engine's features added to its evidence (when known)."""
        if self.context is None:
            return q
        from ..dedupe import FEATURE_NAMES

        values = self.context.claim_features([m.mention_id for m in q.left.members],
                                             [m.mention_id for m in q.right.members])
        extra = {n: round(float(v), 6) for n, v in zip(FEATURE_NAMES, values)}
        return Question(q.kind, q.left, q.right, q.p_same, q.gain, q.new_pairs, {**q.evidence, **extra})

    def _mention_candidates(self) -> list[tuple[int, int]]:
        if self._candidates is None:
            pairs = set()
            for i in range(len(self.corpus)):
                for j in self.corpus.nearest(i, CANDIDATE_NEIGHBOURS):
                    pairs.add((min(i, j), max(i, j)))
            self._candidates = sorted(pairs)
        return self._candidates

    @staticmethod
    def _refused(left: ClaimState, right: ClaimState, banned, noes) -> bool:
        """Whether an answer already says no to this pair: an editor said these two claims
        (or two claims each contained in one of these) differ."""
        if banned:
            return any((min(x.mention_id, y.mention_id), max(x.mention_id, y.mention_id)) in banned
                       for x in left.members for y in right.members)
        sl = {m.mention_id for m in left.members}
        sr = {m.mention_id for m in right.members}
        return any((a <= sl and b <= sr) or (a <= sr and b <= sl) for a, b in noes)

    def ask(self, claims: Sequence[ClaimState], answers: Sequence[Answer], model: PairModel,
            limit: int = 1) -> list[Question]:
        """The next `limit` questions, best first."""
        idx = self.corpus.index
        label_of: dict[int, int] = {}
        by_id = {}
        for c in claims:
            by_id[c.claim_id] = c
            for m in c.members:
                if m.mention_id in idx:
                    label_of[idx[m.mention_id]] = c.claim_id
        banned = cannot_links(answers, self.kind) if BAN_EVERY_PAIR else set()
        noes = [(frozenset(a.left), frozenset(a.right)) for a in answers
                if a.kind == self.kind and a.verdict == "no"]
        skipped = {question_key_sets(a.left, a.right) for a in answers
                   if a.kind == self.kind and a.verdict == "skip"}
        seen: set[tuple[int, int]] = set()
        cands: list[tuple[ClaimState, ClaimState]] = []
        for i, j in self._mention_candidates():
            a, b = label_of.get(i), label_of.get(j)
            if a is None or b is None or a == b:
                continue
            key = (min(a, b), max(a, b))
            if key in seen:
                continue
            seen.add(key)
            left, right = by_id[key[0]], by_id[key[1]]
            if self._refused(left, right, banned, noes):
                continue
            if question_key_sets([m.mention_id for m in left.members],
                                 [m.mention_id for m in right.members]) in skipped:
                continue
            cands.append((left, right))
        if not cands:
            return []
        ev = [self.evidence(left, right) for left, right in cands]
        p = model.probability(ev)
        out = [self._question(left, right, e, float(pk)) for (left, right), e, pk in zip(cands, ev, p)]
        out.sort(key=lambda q: (-q.gain, q.left.claim_id, q.right.claim_id))
        return [self._with_engine(q) for q in out[:limit]]


def question_key_sets(left: Iterable[int], right: Iterable[int]) -> frozenset[frozenset[int]]:
    return frozenset((frozenset(left), frozenset(right)))
