"""The clustering entry points: mentions and the claims already stored in, membership
decisions out (the contract is in the package docstring, `pipeline/dedupe/__init__.py`).

Owns: `ClaimState`, the sentence vectors of a batch (`embed_mentions`: the cache first, the
encoder for the rest), the order mentions are decided in, and the carrying over of claim ids
in a rebuild. Must not: touch the database, the network or the clock (the store-wired side
is `pipeline/clustering.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, MutableMapping, Sequence

import numpy as np

from ..types import MentionInput, Membership
from .embed import EncodedRows, Embedder, default_embedder, embedding_from_bytes, normalize_rows
from .engine import Engine
from .features import PairModel
from .order import order_key
from .settings import CLAIM_SETTINGS, QUESTION_SETTINGS, Constraints, Settings

_NO_CLAIM = -(1 << 62)  # the claim of mentions given to `rebuild` that have none yet


@dataclass(frozen=True, slots=True)
class ClaimState:
    """A claim as stored: its id and current member mentions."""

    claim_id: int
    members: tuple[MentionInput, ...]
    pinned_mention: int | None = None  # an editor's choice of canonical text


QuestionState = ClaimState  # a canonical FAQ question: same shape


class EngineMemo:
    """The engine's state after a clustering pass, kept for the next incremental run.

    An increment used to rebuild the state of the stored mentions in bulk (`Engine.load`):
    every stored text's words, key and signature (Python, per text), the statistics' sums
    over every stored vector, the neighbour lists trained again and every vector filed. All
    of it linear in the corpus, it cost 10% of a full build at 100k-300k mentions (issue 20),
    where adding 1% should cost about 1%. A run that passes a memo gets, at its end, the
    state its pass left (`data`, pickled bytes the caller may keep anywhere: the store
    saves it beside the database); the next run that passes it back, over exactly those
    stored mentions and vectors (checked: `Engine.fits`), starts from it instead. A memo
    that does not fit (other mentions, another encoder, other settings) is ignored and
    replaced: the result is the same either way, only the time differs."""

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data
        self.used = False  # whether the last run started from the memo

    def state(self) -> dict | None:
        if not self.data:
            return None
        import pickle

        try:
            return pickle.loads(self.data)
        except Exception:  # a memo of an older layout, or damaged: recomputed instead
            return None

    def keep(self, engine: Engine) -> None:
        import pickle

        self.data = pickle.dumps(engine.snapshot(), protocol=pickle.HIGHEST_PROTOCOL)


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
    """The mentions' unit vectors as one matrix (all encoded before it returns); new
    vectors are written into `embeddings` when it is a dict."""
    rows = _vectors(mentions, embedder, embeddings, background=False)
    _remember(rows, mentions, embeddings)
    return rows.matrix


def _vectors(mentions: Sequence[MentionInput], embedder: Embedder | None,
             embeddings: Mapping[int, np.ndarray | bytes] | None, *,
             background: bool | None = None) -> EncodedRows:
    """The mentions' vectors, in their order: from `embeddings` when there, encoded otherwise
    (each distinct text once; many of them in the background while the engine runs)."""
    known = embeddings or {}
    given = []
    for m in mentions:
        v = known.get(m.mention_id)
        given.append(embedding_from_bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else v)
    return EncodedRows([m.text for m in mentions], given,
                       embedder if embedder is not None else _LazyDefault(), background=background)


class _LazyDefault:
    """The default embedder, made only if something needs encoding."""

    def encode(self, texts):
        return default_embedder().encode(texts)


def _remember(rows: EncodedRows, mentions: Sequence[MentionInput], embeddings) -> None:
    """Hand the vectors encoded here back to the caller's cache (views of the matrix)."""
    if isinstance(embeddings, MutableMapping):
        for i in rows.encoded_rows():
            m = mentions[int(i)]
            if m.mention_id not in embeddings:
                embeddings[m.mention_id] = rows.matrix[i]


def _flatten(existing: Sequence[ClaimState]) -> tuple[list[MentionInput], list[int]]:
    pairs = sorted(((m, c.claim_id) for c in existing for m in c.members),
                   key=lambda p: order_key(p[0]))
    return [m for m, _ in pairs], [c for _, c in pairs]


def _cluster(existing: Sequence[ClaimState], new: Sequence[MentionInput], next_id: int,
             settings: Settings, embedder, embeddings, constraints,
             pair_model=None, memo: EngineMemo | None = None) -> tuple[Membership, ...]:
    old, labels = _flatten(existing)
    order = sorted(range(len(new)), key=lambda i: order_key(new[i]))
    todo = [new[i] for i in order]
    rows = _vectors(old + todo, embedder, embeddings)
    try:
        vecs = rows.matrix
        eng = Engine(settings, vecs.shape[1], constraints, capacity=len(old) + len(todo),
                     storage=vecs, pair_model=pair_model)
        if memo is not None:
            memo.used = False
        kept = memo.state() if memo is not None and old else None
        if kept is not None and eng.fits(kept, [m.mention_id for m in old], rows[: len(old)]):
            eng.restore(kept, labels)
            memo.used = True
        elif old:
            eng.load([m.mention_id for m in old], [m.site for m in old], [m.text for m in old],
                     rows[: len(old)], labels)
        counter = [next_id]
        taken = set(labels) | {c for _, c in eng.c.fixed}

        def fresh() -> int:
            while counter[0] in taken:
                counter[0] += 1
            taken.add(counter[0])
            return counter[0]

        decisions = eng.add([m.mention_id for m in todo], [m.site for m in todo],
                            [m.text for m in todo], rows.after(len(old)), fresh)
        if memo is not None:
            memo.keep(eng)
    except BaseException:
        rows.cancel()
        raise
    rows.close()
    _remember(rows, old + todo, embeddings)
    by_id = {todo[k].mention_id: d for k, d in enumerate(decisions)}
    return tuple(Membership(m.mention_id, by_id[m.mention_id].label, by_id[m.mention_id].method,
                            float(by_id[m.mention_id].score)) for m in new)


def _rebuild(claims: Sequence[ClaimState], next_id: int, settings: Settings, embedder,
             embeddings, constraints, new: Sequence[MentionInput] = (),
             pair_model=None, memo: EngineMemo | None = None) -> tuple[Membership, ...]:
    mentions, old_labels = _flatten(list(claims) + [ClaimState(_NO_CLAIM, tuple(new))])
    old_labels = [None if c == _NO_CLAIM else c for c in old_labels]
    constraints = constraints or Constraints()
    fixed_ids = {c for _, c in constraints.fixed}
    temp = [0]

    def fresh() -> int:  # temporary labels, negative, mapped to claim ids below
        temp[0] -= 1
        return temp[0]

    rows = _vectors(mentions, embedder, embeddings)
    try:
        eng = Engine(settings, rows.matrix.shape[1], constraints, capacity=len(mentions),
                     storage=rows.matrix, pair_model=pair_model)
        decisions = eng.add([m.mention_id for m in mentions], [m.site for m in mentions],
                            [m.text for m in mentions], rows, fresh)
        if memo is not None:
            memo.keep(eng)
    except BaseException:
        rows.cancel()
        raise
    rows.close()
    _remember(rows, mentions, embeddings)
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
                   pair_model: PairModel | None = None,
                   memo: EngineMemo | None = None) -> tuple[Membership, ...]:
    """Assign each new mention to an existing claim or a new one (ids from next_claim_id).
    The new mentions are decided after every existing one, in canonical order among
    themselves; check `appends_in_order` first if incremental must equal rebuild. With a
    `memo` the stored mentions' state comes from it when it fits, and is left in it."""
    return _cluster(existing, new, next_claim_id, settings, embedder, embeddings, constraints,
                    pair_model, memo)


def rebuild(claims: Sequence[ClaimState], *, next_claim_id: int,
            new: Sequence[MentionInput] = (),
            embedder: Embedder | None = None,
            embeddings: Mapping[int, np.ndarray | bytes] | None = None,
            constraints: Constraints | None = None,
            settings: Settings = CLAIM_SETTINGS,
            pair_model: PairModel | None = None,
            memo: EngineMemo | None = None) -> tuple[Membership, ...]:
    """Re-cluster every mention (the claims' members and the `new` ones, which have no claim
    yet) from scratch in canonical order; clusters that carry on keep their old id (the one
    they share most mentions with), new clusters get ids >= next_claim_id, and ids of claims
    that vanish are never reused. In canonical order. A `memo` is left the pass's state."""
    return _rebuild(claims, next_claim_id, settings, embedder, embeddings, constraints, new,
                    pair_model, memo)


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
