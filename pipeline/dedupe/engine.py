"""The clustering engine: mentions are taken one at a time, in mention-id order, and each
either joins a claim it fits or founds a new one.

Owns: the evidence (exact key, near-copy, paraphrase), the decision, editor constraints.
Must not: touch the database, the network or the clock; renumber a claim that exists.

Why sequential. The issue asks that an incremental run (new article -> its mentions join the
stored claims) and a full rebuild give the same clusters. A mention's decision here depends
only on the mentions before it in id order (their vectors, texts and claims), so a rebuild is
the same computation replayed from nothing, whatever batches the incremental runs came in.
Corpus statistics (the topic direction removed from the embeddings, the IDF of content words)
are likewise taken over a *prefix* of the corpus: at checkpoints 16, 32, 64, ... mentions, then
every 16384, so both paths see the same statistics at the same mention. The nearest earlier
mentions come from `neighbours.py` under the same rule (exact, then lists retrained at some
of the checkpoints). An incremental run does not replay the stored mentions one by one:
`load` builds the state the replay would leave (the last checkpoint's statistics and lists)
in bulk; cheaper still, `restore` takes the state the last pass left (`snapshot`, kept by
the caller between runs: cluster.EngineMemo) when it was left for exactly these mentions. What may still differ is the last bit of a float where a batch and a single row go
through BLAS differently; a decision would flip only on a score within ~1e-7 of a threshold.

What keeps a pass near-linear (issue 20): the sums behind the statistics run on from one
checkpoint to the next (in the same pieces in a pass and in `load`, so the floats agree),
and a row's topic-removed vector and word weight are brought up to the new statistics only
when the row is next compared (`_fresh`), from four numbers per row (`zrow`) instead of a
second copy of the vectors. Re-computing every row at every checkpoint had cost n^2 / 16384.

Why "fits the claim", not "close to one member". Every partner writes about the same subject,
so a sentence is close to many sentences; merging on single links chains unrelated sentences
into one blob. A newcomer joins a claim only when its mean over the claim's checked members
clears the bar and no checked member is below a floor (average linkage with a
complete-linkage guard). For claims the per-pair figure is the calibrated probability of
`settings.MERGE_MODEL` (features.MergeModel), fitted on annotated golds; for FAQ questions, or
with `merge_model=None`, it is the hand-weighted score of `pair_scores` against `join`/`floor`.

Why remove the corpus mean and its first principal direction from the embeddings. In a
corpus where every sentence is about heroin and the brain, that direction is the topic; what
is left is what the sentence says ("all-but-the-top", Mu & Viswanath 2018). Same idea for the
words: IDF over the corpus itself, so the shared subject words weigh little.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from rapidfuzz import fuzz

from .evidence import MISMATCH_NAMES, SignatureTable
from .features import MISMATCH_COLUMNS, PAIR_FEATURES, PairModel, claim_rows
from .neighbours import NeighbourSearch
from .normalize import evidence_terms, normalize_for_match
from .settings import CLAIM_SETTINGS, QUESTION_SETTINGS, Constraints, Settings  # noqa: F401

_COS, _RAW, _LEX, _FUZZ, _NEAR, _SAME, _COVER = (
    PAIR_FEATURES.index(n) for n in ("cos", "raw", "lex", "fuzz", "near_copy", "same_site", "cover"))
FIRST_CHECKPOINT = 16
CHECKPOINT_STEP = 16384
STATS_CHUNK = 8192  # rows per step when statistics are taken (no float64 copy of the corpus)


@dataclass(slots=True)
class Decision:
    index: int  # position in the engine's order
    label: int
    method: str
    score: float


@dataclass(slots=True)
class _Stats:
    """Corpus statistics over a prefix of the mentions."""

    size: int = 0
    mean: np.ndarray | None = None
    directions: np.ndarray | None = None  # (k, dim) removed after centering
    default_idf: float = 1.0  # squared IDF weight of a word not seen before the checkpoint


def _top_directions(cov: np.ndarray, k: int, iterations: int = 60) -> np.ndarray:
    """The k leading eigenvectors of a covariance matrix, by power iteration with deflation
    (deterministic; LAPACK's full eigh costs ~1 s here for a 384x384 matrix)."""
    out = []
    c = cov.copy()
    for _ in range(k):
        v = np.ones(c.shape[0]) / math.sqrt(c.shape[0])
        for _ in range(iterations):
            w = c @ v
            norm = np.linalg.norm(w)
            if norm == 0:
                break
            v = w / norm
        lam = float(v @ c @ v)
        out.append(v)
        c = c - lam * np.outer(v, v)
    return np.array(out)


FINGERPRINT_ROWS = 1024


def vector_sample(vecs: np.ndarray) -> np.ndarray:
    """Up to FINGERPRINT_ROWS evenly spaced rows: enough to tell that a kept state belongs
    to other vectors (another encoder, another corpus)."""
    n = len(vecs)
    pick = np.linspace(0, n - 1, min(n, FINGERPRINT_ROWS)).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    return np.array(vecs[pick], dtype=np.float32)


def _raised(probability: float, logit_raise: float) -> float:
    """A probability threshold raised by `logit_raise` on the logit scale."""
    if logit_raise <= 0.0:
        return probability
    z = math.log(probability / (1.0 - probability)) + logit_raise
    return 1.0 / (1.0 + math.exp(-z))


class Engine:
    """The state of one sequential clustering pass (the corpus so far and its claims)."""

    def __init__(self, settings: Settings, dim: int, constraints: Constraints | None = None,
                 capacity: int = 1024, *, storage: np.ndarray | None = None,
                 pair_model=None) -> None:
        """`storage`, when given, becomes the engine's (float32, C-ordered) vector matrix: the
        caller's matrix of every vector in engine order, which then is not copied.
        `pair_model`: a features.PairModel deciding paraphrase merges instead of join/floor."""
        self.s = settings
        self.model = None if pair_model is None else PairModel.coerce(pair_model)
        self._model_needs_texts = self.model is not None and any(
            n.split("_")[0] in ("fuzz", "near") for n in self.model.names)
        self.sig = SignatureTable()
        self._veto = np.array([name in settings.vetoes for name in MISMATCH_NAMES])
        self._model_veto = np.array([name in settings.model_vetoes for name in MISMATCH_NAMES])
        self.c = constraints or Constraints()
        if storage is not None and storage.dtype == np.float32 and storage.flags.c_contiguous \
                and storage.shape[1] == dim:
            self.vecs = storage
        else:
            self.vecs = np.zeros((max(capacity, 16), dim), dtype=np.float32)
        # A row's topic-removed vector z = P(v - mean) / |P(v - mean)| (P: off the top
        # directions) is kept as 2 + k numbers, not 384 (at 10^6 mentions that matrix was
        # 1.5 GB): u = v.mean, the norm |P(v - mean)|, p = (v - mean).directions; then
        # z_o.z_t = (v_o.v_t - u_o - u_t + mean.mean - p_o.p_t) / (norm_o norm_t).
        self.zrow = np.zeros((len(self.vecs), 2 + settings.top_directions))
        self.lexnorm = np.zeros(len(self.vecs), dtype=np.float64)
        # zrow and lexnorm of a row are brought up to date when it is next compared
        # (_fresh): re-computing every row at every checkpoint cost n^2 / 16384 rows
        self._epoch = 0  # statistics refreshed so far
        self._mean64: np.ndarray | None = None
        self._dirs64: np.ndarray | None = None
        self._mm = 0.0
        self._zepoch = np.full(len(self.vecs), -1, dtype=np.int32)
        self._summed = 0  # rows in the running sums behind the statistics
        self._sum = np.zeros(dim)
        self._gram = np.zeros((dim, dim)) if settings.top_directions else None
        self.n = 0
        self.ids: list[int] = []
        self.sites: list[str] = []
        self.keys: list[str] = []
        # content words as ids into `vocab` (sorted arrays), their document frequencies
        # and squared IDF weights by id (words first seen since the checkpoint: the default)
        self.vocab: dict[str, int] = {}
        self.terms: list[np.ndarray] = []
        self.df = np.zeros(1024, dtype=np.int64)
        self.idf = np.ones(1024, dtype=np.float64)
        self._mark = np.zeros(1024, dtype=bool)
        self.site_of: dict[str, int] = {}
        self.site_ids = np.zeros(len(self.vecs), dtype=np.int32)
        self.labels: list[int | None] = []
        self.members: dict[int, list[int]] = {}
        self.by_key: dict[str, int] = {}
        self.stats = _Stats()
        self._fixed = dict(self.c.fixed)
        self._group: dict[int, frozenset[int]] = {}
        for g in self.c.must_link:
            for m in g:
                self._group[m] = self._group.get(m, frozenset()) | g
        self._cannot: dict[int, set[int]] = {}
        for a, b in self.c.cannot_link:
            self._cannot.setdefault(a, set()).add(b)
            self._cannot.setdefault(b, set()).add(a)
        for ga, gb in self.c.cannot_link_groups:
            for a in ga:
                self._cannot.setdefault(a, set()).update(gb - {a})
            for b in gb:
                self._cannot.setdefault(b, set()).update(ga - {b})
        self._index_of: dict[int, int] = {}
        self.search = NeighbourSearch(dim, settings.neighbours,
                                     exact_limit=settings.exact_search_limit,
                                     list_size=settings.search_list_size,
                                     probes=settings.search_probes,
                                     checkpoints=self._next_checkpoint)

    # --- corpus bookkeeping -------------------------------------------------------------

    def _grow(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self.vecs):
            new = np.zeros((max(need, 2 * len(self.vecs)), self.vecs.shape[1]), dtype=np.float32)
            new[: self.n] = self.vecs[: self.n]
            self.vecs = new
            z = np.zeros((len(new), self.zrow.shape[1]))
            z[: self.n] = self.zrow[: self.n]
            self.zrow = z
            ln = np.zeros(len(new), dtype=np.float64)
            ln[: self.n] = self.lexnorm[: self.n]
            self.lexnorm = ln
            ze = np.full(len(new), -1, dtype=np.int32)
            ze[: self.n] = self._zepoch[: self.n]
            self._zepoch = ze
            si = np.zeros(len(new), dtype=np.int32)
            si[: self.n] = self.site_ids[: self.n]
            self.site_ids = si

    def _term_ids(self, terms: frozenset[str]) -> np.ndarray:
        """Ids of a mention's content words (new words get the default weight)."""
        vocab = self.vocab
        for w in sorted(terms):  # sorted: the same ids whatever the set's iteration order
            if w not in vocab:
                vocab[w] = len(vocab)
        size = len(vocab)
        if size > len(self.df):
            grow = max(size, 2 * len(self.df)) - len(self.df)
            self.df = np.concatenate([self.df, np.zeros(grow, dtype=np.int64)])
            self.idf = np.concatenate([self.idf, np.full(grow, self.stats.default_idf)])
            self._mark = np.zeros(len(self.df), dtype=bool)
        return np.array(sorted(vocab[w] for w in terms), dtype=np.int64)

    def _site_id(self, site: str) -> int:
        return self.site_of.setdefault(site, len(self.site_of))

    @staticmethod
    def _next_checkpoint(n: int) -> int:
        """The first checkpoint after n."""
        if n < FIRST_CHECKPOINT:
            return FIRST_CHECKPOINT
        if n < CHECKPOINT_STEP:
            return 1 << n.bit_length()
        return (n // CHECKPOINT_STEP + 1) * CHECKPOINT_STEP

    @classmethod
    def _last_checkpoint_before(cls, n: int) -> int:
        """The last checkpoint c < n (0 if none)."""
        c = 0
        while (nxt := cls._next_checkpoint(c)) < n:
            c = nxt
        return c

    @staticmethod
    def _is_checkpoint(n: int) -> bool:
        if n < FIRST_CHECKPOINT:
            return False
        if n <= CHECKPOINT_STEP:
            return n & (n - 1) == 0
        return n % CHECKPOINT_STEP == 0

    def _refresh_stats(self) -> None:
        """Statistics over the first `self.n` mentions (called at checkpoints only). The sums
        behind them run on (each checkpoint adds the rows since the last one), and the rows'
        transformed vectors and word weights are brought up to date lazily (`_fresh`)."""
        n, k = self.n, self.s.top_directions
        self._accumulate(n)
        mean = self._sum / n
        dirs = _top_directions(self._gram / n - np.outer(mean, mean), k) if k else None
        default = (math.log(1 + n) + 1.0) ** 2
        self.stats = _Stats(n, mean.astype(np.float32),
                            None if dirs is None else dirs.astype(np.float32), default)
        df = self.df
        self.idf = np.where(df > 0, (np.log((1 + n) / (1 + df)) + 1.0) ** 2, default)
        self._mean64 = self.stats.mean.astype(np.float64)
        self._dirs64 = None if dirs is None else self.stats.directions.astype(np.float64)
        self._mm = float((self._mean64 * self._mean64).sum())
        self._epoch += 1  # every vector and word weight so far is now stale

    def _accumulate(self, upto: int) -> None:
        """Add rows [_summed, upto) to the running sum and Gram matrix, in pieces that end at
        every checkpoint and every multiple of STATS_CHUNK: a pass (one checkpoint at a time)
        and `load` (up to its checkpoint at once) add the same pieces in the same order, so
        their statistics agree to the last bit."""
        while self._summed < upto:
            lo = self._summed
            hi = min(upto, self._next_checkpoint(lo), (lo // STATS_CHUNK + 1) * STATS_CHUNK)
            x = self.vecs[lo:hi].astype(np.float64)
            self._sum += x.sum(axis=0)
            if self._gram is not None:
                self._gram += x.T @ x
            self._summed = hi

    def _fresh(self, rows: np.ndarray) -> None:
        """Bring the topic-removed vectors and word weights of these rows up to the current
        statistics (a row goes stale at each checkpoint). The values are the ones an eager
        refresh would give: `_transform` and `_weights` work row by row."""
        stale = rows[self._zepoch[rows] != self._epoch]
        if len(stale):
            stale = np.unique(stale)
            self.zrow[stale] = self._transform(self.vecs[stale])
            self.lexnorm[stale] = self._weights([self.terms[i] for i in stale])
            self._zepoch[stale] = self._epoch

    def _append(self, mention_id: int, site: str, text: str, vec: np.ndarray) -> int:
        """Add a mention to the corpus (not yet to a claim); return its index."""
        if self._is_checkpoint(self.n):
            self._refresh_stats()
        t = self.n
        self._grow(1)
        self.vecs[t] = vec
        self.n += 1
        key = normalize_for_match(text)
        terms = self._term_ids(evidence_terms(text))
        self.ids.append(mention_id)
        self.sites.append(site)
        self.site_ids[t] = self._site_id(site)
        self.keys.append(key)
        self.sig.append(text)
        self.terms.append(terms)
        self.labels.append(None)
        self.df[terms] += 1
        self._index_of[mention_id] = t
        self.zrow[t] = self._transform(self.vecs[t: t + 1])[0]
        self.lexnorm[t] = self._weights([terms])[0]
        self._zepoch[t] = self._epoch
        return t

    def _place(self, t: int, label: int) -> None:
        self.labels[t] = label
        self.members.setdefault(label, []).append(t)
        self.by_key.setdefault(self.keys[t], t)

    # --- evidence -------------------------------------------------------------------------

    def _transform(self, rows: np.ndarray) -> np.ndarray:
        """The `zrow` numbers of these vectors under the current statistics (u, norm, p).
        einsum, not BLAS: a row's numbers must not depend on the rows computed with it (the
        lazy refresh gathers other rows in a rebuild than in an increment)."""
        v = rows.astype(np.float64)
        out = np.zeros((len(v), self.zrow.shape[1]))
        if self._mean64 is None:  # before the first checkpoint: the raw cosine
            out[:, 1] = np.sqrt(np.einsum("ij,ij->i", v, v))
        else:
            a = v - self._mean64
            out[:, 0] = np.einsum("ij,j->i", v, self._mean64)
            left = np.einsum("ij,ij->i", a, a)
            if self._dirs64 is not None:
                p = np.einsum("ij,kj->ik", a, self._dirs64)
                out[:, 2:] = p
                left -= np.einsum("ik,ik->i", p, p)
            out[:, 1] = np.sqrt(np.maximum(left, 0.0))
        out[out[:, 1] == 0, 1] = 1.0
        return out

    def _topic_cosines(self, t: int, others: np.ndarray) -> np.ndarray:
        """Cosine of the topic-removed vectors of t and each of others (rows fresh)."""
        zt, zo = self.zrow[t], self.zrow[others]
        raw = self.vecs[others].astype(np.float64) @ self.vecs[t].astype(np.float64)
        dot = raw - zo[:, 0] - zt[0] + self._mm - (zo[:, 2:] * zt[2:]).sum(axis=1)
        return dot / (zo[:, 1] * zt[1])

    def _weights(self, rows: list[np.ndarray]) -> np.ndarray:
        """Each row's IDF norm, sqrt(sum of its words' squared IDF weights): summed in word
        order per row (bincount), whatever the other rows, so one row alone and the same
        row among many get the same bits."""
        if not rows:
            return np.zeros(0)
        flat = np.concatenate(rows)
        owner = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
        return np.sqrt(np.bincount(owner, weights=self.idf[flat], minlength=len(rows)))

    def pair_features(self, t: int, others: Sequence[int], *, texts: bool = False) -> np.ndarray:
        """Rows of features.PAIR_FEATURES of mention t against each of `others`. The two
        text ratios (fuzz, near_copy) cost a string comparison per pair: 0 unless asked for."""
        others = np.asarray(others, dtype=np.int64)
        sem, lex, cover = self._similarities(t, others, cover=True)
        out = np.zeros((len(others), len(PAIR_FEATURES)))
        out[:, _COS], out[:, _RAW], out[:, _LEX] = sem, self.vecs[others] @ self.vecs[t], lex
        if texts:
            out[:, _FUZZ] = [fuzz.token_set_ratio(self.keys[t], self.keys[o]) / 100.0 for o in others]
            out[:, _NEAR] = [fuzz.ratio(self.keys[t], self.keys[o]) / 100.0 for o in others]
        out[:, MISMATCH_COLUMNS] = self.sig.flags(t, others)
        out[:, _SAME] = self.site_ids[others] == self.site_ids[t]
        out[:, _COVER] = cover
        return out

    def pair_scores(self, t: int, others: Sequence[int]) -> np.ndarray:
        """Combined paraphrase score of mention t against each of `others`: cosine of the
        topic-removed embeddings, and IDF-weighted cosine of the content-word sets; a pair
        with a vetoing mismatch flag scores -1."""
        others = np.asarray(others, dtype=np.int64)
        sem, lex = self._similarities(t, others)
        same = (self.site_ids[others] == self.site_ids[t]).astype(np.float32)
        w = self.s.lexical_weight
        score = (1 - w) * sem + w * lex - self.s.same_site_penalty * same
        if self._veto.any():
            score[(self.sig.flags(t, others) & self._veto).any(axis=1)] = -1.0
        return score

    def _similarities(self, t: int, others: np.ndarray, *, cover: bool = False):
        """(topic-removed cosine, IDF word-overlap cosine[, cover]) of t against others."""
        self._fresh(np.append(others, t))
        sem = self._topic_cosines(t, others)
        words = [self.terms[o] for o in others]
        flat = np.concatenate(words)
        row = np.repeat(np.arange(len(others)), [len(x) for x in words])
        mark = self._mark
        mark[self.terms[t]] = True
        hit = mark[flat]
        mark[self.terms[t]] = False
        common = np.bincount(row[hit], weights=self.idf[flat[hit]], minlength=len(others))
        denom = self.lexnorm[t] * self.lexnorm[others]
        lex = np.divide(common, denom, out=np.zeros(len(others)), where=common > 0)
        if not cover:
            return sem, lex
        heavier = np.maximum(self.lexnorm[others], self.lexnorm[t]) ** 2
        return sem, lex, np.divide(common, heavier, out=np.zeros(len(others)), where=common > 0)

    def _allowed(self, t: int, label: int) -> bool:
        bad = self._cannot.get(self.ids[t])
        if not bad:
            return True
        for m in bad:
            i = self._index_of.get(m)
            if i is not None and i < t and self.labels[i] == label:
                return False
        return True

    def _keeps_words(self, t: int, j: int) -> bool:
        """Whether one of the two mentions holds every content word of the other (a copy
        with words added or none changed, not one content word swapped for another)."""
        a, b = self.terms[t], self.terms[j]
        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
        return bool(np.isin(short, long_, assume_unique=True).all())

    def _checked_members(self, label: int) -> list[int]:
        mem = self.members[label]
        k = self.s.members_checked
        if len(mem) <= k:
            return mem
        step = len(mem) / k
        return [mem[int(i * step)] for i in range(k)]

    # --- the decision ---------------------------------------------------------------------

    def decide(self, t: int, neighbours: np.ndarray, neighbour_sims: np.ndarray,
               fresh_label) -> Decision:
        """Place mention t (already appended) given its nearest earlier mentions."""
        mid = self.ids[t]
        if mid in self._fixed:
            return Decision(t, self._fixed[mid], "editor", 1.0)
        for other in sorted(self._group.get(mid, ())):
            i = self._index_of.get(other)
            if i is not None and i < t and self.labels[i] is not None:
                if self._allowed(t, self.labels[i]):
                    return Decision(t, self.labels[i], "editor", 1.0)
        key = self.keys[t]
        first = self.by_key.get(key)
        if first is not None and self._allowed(t, self.labels[first]):
            return Decision(t, self.labels[first], "exact", 1.0)
        # near-copies: very close embedding neighbours, checked on the text. (A MinHash LSH
        # over character 5-grams used to add candidates: on the 30k synthetic corpus it found
        # 4 near-copies in 3346 that the neighbours missed, all then joined as paraphrases, at
        # a quarter of the clustering time; its buckets grow with the copies of a sentence.)
        cands = {int(j) for j, s in zip(neighbours, neighbour_sims)
                 if s >= self.s.near_copy_min_cosine}
        # the closest copy whose claim the newcomer may join (an editor may have kept it apart)
        copies = sorted(((fuzz.ratio(key, self.keys[j]) / 100.0, j) for j in cands if j < t),
                        key=lambda rj: (-rj[0], rj[1]))
        for ratio, j in copies:
            if ratio < self.s.near_copy:
                break
            if (self.sig.flags(t, np.array([j]))[0] & self._veto).any():
                continue
            if self.s.near_copy_keeps_words and not self._keeps_words(t, j):
                continue
            if self._allowed(t, self.labels[j]):
                return Decision(t, self.labels[j], "near-copy", round(ratio, 4))
        # paraphrases: the claim must fit as a whole
        seen: list[int] = []
        for j, s in zip(neighbours, neighbour_sims):
            if s < self.s.candidate_floor:
                continue
            lab = self.labels[int(j)]
            if lab not in seen:
                seen.append(lab)
        best_label, best_score, nearest = None, -1.0, 0.0
        if seen:
            crowd = np.asarray(neighbour_sims)
            crowd = crowd[crowd < 0.98][: self.s.density_neighbours]
            density = float(crowd.mean()) if len(crowd) else 0.0
            raise_by = self.s.density_weight * max(0.0, density - self.s.density_center) \
                if t >= self.s.density_from else 0.0
            groups = [self._checked_members(lab) for lab in seen]
            sizes = np.array([len(g) for g in groups])
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            flat = [m for g in groups for m in g]
            merge = self.s.merge_model
            if self.model is None and merge is not None:
                # the calibrated pair probability (features.MergeModel): the newcomer states
                # the same as each checked member; vetoed pairs count as 0
                rows = self.pair_features(t, flat, texts=merge.needs_texts)
                p = merge.probability(rows)
                p[(rows[:, MISMATCH_COLUMNS].astype(bool) & self._veto).any(axis=1)] = 0.0
                avgs = np.add.reduceat(p, starts) / sizes
                lows = np.minimum.reduceat(p, starts)
                join, floor = _raised(merge.threshold, self.s.density_logit_weight * max(
                    0.0, density - self.s.density_center) if t >= self.s.density_from else 0.0), merge.floor
            elif self.model is None:
                scores = self.pair_scores(t, flat)
                avgs = np.add.reduceat(scores, starts) / sizes  # each claim's mean and minimum
                lows = np.minimum.reduceat(scores, starts)
                join, floor = self.s.join + raise_by, self.s.floor
            else:  # the learned model over the claim-level features; vetoes still hold
                rows = self.pair_features(t, flat, texts=self._model_needs_texts)
                avgs = self.model.probability(claim_rows(rows, starts, sizes, self.model.names))
                vetoed = (rows[:, MISMATCH_COLUMNS].astype(bool) & self._model_veto).any(axis=1)
                lows = np.where(np.maximum.reduceat(vetoed.astype(np.int8), starts) > 0, -1.0, 1.0)
                join, floor = self.model.threshold, 0.0
            nearest = max(nearest, float(avgs.max()))
            for i in np.flatnonzero((avgs >= join) & (lows >= floor)):
                if avgs[i] > best_score and self._allowed(t, seen[i]):
                    best_label, best_score = seen[i], float(avgs[i])
        if best_label is not None:
            return Decision(t, best_label, "paraphrase", round(best_score, 4))
        return Decision(t, fresh_label(), "new", round(nearest, 4))

    # --- driving ---------------------------------------------------------------------------

    def load(self, mention_ids: Sequence[int], sites: Sequence[str], texts: Sequence[str],
             vecs: np.ndarray, labels: Sequence[int], *, statistics: str = "checkpoint") -> None:
        """Take in mentions already placed (the stored claims), in engine order.

        The state is the one a sequential pass over them leaves, built in bulk: only the
        last checkpoint's statistics and lists are computed (each one replaces the ones
        before it), not every checkpoint on the way. With statistics="all" the statistics
        are taken over every loaded mention instead (for features.PairContext, which
        decides nothing)."""
        for text in texts:
            self.sig.append(text)
        assert self.n == 0, "load comes first"
        n0 = len(mention_ids)
        self._grow(n0)
        self.vecs[:n0] = vecs
        self.ids = list(mention_ids)
        self.sites = list(sites)
        self.site_ids[:n0] = [self._site_id(x) for x in sites]
        self.keys = [normalize_for_match(t) for t in texts]
        self.terms = [self._term_ids(evidence_terms(t)) for t in texts]
        self.labels = [None] * n0
        self._index_of = {m: i for i, m in enumerate(self.ids)}
        c = n0 if statistics == "all" else self._last_checkpoint_before(n0)
        for terms in self.terms[:c]:
            self.df[terms] += 1
        if c:
            self.n = c
            self._refresh_stats()
        for terms in self.terms[c:]:
            self.df[terms] += 1
        self.n = n0  # the rows' transformed vectors and weights: lazily (_fresh)
        for t, lab in enumerate(labels):
            self._place(t, lab)
        s = self.search.last_retrain_before(n0 + 1)
        if s:
            self.search.train(self.vecs[:s])
            self.search.add(self.vecs[s:n0])
        else:
            self.search.add(self.vecs[:n0])

    # --- the state kept between runs ---------------------------------------------------------

    _KEPT = ("sites", "site_of", "keys", "vocab", "stats", "_epoch", "_mean64", "_dirs64", "_mm",
             "_summed", "_sum", "_gram")

    def snapshot(self) -> dict:
        """The corpus state this pass leaves, without the vectors and the claims: what
        `restore` takes instead of `load` recomputing it (every stored text's words, key
        and signature, the statistics' sums, the lists of the neighbour search). Claims are
        not in it: an editor may move mentions between runs, and `restore` is given them."""
        n = self.n
        lengths = np.fromiter((len(x) for x in self.terms), dtype=np.int64, count=n)
        sig = self.sig
        return {
            "settings": repr(self.s), "dim": self.vecs.shape[1], "n": n,
            "ids": np.asarray(self.ids, dtype=np.int64), "sample": vector_sample(self.vecs[:n]),
            **{name: getattr(self, name) for name in self._KEPT},
            "site_ids": self.site_ids[:n].copy(), "zrow": self.zrow[:n].copy(),
            "lexnorm": self.lexnorm[:n].copy(), "zepoch": self._zepoch[:n].copy(),
            "terms": np.concatenate(self.terms) if n else np.zeros(0, dtype=np.int64),
            "term_lengths": lengths, "df": self.df[: len(self.vocab)].copy(),
            "idf": self.idf[: len(self.vocab)].copy(),
            "sig": {name: getattr(sig, name)[:n].copy() for name in SignatureTable.COLUMNS}
            | {"time_bit": sig._time_bit, "figs": sig._figs, "quals": sig._quals},
            "search": self.search.snapshot(),
        }

    def fits(self, state: dict, mention_ids: Sequence[int], vecs: np.ndarray) -> bool:
        """Whether `state` was left by a pass over exactly these mentions (ids in this
        order, the same vectors: a sample of rows compared) under these settings. A mention
        id's text and site never change (the store's rows are immutable), so they are not
        compared. The vectors are compared to 1e-6, not to the bit: a vector read back from
        the store's cache is normalized again, which may move its last bit."""
        return (state.get("settings") == repr(self.s) and state.get("dim") == vecs.shape[1]
                and state.get("n") == len(mention_ids)
                and np.array_equal(state["ids"], np.asarray(mention_ids, dtype=np.int64))
                and np.allclose(state["sample"], vector_sample(vecs[: len(mention_ids)]),
                                rtol=0.0, atol=1e-6))

    def restore(self, state: dict, labels: Sequence[int]) -> None:
        """Take in the stored mentions as `load` does, from a `snapshot` that `fits` them
        (their vectors already in the engine's storage): the state of the pass that placed
        them, with these claims."""
        assert self.n == 0, "restore comes first"
        n = state["n"]
        self._grow(n)
        for name in self._KEPT:
            setattr(self, name, state[name])
        self.ids = state["ids"].tolist()
        self.site_ids[:n] = state["site_ids"]
        self.zrow[:n] = state["zrow"]
        self.lexnorm[:n] = state["lexnorm"]
        self._zepoch[:n] = state["zepoch"]
        flat, ends = state["terms"], np.cumsum(state["term_lengths"]).tolist()
        self.terms = [flat[a:b] for a, b in zip([0] + ends[:-1], ends)]
        size = max(1024, 2 * len(self.vocab))
        self.df = np.zeros(size, dtype=np.int64)
        self.df[: len(self.vocab)] = state["df"]
        self.idf = np.full(size, self.stats.default_idf)
        self.idf[: len(self.vocab)] = state["idf"]
        self._mark = np.zeros(size, dtype=bool)
        self.sig.restore(state["sig"], n)
        self._index_of = {m: i for i, m in enumerate(self.ids)}
        self.n = n
        self.labels = [None] * n
        for t, lab in enumerate(labels):
            self.labels[t] = lab
            self.members.setdefault(lab, []).append(t)
        by_key = self.by_key
        for t, key in enumerate(self.keys):
            by_key.setdefault(key, t)
        self.search.restore(state["search"], self.vecs)

    def add(self, mention_ids: Sequence[int], sites: Sequence[str], texts: Sequence[str],
            vecs: np.ndarray, fresh_label, *, block: int = 512) -> list[Decision]:
        """Place new mentions one by one, in the order given."""
        out: list[Decision] = []
        start = 0
        while start < len(mention_ids):
            base = self.n
            # a block never spans a checkpoint of the neighbour search: lists are retrained
            # there, on exactly the mentions before it
            if self.search.retrains_at(base) and self.search.trained_at != base:
                self.search.train(self.vecs[:base])
            stop = min(start + block, len(mention_ids),
                       start + self._next_checkpoint(base) - base)
            self._grow(stop - start)
            bv = np.ascontiguousarray(vecs[start:stop], dtype=np.float32)
            nbs, sims = self.search.search_block(bv, self.vecs)
            self.search.add(bv)
            for r, k in enumerate(range(start, stop)):
                t = self._append(mention_ids[k], sites[k], texts[k], vecs[k])
                d = self.decide(t, nbs[r], sims[r], fresh_label)
                self._place(t, d.label)
                out.append(d)
            start = stop
        return out
