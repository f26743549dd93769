"""Nearest earlier mentions by raw cosine: the candidate generator of the clustering engine.

Owns: faiss (the only module that imports it), the inverted-file lists, their centroids,
their training and when they are retrained, and what of them is kept between runs (the
centroids and each vector's list: `snapshot`/`restore`).
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
it. The centroids are trained at checkpoints of the engine on the first c vectors (a
deterministic spherical k-means, numpy only), and "the candidates of t" is then a defined
set: the earlier mentions whose list is among t's probed lists, ranked exactly. A rebuild and
an incremental run that loads the stored mentions build the same lists and get the same set.

What keeps it near-linear up to millions (issue 20). Three costs grew faster than the corpus:
- retraining at every engine checkpoint (every 16,384 mentions) re-filed every vector each
  time: n^2 / 16,384 assignments. The lists are now retrained when the corpus has grown by
  `GROWTH` (sqrt 2) since the last training, at an engine checkpoint: a geometric series, so
  all the re-filing together costs a few times n;
- the number of lists grows with the corpus (list_size mentions each), and finding a
  query's nearest lists meant scoring every centroid: n / list_size dot products per query.
  Past `FLAT_LISTS` lists the centroids are grouped under about sqrt(lists) coarse
  centroids: a query scores the coarse ones, then only the lists of its `COARSE_PROBES`
  nearest groups (a two-level quantizer), about 2 sqrt(lists) dot products;
- k-means over thousands of centroids: trained the same two-level way, on a sample that
  grows with the number of lists (`TRAIN_PER_LIST` vectors each).
A mention's own list is its nearest list (grouped: the nearest list of its nearest group);
filing and the check of which block rows a query may see use the same function.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

EXACT_LIMIT = 16384  # corpus size from which the inverted file is used (MiniLM on the
# synthetic corpus: exact 2.4 s vs inverted file 2.8 s at 10k, 12.2 s vs 10.5 s at 30k)
LIST_SIZE = 128  # mentions per list at training time (the list count grows with the corpus)
PROBES = 16  # lists scanned per query
TRAIN_SAMPLE = 16384  # prefix vectors that train the centroids (at least)
TRAIN_PER_LIST = 16  # ... and at least this many per list once the lists are grouped
TRAIN_ROUNDS = 8
GROWTH = math.sqrt(2)  # the lists are retrained when the corpus has grown this much
FLAT_LISTS = 1024  # up to this many lists every centroid is scored; past it, two levels
COARSE_PROBES = 8  # groups of lists whose lists a query scores (two-level quantizer)
FILE_CHUNK = 8192  # vectors filed at a time (the score matrix stays small)
RESCORE = 2  # the lists hold 8-bit codes: RESCORE x k candidates by code, the k best exactly


def _faiss():
    """faiss, on one thread. The engine is one thread and a search block is small (512
    queries): faiss' OpenMP threads mostly waited for each other, and on a busy machine they
    spin on a core another process needs (the encoder's background thread, when overlapped)."""
    import faiss

    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)
    return faiss


def _doubling(n: int) -> int:
    return max(16, 1 << n.bit_length())


_LAST = np.iinfo(np.int64).max


def _best(scores: np.ndarray, key: np.ndarray, p: int) -> np.ndarray:
    """Positions of the p best scores of each row, best first; ties go to the lower key
    (a list id), so that a vector's best list is the same whether 1 or p are asked for."""
    p = min(p, scores.shape[1])
    if p == 1:
        best = scores.max(axis=1, keepdims=True)
        return np.where(scores == best, key, _LAST).argmin(axis=1)[:, None]
    if p < scores.shape[1]:
        top = np.argpartition(-scores, p - 1, axis=1)[:, :p]
    else:
        top = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((np.take_along_axis(key, top, axis=1),
                        -np.take_along_axis(scores, top, axis=1)), axis=1)
    return np.take_along_axis(top, order, axis=1)


def train_centroids(x: np.ndarray, lists: int, rounds: int = TRAIN_ROUNDS,
                    sample: int = TRAIN_SAMPLE) -> np.ndarray:
    """Spherical k-means, deterministic: evenly spaced seeds, a fixed number of rounds, on
    at most `sample` evenly spaced vectors."""
    if len(x) > sample:
        x = x[np.linspace(0, len(x) - 1, sample).astype(np.int64)]
    x = np.ascontiguousarray(x, dtype=np.float32)
    lists = max(1, min(lists, len(x)))
    cent = x[np.linspace(0, len(x) - 1, lists).astype(np.int64)].copy()
    for _ in range(rounds):
        assign = np.argmax(x @ cent.T, axis=1)
        # each list's sum, in the order of the vectors (stable sort, then one reduce per list)
        order = np.argsort(assign, kind="stable")
        used, starts = np.unique(assign[order], return_index=True)
        sums = np.add.reduceat(x[order], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        keep = norms[:, 0] > 0  # an empty list keeps its old centroid
        cent[used[keep]] = sums[keep] / norms[keep]
    return cent


class Quantizer:
    """Centroids of the lists, and which lists a vector is nearest to.

    Flat (up to FLAT_LISTS lists): every centroid is scored. Grouped: the lists are split
    among coarse centroids; a vector scores the coarse centroids, then the lists of its
    COARSE_PROBES best groups. Either way the answer depends on the vector and the
    centroids only (never on the other rows of a batch), so filing and probing agree."""

    def __init__(self, centroids: np.ndarray, coarse: np.ndarray | None = None,
                 starts: np.ndarray | None = None) -> None:
        self.centroids = np.ascontiguousarray(centroids, dtype=np.float32)  # (lists, dim)
        self.coarse = coarse  # (groups, dim) or None
        self.starts = starts  # group g owns lists starts[g]:starts[g+1]
        self.width = 0 if starts is None else int(np.diff(starts).max())

    @property
    def lists(self) -> int:
        return len(self.centroids)

    @classmethod
    def train(cls, prefix: np.ndarray, lists: int) -> "Quantizer":
        if lists <= FLAT_LISTS:
            return cls(train_centroids(prefix, lists))
        sample = max(TRAIN_SAMPLE, TRAIN_PER_LIST * lists)
        if len(prefix) > sample:
            prefix = prefix[np.linspace(0, len(prefix) - 1, sample).astype(np.int64)]
        x = np.ascontiguousarray(prefix, dtype=np.float32)
        groups = int(round(math.sqrt(lists)))
        coarse = train_centroids(x, groups, sample=len(x))
        assign = np.concatenate([np.argmax(x[lo: lo + FILE_CHUNK] @ coarse.T, axis=1)
                                 for lo in range(0, len(x), FILE_CHUNK)])
        parts, starts = [], [0]
        for g in range(len(coarse)):
            mine = x[assign == g]
            if len(mine) == 0:  # an empty group still owns one list: its own centroid
                parts.append(coarse[g: g + 1])
            else:
                parts.append(train_centroids(mine, round(lists * len(mine) / len(x)), sample=len(mine)))
            starts.append(starts[-1] + len(parts[-1]))
        return cls(np.concatenate(parts), coarse, np.array(starts, dtype=np.int64))

    def probe(self, x: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
        """The p lists nearest to each row of x, best first, and their centroid scores
        (a list id of -1, score -inf, where fewer than p lists were scored)."""
        if self.coarse is None:
            scores = x @ self.centroids.T
            top = _best(scores, np.broadcast_to(np.arange(scores.shape[1]), scores.shape), p)
            return top, np.take_along_axis(scores, top, axis=1)
        cs = x @ self.coarse.T
        groups = _best(cs, np.broadcast_to(np.arange(cs.shape[1]), cs.shape), COARSE_PROBES)
        b, g = groups.shape
        # score each (row, group) pair against the group's lists, one matrix product per group
        pairs = groups.ravel()
        order = np.argsort(pairs, kind="stable")
        bounds = np.searchsorted(pairs[order], np.arange(len(self.coarse) + 1))
        scores = np.full((b * g, self.width), -np.inf, dtype=np.float32)
        for grp in np.flatnonzero(np.diff(bounds)):
            mine = order[bounds[grp]: bounds[grp + 1]]
            lo, hi = self.starts[grp], self.starts[grp + 1]
            scores[mine, : hi - lo] = x[mine // g] @ self.centroids[lo:hi].T
        scores = scores.reshape(b, -1)
        col = np.arange(self.width)
        ids = np.where(col < np.diff(self.starts)[groups][:, :, None],
                       self.starts[groups][:, :, None] + col, _LAST).reshape(b, -1)
        top = _best(scores, ids, p)  # the same order rule as the flat case
        ids = np.take_along_axis(ids, top, axis=1)
        return np.where(ids == _LAST, -1, ids), np.take_along_axis(scores, top, axis=1)

    def own(self, x: np.ndarray) -> np.ndarray:
        """Each vector's list: the nearest centroid (flat), or the nearest list of its
        nearest group (grouped: a quarter of the work of probing, and filing touches every
        vector at each retraining)."""
        out = np.empty(len(x), dtype=np.int64)
        for lo in range(0, len(x), FILE_CHUNK):
            chunk = x[lo: lo + FILE_CHUNK]
            if self.coarse is None:
                out[lo: lo + len(chunk)] = self.probe(chunk, 1)[0][:, 0]
                continue
            cs = chunk @ self.coarse.T
            group = _best(cs, np.broadcast_to(np.arange(cs.shape[1]), cs.shape), 1)[:, 0]
            for grp in np.unique(group):
                mine = np.flatnonzero(group == grp)
                a, b = self.starts[grp], self.starts[grp + 1]
                sc = chunk[mine] @ self.centroids[a:b].T
                pick = _best(sc, np.broadcast_to(np.arange(b - a), sc.shape), 1)[:, 0]
                out[lo + mine] = a + pick
        return out


class NeighbourSearch:
    """The vectors of the corpus so far, in engine order, and search over them.

    `checkpoints(n)` is the engine's first checkpoint after n: the lists are (re)trained
    only there (default: doubling sizes)."""

    def __init__(self, dim: int, k: int, *, exact_limit: int = EXACT_LIMIT,
                 list_size: int = LIST_SIZE, probes: int = PROBES,
                 checkpoints: Callable[[int], int] | None = None) -> None:
        self.dim, self.k = dim, k
        self.exact_limit, self.list_size, self.probes = exact_limit, list_size, probes
        self._next_checkpoint = checkpoints or _doubling
        self._schedule: list[int] = []
        self.size = 0  # vectors indexed
        self.trained_at = 0  # corpus size the lists were trained on (0: exact search)
        self.quantizer: Quantizer | None = None
        self._index = None
        self._filed: tuple[np.ndarray, np.ndarray] | None = None  # a searched block's lists
        self._lists = np.zeros(0, dtype=np.int64)  # the list of each vector filed so far
        self._listed = 0

    # --- when the lists are trained ---------------------------------------------------------

    def _retrains_up_to(self, n: int) -> list[int]:
        """Every corpus size <= n at which the lists are (re)trained: the first checkpoint
        at or past exact_limit, then each first checkpoint at or past GROWTH times the last."""
        s = self._schedule
        if not s:
            c = 0
            while c < self.exact_limit:
                c = self._next_checkpoint(c)
            s.append(c)
        while s[-1] <= n:
            c, target = s[-1], math.ceil(GROWTH * s[-1])
            while c < target:
                c = self._next_checkpoint(c)
            s.append(c)
        return [c for c in s if c <= n]

    def retrains_at(self, n: int) -> bool:
        """Whether the lists are (re)trained when the corpus reaches n vectors."""
        done = self._retrains_up_to(n)
        return bool(done) and done[-1] == n

    def last_retrain_before(self, n: int) -> int:
        """The last corpus size < n at which the lists were trained (0: none, exact search)."""
        done = self._retrains_up_to(n - 1) if n > 0 else []
        return done[-1] if done else 0

    # --- the index --------------------------------------------------------------------------

    @property
    def centroids(self) -> np.ndarray | None:
        return None if self.quantizer is None else self.quantizer.centroids

    def train(self, prefix: np.ndarray) -> None:
        """New lists from the first len(prefix) vectors (the whole corpus so far)."""
        lists = max(16, len(prefix) // self.list_size)
        self.quantizer = Quantizer.train(prefix, lists)
        self._open_index(prefix)
        self.add(prefix)

    def _open_index(self, prefix: np.ndarray) -> None:
        """An empty inverted file over the quantizer's lists, its 8-bit codes' ranges taken
        from the prefix the lists were trained on."""
        faiss = _faiss()

        lists = self.quantizer.lists
        quantizer = faiss.IndexFlatIP(self.dim)  # never searched: the lists are given
        quantizer.add(self.quantizer.centroids)
        self._faiss_quantizer = quantizer  # the index keeps a pointer, not a reference
        # 8-bit codes (a per-dimension range taken from the prefix): a quarter of the memory
        # and of the bytes a query reads; candidates are re-ranked on the exact vectors
        self._index = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, lists,
                                                    faiss.ScalarQuantizer.QT_8bit,
                                                    faiss.METRIC_INNER_PRODUCT, False)
        sample = prefix[np.linspace(0, len(prefix) - 1, min(len(prefix), TRAIN_SAMPLE)).astype(np.int64)]
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        self._index.sq.train(sample)
        self._index.is_trained = True
        self._index.nprobe = min(self.probes, lists)
        self.size = 0
        self.trained_at = len(prefix)
        self._filed = None
        self._lists = np.zeros(0, dtype=np.int64)
        self._listed = 0

    def snapshot(self) -> dict:
        """What `restore` needs to rebuild this search over the same vectors: the centroids
        and each vector's list (a few bytes per vector, not the 8-bit codes)."""
        q = self.quantizer
        return {"size": self.size, "trained_at": self.trained_at, "schedule": list(self._schedule),
                "quantizer": None if q is None else (q.centroids, q.coarse, q.starts),
                "lists": None if q is None else self._lists[: self._listed].copy()}

    def restore(self, state: dict, vecs: np.ndarray) -> None:
        """The search as `snapshot` left it, over vecs[:size] (the same vectors, in order):
        the codes are computed again and filed under the saved lists, so nothing is
        trained or assigned again."""
        faiss = _faiss()

        self._schedule = list(state["schedule"])
        if state["quantizer"] is None:
            self.quantizer, self._index, self.trained_at = None, None, 0
            self.size = state["size"]
            return
        self.quantizer = Quantizer(*state["quantizer"])
        self._open_index(vecs[: state["trained_at"]])
        lists = np.ascontiguousarray(state["lists"], dtype=np.int64)
        for lo in range(0, len(lists), FILE_CHUNK):
            hi = min(lo + FILE_CHUNK, len(lists))
            x = np.ascontiguousarray(vecs[lo:hi], dtype=np.float32)
            ids = np.arange(lo, hi, dtype=np.int64)
            part = np.ascontiguousarray(lists[lo:hi])
            self._index.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(part))
            self._keep_lists(part)
        self.size = len(lists)

    def _keep_lists(self, lists: np.ndarray) -> None:
        """Remember the lists vectors were filed under (for `snapshot`)."""
        need = self._listed + len(lists)
        if need > len(self._lists):
            grown = np.zeros(max(need, 2 * len(self._lists), 1024), dtype=np.int64)
            grown[: self._listed] = self._lists[: self._listed]
            self._lists = grown
        self._lists[self._listed: need] = lists
        self._listed = need

    def add(self, x: np.ndarray) -> None:
        if self._index is None:
            self.size += len(x)
            return
        faiss = _faiss()

        x = np.ascontiguousarray(x, dtype=np.float32)
        if self._filed is not None and self._filed[0] is x:
            lists = np.ascontiguousarray(self._filed[1])  # the block just searched: lists known
        else:
            lists = self.quantizer.own(x)
        self._filed = None
        ids = np.arange(self.size, self.size + len(x), dtype=np.int64)
        self._index.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(lists))
        self._keep_lists(lists)
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
        if self._index is None:
            return self._search_exact(block, earlier)
        base, b, k = self.size, len(block), self.k
        probe, dq = self.quantizer.probe(block, self.probes)
        own = self.quantizer.own(block)  # as `add` will file them
        self._filed = (block, own)
        _, i = self._index.search_preassigned(np.ascontiguousarray(block), RESCORE * k,
                                              np.ascontiguousarray(probe, dtype=np.int64),
                                              np.ascontiguousarray(dq, dtype=np.float32))
        # the exact cosines of the candidates the codes found
        d = np.matmul(earlier[np.maximum(i, 0)], block[:, :, None])[:, :, 0]
        d = np.where(i >= 0, d, -np.inf)
        inner = block @ block.T
        # a block row is a candidate of a later row only when its list is probed by it
        probed = (own[None, :, None] == probe[:, None, :]).any(axis=2)
        inner[~(probed & np.tri(b, b, -1, dtype=bool))] = -np.inf
        sims = np.concatenate([d, inner], axis=1)
        cand = np.concatenate([i, np.broadcast_to(np.arange(base, base + b), (b, b))], axis=1)
        order = np.lexsort((cand, -sims), axis=1)[:, :k]  # ties broken by position
        sims = np.take_along_axis(sims, order, axis=1)
        cand = np.take_along_axis(cand, order, axis=1)
        found = np.isfinite(sims).sum(axis=1)
        return ([cand[r, : found[r]].astype(np.int64) for r in range(b)],
                [sims[r, : found[r]] for r in range(b)])

    def _search_exact(self, block: np.ndarray, earlier: np.ndarray):
        base, b, k = self.size, len(block), self.k
        sims = block @ np.concatenate([earlier[:base], block]).T
        out_i, out_s = [], []
        for r in range(b):
            row = sims[r, : base + r]
            idx = np.arange(base + r)
            if len(row) > k:  # the prefix layout is the same in every run
                top = np.argpartition(-row, k - 1)[:k]
                row, idx = row[top], idx[top]
            order = np.lexsort((idx, -row))[:k]  # ties broken by position, whatever the layout
            out_i.append(idx[order].astype(np.int64))
            out_s.append(row[order])
        return out_i, out_s
