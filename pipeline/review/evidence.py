"""Pair evidence for the review queue: how alike two claims are, as a short vector of numbers
a small model can weigh.

Owns: corpus statistics over the mentions under review (topic directions removed from the
sentence vectors, IDF of content words, each mention's typical closeness to other
partners' sentences), the evidence of one mention pair, and its summary over every cross
pair of two claims.
Must not: touch the database, the network or the clock; decide anything (model.py and
queue.py do).

Why hubness correction. Every partner writes about the same subject, so some sentences are
close to everything ("Heroin affects the brain."). Cosine alone ranks them first for every
question. CSLS (Conneau et al. 2018) subtracts each side's mean similarity to its nearest
sentences of other partners: what is left is how much closer this pair is than usual.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from rapidfuzz import fuzz

from ..dedupe.normalize import content_terms_of_key, normalize_for_match
from ..types import MentionInput

# The claim-pair evidence, in this order (stored with every answer; names stored with the
# model, so a model fitted on other names is refused rather than misread).
FEATURES = (
    "cos_mean",      # topic-removed cosine, mean over cross pairs
    "cos_max",       # ... its maximum
    "csls_mean",     # hubness-corrected cosine, mean
    "csls_max",      # ... maximum
    "lex_mean",      # IDF-weighted content-word overlap, mean
    "lex_max",       # ... maximum
    "mutual_mean",   # mutual nearest-neighbour closeness (1 for each other's first), mean
    "fuzz_max",      # rapidfuzz token-set ratio of the normalized texts, maximum
    "raw_mean",      # plain cosine, mean
    "same_site",     # share of cross pairs within one partner
    "place_diff",    # difference of relative place in their articles (0 = same place), min
    "context_max",   # closeness of the sentences around them (before with before, after
                     # with after), max: partners who cover one subject follow one order
)
NEIGHBOURS = 10  # other-partner neighbours whose mean closeness is the CSLS correction
RANK_DEPTH = 50  # ranks beyond this count as "far"
MIN_STATISTICS = 16  # mentions needed before the topic directions are removed (as the engine)


@dataclass(frozen=True, slots=True)
class _Mention:
    mention_id: int
    site: str
    key: str
    terms: frozenset[str]


class Corpus:
    """The mentions under review with their statistics; pair evidence on demand (cached).

    Built once per review session from every mention's vector; merges do not change it.
    """

    def __init__(self, mentions: Sequence[MentionInput],
                 vectors: Mapping[int, np.ndarray], *,
                 places: Mapping[int, tuple[object, int]] | None = None,
                 top_directions: int = 2) -> None:
        """`places`: {mention id: (article, position)}; without it, mentions of one site
        in id order count as one article."""
        ordered = sorted(mentions, key=lambda m: m.mention_id)
        self.mentions = [_Mention(m.mention_id, m.site, k := normalize_for_match(m.text),
                                  content_terms_of_key(k)) for m in ordered]
        self.index = {m.mention_id: i for i, m in enumerate(self.mentions)}
        n = len(self.mentions)
        dim = len(next(iter(vectors.values()))) if vectors else 1
        raw = np.zeros((n, dim), dtype=np.float64)
        for i, m in enumerate(ordered):
            raw[i] = np.asarray(vectors[m.mention_id], dtype=np.float64)
        raw /= np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
        self.raw = raw
        self.z = _remove_topic(raw, top_directions)
        sites = sorted({m.site for m in self.mentions})
        self.site_ids = np.array([sites.index(m.site) for m in self.mentions], dtype=np.int64)
        df: dict[str, int] = {}
        for m in self.mentions:
            for t in m.terms:
                df[t] = df.get(t, 0) + 1
        self.idf2 = {t: (math.log((1 + n) / (1 + c)) + 1.0) ** 2 for t, c in df.items()}
        self.lexnorm = np.array([math.sqrt(sum(self.idf2[t] for t in m.terms)) or 1.0
                                 for m in self.mentions])
        self._terms = self._term_matrix()
        self._hub, self._rank = self._neighbourhoods()
        self._place_context(places)
        self._cache: dict[tuple[int, int], np.ndarray] = {}
        self._mean_cache: dict[tuple[tuple[int, ...], tuple[int, ...]], dict[str, float]] = {}

    def __len__(self) -> int:
        return len(self.mentions)

    def _neighbourhoods(self) -> tuple[np.ndarray, dict[int, dict[int, int]]]:
        """Each mention's mean closeness to its nearest other-partner mentions (CSLS), and
        its nearest mentions (any partner) by rank. In blocks: no n x n matrix is kept."""
        n = len(self.mentions)
        hub = np.zeros(n)
        rank: dict[int, dict[int, int]] = {}
        block = 1024
        for lo in range(0, n, block):
            sims = self.z[lo: lo + block] @ self.z.T
            # neighbours by closeness (sentence vector and IDF word overlap, half each): the
            # words find paraphrases the vector misses ("dangerous" / "can be dangerous")
            close = 0.5 * sims + 0.5 * (self._terms[lo: lo + block] @ self._terms.T).toarray()
            for r in range(sims.shape[0]):
                i = lo + r
                row = sims[r].copy()
                row[i] = -np.inf
                other = row[self.site_ids != self.site_ids[i]]
                k = min(NEIGHBOURS, len(other))
                hub[i] = float(np.sort(other)[-k:].mean()) if k else 0.0
                row = close[r].copy()
                row[i] = -np.inf
                depth = min(RANK_DEPTH, n - 1)
                if depth > 0:
                    top = np.argpartition(-row, depth - 1)[:depth]
                    top = top[np.lexsort((top, -row[top]))]
                    rank[i] = {int(j): r_ for r_, j in enumerate(top)}
        return hub, rank

    def _term_matrix(self):
        """Each mention's content words, IDF-weighted and normalized (a sparse row each):
        the product of two rows is their `lex` overlap."""
        from scipy.sparse import csr_matrix

        vocab = {t: k for k, t in enumerate(sorted(self.idf2))}
        rows, cols, vals = [], [], []
        for i, m in enumerate(self.mentions):
            for t in m.terms:
                rows.append(i)
                cols.append(vocab[t])
                vals.append(math.sqrt(self.idf2[t]) / self.lexnorm[i])
        return csr_matrix((vals, (rows, cols)), shape=(len(self.mentions), max(1, len(vocab))))

    def _place_context(self, places) -> None:
        """Each mention's relative place in its article (0 first, 1 last) and the corpus
        indices of the mentions just before and after it there (-1 for none)."""
        n = len(self.mentions)
        groups: dict[object, list[tuple[int, int]]] = {}
        for i, m in enumerate(self.mentions):
            art, pos = places[m.mention_id] if places and m.mention_id in places else (m.site, m.mention_id)
            groups.setdefault((m.site, art), []).append((pos, i))
        self.place = np.zeros(n)
        self.before = np.full(n, -1)
        self.after = np.full(n, -1)
        for members in groups.values():
            members.sort()
            last = max(1, len(members) - 1)
            for k, (_, i) in enumerate(members):
                self.place[i] = k / last
                if k:
                    self.before[i] = members[k - 1][1]
                if k + 1 < len(members):
                    self.after[i] = members[k + 1][1]

    def _closeness(self, i: int, j: int) -> float:
        if i < 0 or j < 0:
            return 0.0
        a, b = self.mentions[i], self.mentions[j]
        common = a.terms & b.terms
        lex = sum(self.idf2[t] for t in common) / (self.lexnorm[i] * self.lexnorm[j]) if common else 0.0
        return 0.5 * float(self.z[i] @ self.z[j]) + 0.5 * lex

    def nearest(self, i: int, k: int) -> list[int]:
        """Indices of mention i's k nearest mentions (topic-removed cosine), closest first."""
        ranked = self._rank.get(i, {})
        return sorted(ranked, key=ranked.get)[:k]

    def pair(self, i: int, j: int) -> np.ndarray:
        """Evidence of one mention pair: cos, csls, lex, mutual, fuzz, raw, same_site,
        place difference, context."""
        key = (i, j) if i < j else (j, i)
        got = self._cache.get(key)
        if got is not None:
            return got
        a, b = self.mentions[i], self.mentions[j]
        cos = float(self.z[i] @ self.z[j])
        csls = cos - 0.5 * (self._hub[i] + self._hub[j])
        common = a.terms & b.terms
        lex = sum(self.idf2[t] for t in common) / (self.lexnorm[i] * self.lexnorm[j]) if common else 0.0
        rij = self._rank.get(i, {}).get(j, RANK_DEPTH)
        rji = self._rank.get(j, {}).get(i, RANK_DEPTH)
        mutual = 1.0 / (1.0 + max(rij, rji))
        ratio = fuzz.token_set_ratio(a.key, b.key) / 100.0
        raw = float(self.raw[i] @ self.raw[j])
        same = 1.0 if a.site == b.site else 0.0
        place = abs(self.place[i] - self.place[j])
        context = 0.5 * (self._closeness(self.before[i], self.before[j])
                         + self._closeness(self.after[i], self.after[j]))
        out = np.array([cos, csls, lex, mutual, ratio, raw, same, place, context])
        self._cache[key] = out
        return out

    def pair_evidence(self, i: int, j: int) -> np.ndarray:
        """The FEATURES of two single mentions (corpus indices), as a row: the form the
        prior is fitted on."""
        cos, csls, lex, mutual, ratio, raw, same, place, context = self.pair(i, j)
        return np.array([cos, cos, csls, csls, lex, lex, mutual, ratio, raw, same, place, context])

    def mean_evidence(self, left: Sequence[int], right: Sequence[int]) -> dict[str, float]:
        """The FEATURES of two claims (their members' corpus indices) as the mean, over
        every cross pair, of the pair's own evidence (`pair_evidence`): on the scale of
        single pairs, where the model's prior was fitted. Cached."""
        key = (tuple(sorted(left)), tuple(sorted(right)))
        got = self._mean_cache.get(key)
        if got is None:
            rows = np.array([self.pair_evidence(i, j) for i in left for j in right])
            got = self._mean_cache[key] = {n: round(float(x), 6) for n, x in zip(FEATURES, rows.mean(axis=0))}
        return got


def _remove_topic(raw: np.ndarray, k: int) -> np.ndarray:
    """Vectors without the corpus mean and its top k principal directions, re-normalized."""
    if len(raw) < MIN_STATISTICS:  # too few sentences to tell the topic from the content
        return raw.copy()
    z = raw - raw.mean(axis=0)
    if k:
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        top = vt[: min(k, len(vt))]
        # a direction's sign is arbitrary; the projection does not depend on it
        z = z - (z @ top.T) @ top
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
