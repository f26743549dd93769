"""The review queue: which question to ask the editor next, and which questions the answers
so far already settle.

Owns: candidate pairs of claims (claims whose members are near neighbours), their evidence
and P(same) under the current pair model, the expected gain of a question, the questions
themselves (one claim against one other, or against a group of candidates: "which of
these say the same as ...?"), and what the answers imply (transitivity: a claim pair that
a "no" between any of their members' groups settles is never asked; claims already merged
are one claim, so nothing inside one is asked).
Must not: touch the database, the terminal or the clock; apply an answer (the store does,
and the caller passes the claims as they are after it).

Order. An editor's effort is counted in items judged: one per candidate claim shown (a pair
question is one item, a group question with k candidates is k). What an answer is worth:
pair recall grows with the square of a claim's size, and a claim of s sentences takes
s - 1 yeses however they are ordered (s(s-1)/2 pairs), so each yes is worth about half the
size of the claim it ends up in, not only the pairs it joins at once (a yes between two
single sentences of a proposition eight partners state is worth more than its one pair).
The expected gain of a candidate is P(same) x (the sentences a yes brings into one claim +
the sentences expected to join either side later: the sum of P(same) x size over each
side's other open candidates, `lookahead`); questions are ranked by expected gain per item.

P(same) of two claims. The pair model's prior is fitted on pairs of single sentences, so
it is applied to pairs of single sentences: to every cross pair of the two claims' members,
and the pairs' logits are combined, half their mean and half the mean of each sentence's
best match on the other side (both ways: a claim that also holds a sentence stating a
second point is not dragged down by it). The evidence stored with an answer, and refitted
on, is each feature's mean over those pairs, on the same scale. Why: before, a claim pair's
evidence was the mean and max of each feature over the cross pairs, fed to a model fitted
on single pairs (where mean and max are equal); refitted on answers about larger claims,
it gave the max features negative weights (the largest claims drew most "no"s), and then
a true newcomer to a claim of five sentences on how mild or severe withdrawal can be was
shown P(same) 0.04-0.1, behind a hundred or more other questions (claims-dev, after 60
screens).

Pair questions by default; groups on request (`ask(groups=True)`). With groups, when the
best question's anchor has several candidates each worth at least as much as the next best
question elsewhere, they are asked together: the editor reads the anchor once and marks the
candidates that say the same. That costs the same items as asking them one by one (each
candidate is one item) in fewer screens, but the model is refitted once for the whole group
instead of after each candidate, and the candidates after the first are not re-ranked with
what the first answer taught. Counted in items judged, pair questions did better on both
golds (benchmarks/review_sim.py, docs/dedupe.md), so they are the default.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..dedupe import ClaimState
from ..types import MentionInput
from .evidence import Corpus
from .model import P_CEIL, P_FLOOR, PairModel

KINDS = ("claim", "faq")
VERDICTS = ("yes", "no", "skip", "not-claim")
CANDIDATE_NEIGHBOURS = 20  # nearest mentions whose claims make a candidate pair
GROUP_MAX = 6  # candidates in one group question at most
LOOKAHEAD = 1.0  # weight of the pairs a yes makes reachable through later merges
# The engine's features in an answer's evidence carry this prefix: several of its names
# (cos_mean, lex_mean, ...) are also the queue's own, computed otherwise (other topic
# directions, other words), and one must not overwrite the other (it did: the queue's model
# was refitted on the engine's values and applied to its own)
ENGINE_PREFIX = "engine."


@dataclass(frozen=True, slots=True)
class Answer:
    """An editor's answer to one candidate of a question, as recorded: the mention ids of
    both sides when it was asked, the verdict, and the evidence then (the model is refitted
    from these). "not-claim": `left` holds the mentions the editor hid, `right` is empty."""

    kind: str
    left: tuple[int, ...]
    right: tuple[int, ...]
    verdict: str
    evidence: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One candidate of a question: a claim, how likely it says the same as the anchor,
    the mention pairs a yes would join at once, and its expected gain (see Order)."""

    claim: ClaimState
    p_same: float
    new_pairs: int
    gain: float
    evidence: Mapping[str, float]  # the queue's FEATURES and, with a context, the engine's


@dataclass(frozen=True, slots=True)
class Question:
    """Does each candidate say the same as the anchor? One candidate: a pair question."""

    kind: str
    anchor: ClaimState
    candidates: tuple[Candidate, ...]

    @property
    def items(self) -> int:
        return len(self.candidates)

    @property
    def gain(self) -> float:
        """Expected gain per item judged."""
        return sum(c.gain for c in self.candidates) / max(1, len(self.candidates))

    # the pair form (one candidate): anchor on the left, the candidate on the right
    @property
    def left(self) -> ClaimState:
        return self.anchor

    @property
    def right(self) -> ClaimState:
        return self.candidates[0].claim

    @property
    def p_same(self) -> float:
        return self.candidates[0].p_same

    @property
    def new_pairs(self) -> int:
        return sum(c.new_pairs for c in self.candidates)

    @property
    def evidence(self) -> Mapping[str, float]:
        return self.candidates[0].evidence

    @property
    def key(self) -> str:
        """Names the question by what it asks: the kind, the anchor's and the candidates'
        claim ids and a digest of every member set (so an answer to a stale question is
        recognised as stale)."""
        return question_key(self.kind, self.anchor, [c.claim for c in self.candidates])


def question_key(kind: str, anchor: ClaimState, candidates: Sequence[ClaimState] | ClaimState) -> str:
    if isinstance(candidates, ClaimState):
        candidates = [candidates]
    ids = "|".join(",".join(map(str, sorted(m.mention_id for m in c.members)))
                   for c in (anchor, *candidates))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:10]
    return f"{kind}:{anchor.claim_id}:{'+'.join(str(c.claim_id) for c in candidates)}:{digest}"


def parse_key(key: str) -> tuple[str, int, tuple[int, ...]]:
    """(kind, anchor id, candidate ids) of a question key; ValueError when it is none."""
    kind, anchor, candidates, digest = key.split(":")
    ids = tuple(int(c) for c in candidates.split("+"))
    if kind not in KINDS or not digest or not ids:
        raise ValueError(key)
    return kind, int(anchor), ids


def cannot_links(answers: Iterable[Answer], kind: str = "claim") -> set[tuple[int, int]]:
    """Every mention pair an editor said "no" to (each pair once, smaller id first)."""
    out: set[tuple[int, int]] = set()
    for a in answers:
        if a.kind == kind and a.verdict == "no":
            out.update((min(x, y), max(x, y)) for x in a.left for y in a.right)
    return out


def apart_groups(answers: Iterable[Answer], kind: str = "claim") -> list[tuple[frozenset[int], frozenset[int]]]:
    """The "no" answers as pairs of mention groups kept apart."""
    return [(frozenset(a.left), frozenset(a.right)) for a in answers if a.kind == kind and a.verdict == "no"]


class ReviewQueue:
    """Questions over one kind of claim (claims or FAQ questions) of one corpus.

    `ask(claims, answers, model, limit)` is a pure function of its arguments (the corpus
    statistics are cached on the instance, which is built once per session)."""

    def __init__(self, kind: str, mentions: Sequence[MentionInput],
                 vectors: Mapping[int, np.ndarray], *,
                 places: Mapping[int, tuple[object, int]] | None = None, context=None,
                 neighbours: int = CANDIDATE_NEIGHBOURS, group_max: int = GROUP_MAX,
                 lookahead: float = LOOKAHEAD) -> None:
        """`places`: {mention id: (article, position)} (see `Corpus`). `context`: a
        `dedupe.PairContext` over the same mentions; with it, each question's evidence also
        carries the engine's own features, from which the engine's pair model is fitted."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        self.kind = kind
        self.corpus = Corpus(mentions, vectors, places=places)
        self.context = context
        self.neighbours = neighbours
        self.group_max = group_max
        self.lookahead = lookahead
        self._candidates: list[tuple[int, int]] | None = None

    def evidence(self, left: ClaimState, right: ClaimState) -> dict[str, float]:
        """The evidence of two claims, stored with an answer and refitted on: each feature's
        mean over their members' cross pairs, every pair taken as two single sentences (see
        P(same) of two claims)."""
        idx = self.corpus.index
        return self.corpus.mean_evidence([idx[m.mention_id] for m in left.members],
                                         [idx[m.mention_id] for m in right.members])

    def probabilities(self, pairs: Sequence[tuple[ClaimState, ClaimState]], model: PairModel) -> np.ndarray:
        """P(same) of each pair of claims (see P(same) of two claims): the model on every
        cross pair of sentences, the pairs' logits combined as half their mean and half the
        mean of each sentence's best match on the other side (both ways)."""
        if not pairs:
            return np.zeros(0)
        idx = self.corpus.index
        rows, bounds = [], []
        for left, right in pairs:
            li = [idx[m.mention_id] for m in left.members]
            ri = [idx[m.mention_id] for m in right.members]
            bounds.append((len(rows), len(li), len(ri)))
            rows.extend(self.corpus.mean_evidence([i], [j]) for i in li for j in ri)
        p = model.probability(rows)
        logit = np.log(p / (1.0 - p))
        out = np.empty(len(pairs))
        for k, (start, a, b) in enumerate(bounds):
            m = logit[start: start + a * b].reshape(a, b)
            best = 0.5 * (m.max(axis=1).mean() + m.max(axis=0).mean())
            out[k] = 0.5 * m.mean() + 0.5 * best
        return np.clip(1.0 / (1.0 + np.exp(-out)), P_FLOOR, P_CEIL)

    def _candidate(self, anchor: ClaimState, other: ClaimState, e, p: float) -> Candidate:
        pairs = len(anchor.members) * len(other.members)
        return Candidate(other, round(float(p), 4), pairs, round(float(p) * pairs, 4), e)

    def question(self, anchor: ClaimState, others: Sequence[ClaimState], model: PairModel) -> Question:
        """The question about these claims (for an answer that names it)."""
        ev = [self.evidence(anchor, o) for o in others]
        p = self.probabilities([(anchor, o) for o in others], model)
        return self._with_engine(Question(self.kind, anchor, tuple(
            self._candidate(anchor, o, e, pk) for o, e, pk in zip(others, ev, p))))

    def _with_engine(self, q: Question) -> Question:
        """The question with the engine's features added to each candidate's evidence (named
        ENGINE_PREFIX + the engine's name)."""
        if self.context is None:
            return q
        from ..dedupe import FEATURE_NAMES

        out = []
        for c in q.candidates:
            values = self.context.claim_features([m.mention_id for m in q.anchor.members],
                                                 [m.mention_id for m in c.claim.members])
            extra = {ENGINE_PREFIX + n: round(float(v), 6) for n, v in zip(FEATURE_NAMES, values)}
            out.append(Candidate(c.claim, c.p_same, c.new_pairs, c.gain, {**c.evidence, **extra}))
        return Question(q.kind, q.anchor, tuple(out))

    def _mention_candidates(self) -> list[tuple[int, int]]:
        if self._candidates is None:
            pairs = set()
            for i in range(len(self.corpus)):
                for j in self.corpus.nearest(i, self.neighbours):
                    pairs.add((min(i, j), max(i, j)))
            self._candidates = sorted(pairs)
        return self._candidates

    def settled(self, claims: Sequence[ClaimState], answers: Sequence[Answer],
                apart: Sequence[tuple[frozenset[int], frozenset[int]]] = ()) -> set[tuple[int, int]]:
        """Claim pairs (smaller id first) that an answer already settles as different: a
        "no" (or a cannot-link group) between any member of one and any member of the
        other. Transitivity: a claim that grew by a "yes" carries its members' "no"s."""
        claim_of = {m.mention_id: c.claim_id for c in claims for m in c.members}
        out: set[tuple[int, int]] = set()
        for ga, gb in [*apart_groups(answers, self.kind), *apart]:
            ca = {claim_of[m] for m in ga if m in claim_of}
            cb = {claim_of[m] for m in gb if m in claim_of}
            out.update((min(a, b), max(a, b)) for a in ca for b in cb if a != b)
        return out

    def scored_pairs(self, claims: Sequence[ClaimState], answers: Sequence[Answer], model: PairModel,
                     apart: Sequence[tuple[frozenset[int], frozenset[int]]] = ()
                     ) -> list[tuple[float, int, int, float, Mapping[str, float]]]:
        """Every open candidate pair of claims: (expected gain, smaller id, larger id,
        P(same), evidence), best first."""
        idx = self.corpus.index
        label_of: dict[int, int] = {}
        by_id: dict[int, ClaimState] = {}
        for c in claims:
            by_id[c.claim_id] = c
            for m in c.members:
                if m.mention_id in idx:
                    label_of[idx[m.mention_id]] = c.claim_id
        banned = self.settled(claims, answers, apart)
        skipped = {question_key_sets(a.left, a.right) for a in answers
                   if a.kind == self.kind and a.verdict == "skip"}
        seen: set[tuple[int, int]] = set()
        cands: list[tuple[ClaimState, ClaimState]] = []
        for i, j in self._mention_candidates():
            a, b = label_of.get(i), label_of.get(j)
            if a is None or b is None or a == b:
                continue
            key = (min(a, b), max(a, b))
            if key in seen or key in banned:
                continue
            seen.add(key)
            left, right = by_id[key[0]], by_id[key[1]]
            if question_key_sets([m.mention_id for m in left.members],
                                 [m.mention_id for m in right.members]) in skipped:
                continue
            cands.append((left, right))
        if not cands:
            return []
        ev = [self.evidence(left, right) for left, right in cands]
        p = self.probabilities(cands, model)
        # each claim's expected newcomers: sum of P(same) x size over its open candidates
        expected: dict[int, float] = {}
        for (left, right), pk in zip(cands, p):
            expected[left.claim_id] = expected.get(left.claim_id, 0.0) + pk * len(right.members)
            expected[right.claim_id] = expected.get(right.claim_id, 0.0) + pk * len(left.members)
        out = []
        for (left, right), e, pk in zip(cands, ev, p):
            a, b = len(left.members), len(right.members)
            # a yes brings a + b sentences into one claim, and the claim will also take in
            # whatever later joins either side (transitivity): expected newcomers
            # (sum of P x size over each side's other open candidates)
            size = a + b - 1 + self.lookahead * (max(0.0, expected[left.claim_id] - pk * b)
                                                 + max(0.0, expected[right.claim_id] - pk * a))
            out.append((round(float(pk) * size, 4), left.claim_id, right.claim_id, round(float(pk), 4), e))
        out.sort(key=lambda t: (-t[0], t[1], t[2]))
        return out

    def ask(self, claims: Sequence[ClaimState], answers: Sequence[Answer], model: PairModel,
            limit: int = 1, *, apart: Sequence[tuple[frozenset[int], frozenset[int]]] = (),
            groups: bool = False) -> list[Question]:
        """The next `limit` questions, best first, no claim in two of them (so a batch can
        be answered in any order). `apart`: cannot-link groups beyond the answers' own
        (the store's, which span the merged claims). Pair questions (one candidate each)
        unless `groups=True` (see the module's note on groups)."""
        scored = self.scored_pairs(claims, answers, model, apart)
        by_id = {c.claim_id: c for c in claims}
        used: set[int] = set()
        out: list[Question] = []

        def candidate(anchor: int, row) -> Candidate:
            gain, x, y, p, e = row
            other = by_id[y if x == anchor else x]
            return Candidate(other, p, len(by_id[anchor].members) * len(other.members), gain, e)

        for k, row in enumerate(scored):
            if len(out) == limit:
                break
            _, a, b, _, _ = row
            if a in used or b in used:
                continue
            chosen = (a, [row])
            if groups and self.group_max > 1:
                # a group candidate must be worth at least the next best question elsewhere
                bar = next((r[0] for r in scored[k + 1:] if not ({r[1], r[2]} & (used | {a, b}))), 0.0)
                for anchor in sorted((a, b), key=lambda c: (-len(by_id[c].members), c)):
                    rows = [r for r in scored[k:] if anchor in (r[1], r[2]) and r[0] >= bar
                            and (r[2] if r[1] == anchor else r[1]) not in used][: self.group_max]
                    if len(rows) > len(chosen[1]):
                        chosen = (anchor, rows)
            anchor, rows = chosen
            q = Question(self.kind, by_id[anchor], tuple(candidate(anchor, r) for r in rows))
            used |= {anchor, *(c.claim.claim_id for c in q.candidates)}
            out.append(self._with_engine(q))
        return out


def question_key_sets(left: Iterable[int], right: Iterable[int]) -> frozenset[frozenset[int]]:
    return frozenset((frozenset(left), frozenset(right)))
