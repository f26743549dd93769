"""The features of any two mentions (or claims) of one corpus, computed by the clustering
engine's own code: what the review queue shows and fits its pair model on.

Owns: `PairContext` (the contract is in features.py). Must not: decide a merge, touch the
database. Sits above `engine` (which it drives) and `features` (the names it computes), so
that neither of those imports the other back.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..types import MentionInput
from .cluster import _matrix
from .engine import Engine
from .features import FEATURE_NAMES, claim_rows
from .order import in_canonical_order
from .settings import CLAIM_SETTINGS


class PairContext:
    """Features of any two mentions (or claims) of one corpus, as the engine computes them."""

    def __init__(self, engine, index_of: Mapping[int, int]) -> None:
        self._engine = engine
        self._index_of = dict(index_of)

    @staticmethod
    def build(mentions: Sequence[MentionInput], *, embeddings=None, embedder=None,
              settings=None) -> "PairContext":
        ms = in_canonical_order(mentions)
        vecs = _matrix(ms, embedder, embeddings)
        eng = Engine(settings or CLAIM_SETTINGS, vecs.shape[1], capacity=len(ms), storage=vecs)
        eng.load([m.mention_id for m in ms], [m.site for m in ms], [m.text for m in ms],
                 vecs, list(range(len(ms))), statistics="all")
        return PairContext(eng, {m.mention_id: i for i, m in enumerate(ms)})

    def mention_features(self, a: int, b: int) -> np.ndarray:
        """The PAIR_FEATURES row of two mention ids (order does not matter)."""
        i, j = self._index_of[a], self._index_of[b]
        return self._engine.pair_features(i, np.array([j]), texts=True)[0]

    def claim_features(self, a: Sequence[int], b: Sequence[int],
                       names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
        """The named claim-level features over every (member of a, member of b) pair."""
        rows = np.concatenate([self._engine.pair_features(
            self._index_of[x], np.array([self._index_of[y] for y in b]), texts=True) for x in a])
        return claim_rows(rows, np.array([0]), np.array([len(rows)]), names)[0]
