"""Cross-site clustering of claim mentions into canonical claims (and FAQ questions into
canonical questions).

Pure: takes mentions and the claims already stored, returns membership decisions. No
database, no network, no clock. The store persists what this decides; the orchestrator
wires the two.

Contract used by the orchestrator (keep it stable):
- `cluster_claims(existing, new, next_claim_id=...)` -> tuple[Membership, ...], one per new
  mention, each naming an existing claim id or a fresh one (>= next_claim_id).
- `choose_canonical(claim)` -> the mention id whose text is the claim's canonical text.
- `rebuild(existing, next_claim_id=...)` -> memberships for every mention, re-clustered from
  scratch, with old claim ids kept for the clusters that carry on.
- `cluster_questions(existing, new, next_id=...)`, `rebuild_questions(...)`: the same for FAQ
  questions (MentionInput.text is the question).

Optional keyword arguments of all of them:
- `embeddings`: {mention_id: vector or bytes} already computed (the store's cache). Missing
  vectors are encoded; when a dict is passed, the new ones are written into it so the
  caller can persist them (`embedding_to_bytes`).
- `embedder`: an `Embedder`; default: all-MiniLM-L6-v2, loaded on first use.
- `constraints`: `Constraints` (editor pins, merges and splits) respected by every run.
- `settings`: `Settings`, the decision's knobs; for claims its `merge_model` (the calibrated
  `MergeModel` of settings.py, fitted on annotated golds by benchmarks/merge_model.py)
  decides paraphrase merges.
- `pair_model`: a `PairModel` (features.py) fitted from editor answers; when given it decides
  paraphrase merges instead.

Order: mentions are decided one at a time in the canonical order of `order.py` (publication
date, site, article URL, sentence position: never fetch timing or mention ids), each seeing
only the mentions before it (neighbour search included: see neighbours.py). An incremental
run whose new mentions all sort after the stored ones (`appends_in_order`) therefore gives
exactly the clusters a rebuild gives; when one sorts earlier (an older article found late,
a revised article), the caller rebuilds instead: `rebuild(claims, new=...)`.

For the review queue: `PairContext` (features.py) gives the evidence of any two mentions or
claims as a named feature vector; `Constraints.cannot_link_groups` records "these two
claims differ"; `conflicting_figures` (conflicts.py) flags members stating other figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, MutableMapping, Sequence

import numpy as np

from ..types import MentionInput, Membership
from .canonical import choose_canonical, readability
from .conflicts import Conflict, conflicting_figures
from .evidence import Figure, figures, mismatches, signature
from .features import FEATURE_NAMES, MergeModel, PairContext, PairModel
from .order import appends_in_order, in_canonical_order, order_key
from .embed import (Embedder, MiniLMEmbedder, default_embedder, embedding_from_bytes,
                    embedding_to_bytes, normalize_rows)
from .engine import CLAIM_SETTINGS, QUESTION_SETTINGS, Constraints, Engine, Settings
from .settings import MERGE_MODEL
from .normalize import content_terms, normalize_for_match

__all__ = [
    "ClaimState", "Constraints", "Embedder", "MiniLMEmbedder", "Settings",
    "CLAIM_SETTINGS", "QUESTION_SETTINGS", "MERGE_MODEL", "MergeModel",
    "cluster_claims", "rebuild", "cluster_questions", "rebuild_questions",
    "choose_canonical", "embed_mentions", "embedding_to_bytes", "embedding_from_bytes",
    "normalize_for_match", "content_terms", "readability",
    "order_key", "in_canonical_order", "appends_in_order",
    "FEATURE_NAMES", "PairContext", "PairModel", "signature", "mismatches", "figures", "Figure",
    "Conflict", "conflicting_figures",
]

_NO_CLAIM = -(1 << 62)  # the claim of mentions given to `rebuild` that have none yet


@dataclass(frozen=True, slots=True)
class ClaimState:
    """A claim as stored: its id and current member mentions."""

    claim_id: int
    members: tuple[MentionInput, ...]
    pinned_mention: int | None = None  # an editor's choice of canonical text


QuestionState = ClaimState  # a canonical FAQ question: same shape


def embed_mentions(mentions: Sequence[MentionInput], *, embedder: Embedder | None = None,
                   known: Mapping[int, np.ndarray | bytes] | None = None
                   ) -> dict[int, np.ndarray]:
    """Vectors for `mentions`: taken from `known` when there, encoded otherwise."""
    known = known or {}
    out: dict[int, np.ndarray] = {}
    missing: list[MentionInput] = []
    for m in mentions:
        v = known.get(m.mention_id)
        if v is None:
            missing.append(m)
        else:
            out[m.mention_id] = embedding_from_bytes(v) if isinstance(v, (bytes, bytearray,
                                                                        memoryview)) else v
    if missing:
        # each distinct text once: syndicated copies are often verbatim (13% of the
        # synthetic scale corpus), and the store caches vectors by text anyway
        texts = list(dict.fromkeys(m.text for m in missing))
        enc = normalize_rows((embedder or default_embedder()).encode(texts))
        row = {t: i for i, t in enumerate(texts)}
        for m in missing:
            out[m.mention_id] = enc[row[m.text]]
    return out


def _matrix(mentions: Sequence[MentionInput], embedder: Embedder | None,
            embeddings: Mapping[int, np.ndarray | bytes] | None) -> np.ndarray:
    vecs = embed_mentions(mentions, embedder=embedder, known=embeddings)
    if isinstance(embeddings, MutableMapping):
        for mid, v in vecs.items():
            if mid not in embeddings:
                embeddings[mid] = v
    if not mentions:
        return np.zeros((0, 1), dtype=np.float32)
    out = np.stack([vecs[m.mention_id] for m in mentions], dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out /= norms  # in place: at 100k mentions each copy of the matrix is 150 MB
    return out


def _flatten(existing: Sequence[ClaimState]) -> tuple[list[MentionInput], list[int]]:
    pairs = sorted(((m, c.claim_id) for c in existing for m in c.members),
                   key=lambda p: order_key(p[0]))
    return [m for m, _ in pairs], [c for _, c in pairs]


def _cluster(existing: Sequence[ClaimState], new: Sequence[MentionInput], next_id: int,
             settings: Settings, embedder, embeddings, constraints,
             pair_model=None) -> tuple[Membership, ...]:
    old, labels = _flatten(existing)
    order = sorted(range(len(new)), key=lambda i: order_key(new[i]))
    todo = [new[i] for i in order]
    vecs = _matrix(old + todo, embedder, embeddings)
    dim = vecs.shape[1]
    eng = Engine(settings, dim, constraints, capacity=len(old) + len(todo), storage=vecs,
                 pair_model=pair_model)
    if old:
        eng.load([m.mention_id for m in old], [m.site for m in old], [m.text for m in old],
                 vecs[: len(old)], labels)
    counter = [next_id]
    taken = set(labels) | {c for _, c in eng.c.fixed}

    def fresh() -> int:
        while counter[0] in taken:
            counter[0] += 1
        taken.add(counter[0])
        return counter[0]

    decisions = eng.add([m.mention_id for m in todo], [m.site for m in todo],
                        [m.text for m in todo], vecs[len(old):], fresh)
    by_id = {todo[k].mention_id: d for k, d in enumerate(decisions)}
    return tuple(Membership(m.mention_id, by_id[m.mention_id].label, by_id[m.mention_id].method,
                            float(by_id[m.mention_id].score)) for m in new)


def _rebuild(claims: Sequence[ClaimState], next_id: int, settings: Settings, embedder,
             embeddings, constraints, new: Sequence[MentionInput] = (),
             pair_model=None) -> tuple[Membership, ...]:
    mentions, old_labels = _flatten(list(claims) + [ClaimState(_NO_CLAIM, tuple(new))])
    old_labels = [None if c == _NO_CLAIM else c for c in old_labels]
    constraints = constraints or Constraints()
    fixed_ids = {c for _, c in constraints.fixed}
    temp = [0]

    def fresh() -> int:  # temporary labels, negative, mapped to claim ids below
        temp[0] -= 1
        return temp[0]

    vecs = _matrix(mentions, embedder, embeddings)
    eng = Engine(settings, vecs.shape[1], constraints, capacity=len(mentions), storage=vecs,
                 pair_model=pair_model)
    decisions = eng.add([m.mention_id for m in mentions], [m.site for m in mentions],
                        [m.text for m in mentions], vecs, fresh)
    # carry old ids over: largest overlap first; each old id to one cluster at most
    overlap: dict[tuple[int, int], int] = {}
    first_index: dict[int, int] = {}
    for k, d in enumerate(decisions):
        first_index.setdefault(d.label, k)
        if d.label < 0 and old_labels[k] is not None:
            overlap[(d.label, old_labels[k])] = overlap.get((d.label, old_labels[k]), 0) + 1
    mapping: dict[int, int] = {}
    used = set(fixed_ids)
    for (lab, old), cnt in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0][1], -kv[0][0])):
        if lab < 0 and lab not in mapping and old not in used:
            mapping[lab] = old
            used.add(old)
    retired = {c for c in old_labels if c is not None} | used
    counter = next_id
    for lab in sorted((lab for lab in first_index if lab < 0 and lab not in mapping),
                      key=lambda lab: first_index[lab]):
        while counter in retired:
            counter += 1
        mapping[lab] = counter
        retired.add(counter)
    return tuple(Membership(m.mention_id, mapping.get(d.label, d.label), d.method, float(d.score))
                 for m, d in zip(mentions, decisions))


def cluster_claims(existing: Sequence[ClaimState], new: Sequence[MentionInput], *,
                   next_claim_id: int, embedder: Embedder | None = None,
                   embeddings: Mapping[int, np.ndarray | bytes] | None = None,
                   constraints: Constraints | None = None,
                   settings: Settings = CLAIM_SETTINGS,
                   pair_model: PairModel | None = None) -> tuple[Membership, ...]:
    """Assign each new mention to an existing claim or a new one (ids from next_claim_id).
    The new mentions are decided after every existing one, in canonical order among
    themselves; check `appends_in_order` first if incremental must equal rebuild."""
    return _cluster(existing, new, next_claim_id, settings, embedder, embeddings, constraints,
                    pair_model)


def rebuild(claims: Sequence[ClaimState], *, next_claim_id: int,
            new: Sequence[MentionInput] = (),
            embedder: Embedder | None = None,
            embeddings: Mapping[int, np.ndarray | bytes] | None = None,
            constraints: Constraints | None = None,
            settings: Settings = CLAIM_SETTINGS,
            pair_model: PairModel | None = None) -> tuple[Membership, ...]:
    """Re-cluster every mention (the claims' members and the `new` ones, which have no claim
    yet) from scratch in canonical order; clusters that carry on keep their old id (the one
    they share most mentions with), new clusters get ids >= next_claim_id, and ids of claims
    that vanish are never reused. In canonical order."""
    return _rebuild(claims, next_claim_id, settings, embedder, embeddings, constraints, new,
                    pair_model)


def cluster_questions(existing: Sequence[ClaimState], new: Sequence[MentionInput], *,
                      next_id: int, embedder: Embedder | None = None,
                      embeddings: Mapping[int, np.ndarray | bytes] | None = None,
                      constraints: Constraints | None = None,
                      settings: Settings = QUESTION_SETTINGS) -> tuple[Membership, ...]:
    """Like `cluster_claims`, for FAQ questions: one canonical question per cluster, whose
    members' answers are every partner's answer. (Questions are ordered canonically too; a
    question found late is appended, which may differ from `rebuild_questions`.)"""
    return _cluster(existing, new, next_id, settings, embedder, embeddings, constraints)


def rebuild_questions(questions: Sequence[ClaimState], *, next_id: int,
                      embedder: Embedder | None = None,
                      embeddings: Mapping[int, np.ndarray | bytes] | None = None,
                      constraints: Constraints | None = None,
                      settings: Settings = QUESTION_SETTINGS) -> tuple[Membership, ...]:
    """Like `rebuild`, for FAQ questions."""
    return _rebuild(questions, next_id, settings, embedder, embeddings, constraints)
