"""Nearest earlier mentions by raw cosine: the candidate generator of the clustering engine.

Owns: faiss (the only module that imports it), the inverted-file lists and their training.
Must not: decide anything; know about texts, claims or the database.

Why not exact search throughout. Each mention looks for its nearest *earlier* mentions, so an
exact search costs n^2/2 dot products over a corpus: 100k mentions took minutes and grew as
n^1.4 on the way to n^2 (issue 5). Below `exact_limit` mentions the search stays exact (the
partner gold is far below it, so its figures do not depend on this module); above it an
inverted file (IVF) is searched: the vectors are split into lists around centroids and only
the `probes` lists nearest to the query are scanned, so a query costs about
probes x list_size dot products whatever the corpus size.

Why the lists are trained at checkpoints, on a prefix. Incremental runs must give the
clusters a rebuild gives, so the candidates of mention t may depend only on mentions before
it. The centroids are trained at the engine's checkpoints on the first c vectors (a
deterministic spherical k-means, numpy only), and "the candidates of t" is then a defined
set: the earlier mentions whose list is among t's probed lists, ranked exactly. A rebuild and
an incremental run that loads the stored mentions build the same lists and get the same set.
"""
from __future__ import annotations

import numpy as np

EXACT_LIMIT = 16384  # corpus size from which the inverted file is used (MiniLM on the
# synthetic corpus: exact 2.4 s vs inverted file 2.8 s at 10k, 12.2 s vs 10.5 s at 30k)
LIST_SIZE = 128  # mentions per list at training time (the list count grows with the corpus)
PROBES = 16  # lists scanned per query
TRAIN_SAMPLE = 16384  # at most this many prefix vectors train the centroids
TRAIN_ROUNDS = 8


def train_centroids(x: np.ndarray, lists: int, rounds: int = TRAIN_ROUNDS) -> np.ndarray:
    """Spherical k-means, deterministic: evenly spaced seeds, a fixed number of rounds."""
    if len(x) > TRAIN_SAMPLE:
        x = x[np.linspace(0, len(x) - 1, TRAIN_SAMPLE).astype(np.int64)]
    x = np.ascontiguousarray(x, dtype=np.float32)
    cent = x[np.linspace(0, len(x) - 1, lists).astype(np.int64)].copy()
    for _ in range(rounds):
        assign = np.argmax(x @ cent.T, axis=1)
        sums = np.zeros_like(cent)
        np.add.at(sums, assign, x)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        keep = norms[:, 0] > 0  # an empty list keeps its old centroid
        cent[keep] = sums[keep] / norms[keep]
    return cent


class NeighbourSearch:
    """The vectors of the corpus so far, in engine order, and search over them."""

    def __init__(self, dim: int, k: int, *, exact_limit: int = EXACT_LIMIT,
                 list_size: int = LIST_SIZE, probes: int = PROBES) -> None:
        self.dim, self.k = dim, k
        self.exact_limit, self.list_size, self.probes = exact_limit, list_size, probes
        self.size = 0  # vectors indexed
        self.trained_at = 0  # corpus size the lists were trained on (0: exact search)
        self.centroids: np.ndarray | None = None
        self._index = None

    def _lists(self, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Each vector's own list (its nearest centroid), a chunk at a time: the score
        matrix of a whole corpus against every centroid would be hundreds of MB."""
        out = np.empty(len(x), dtype=np.int64)
        for lo in range(0, len(x), chunk):
            out[lo: lo + chunk] = np.argmax(x[lo: lo + chunk] @ self.centroids.T, axis=1)
        return out

    def _probes(self, scores: np.ndarray) -> np.ndarray:
        """The `probes` lists nearest to each query, best first, from its centroid scores."""
        p = min(self.probes, len(self.centroids))
        top = np.argpartition(-scores, p - 1, axis=1)[:, :p]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1)

    def train(self, prefix: np.ndarray) -> None:
        """New lists from the first len(prefix) vectors (the whole corpus so far)."""
        import faiss

        lists = max(16, len(prefix) // self.list_size)
        self.centroids = train_centroids(prefix, lists)
        quantizer = faiss.IndexFlatIP(self.dim)
        quantizer.add(self.centroids)
        self._quantizer = quantizer  # the index keeps a pointer, not a reference
        self._index = faiss.IndexIVFFlat(quantizer, self.dim, lists, faiss.METRIC_INNER_PRODUCT)
        self._index.is_trained = True
        self._index.nprobe = min(self.probes, lists)
        self.size = 0
        self.trained_at = len(prefix)
        self.add(prefix)

    def add(self, x: np.ndarray) -> None:
        if self._index is None:
            self.size += len(x)
            return
        import faiss

        x = np.ascontiguousarray(x, dtype=np.float32)
        lists = self._lists(x)
        ids = np.arange(self.size, self.size + len(x), dtype=np.int64)
        self._index.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(lists))
        self.size += len(x)

    @property
    def approximate(self) -> bool:
        return self._index is not None

    def search_block(self, block: np.ndarray, earlier: np.ndarray
                     ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Neighbours of each row of `block` (the next vectors in engine order, not yet
        added) among the indexed vectors and the block rows before it: per row, indices
        into the corpus and raw cosines, best first (ties by index). `earlier` is the corpus
        so far (used when the search is exact)."""
        base, b, k = self.size, len(block), self.k
        if self._index is None:
            sims = block @ np.concatenate([earlier[:base], block]).T
            cand = None
        else:
            scores = block @ self.centroids.T
            probe = self._probes(scores)
            dq = np.ascontiguousarray(np.take_along_axis(scores, probe, axis=1), dtype=np.float32)
            d, i = self._index.search_preassigned(np.ascontiguousarray(block), k,
                                                  np.ascontiguousarray(probe, dtype=np.int64), dq)
            own = np.argmax(scores, axis=1)  # as `add` will file them
            inner = block @ block.T
            # a block row is a candidate of a later row only when its list is probed by it
            probed = (own[None, :, None] == probe[:, None, :]).any(axis=2)
            inner[~probed] = -np.inf
            sims = np.concatenate([d, inner], axis=1)
            cand = np.concatenate([i, np.broadcast_to(np.arange(base, base + b), (b, b))], axis=1)
        out_i, out_s = [], []
        for r in range(b):
            if cand is None:
                row = sims[r, : base + r]
                idx = np.arange(base + r)
            else:
                keep = np.concatenate([cand[r, :k] >= 0, np.arange(b) < r])
                row = sims[r][keep]
                idx = cand[r][keep]
                fin = np.isfinite(row)
                row, idx = row[fin], idx[fin]
            if cand is None and len(row) > k:  # exact: the prefix layout is the same in every run
                top = np.argpartition(-row, k - 1)[:k]
                row, idx = row[top], idx[top]
            order = np.lexsort((idx, -row))[:k]  # ties broken by position, whatever the layout
            out_i.append(idx[order].astype(np.int64))
            out_s.append(row[order])
        return out_i, out_s
