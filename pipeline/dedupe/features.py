"""Pair evidence as a feature vector, and the two models that decide automatic merges over it.

Owns: `PAIR_FEATURES` (the evidence of two mentions), claim-level names over them,
`MergeModel` (the shipped, calibrated automatic decision: a logistic pair probability over
named pair features, with its threshold) and `PairModel` (logistic weights over claim-level
features, fitted from editor answers). `PairContext` (context.py) computes the features of
any two mentions or claims of a corpus with the engine's own code.
Must not: fit anything (benchmarks/merge_model.py fits the MergeModel on annotated golds; the
review queue fits the PairModel from editor answers and stores it), touch the database.

Names. A mention pair has the `PAIR_FEATURES`. Two claims (or a newcomer and a claim) have,
for each pair feature F, `F_mean`, `F_max` and `F_min` over the cross pairs of their members
(`F` alone means `F_mean`). FEATURE_NAMES is the default claim-level vector.

The contract with the review queue (`syndicate claims review`):
- `PairContext.build(mentions, embeddings=..., embedder=...)` over every current claim
  mention (corpus statistics, topic directions and word IDF, taken over all of them);
  `ctx.mention_features(a_id, b_id)` -> one PAIR_FEATURES row; `ctx.claim_features(a_ids,
  b_ids, names=FEATURE_NAMES)` -> the named claim-level vector. The engine computes the same
  rows for a newcomer against a candidate claim's checked members (with the statistics of
  the corpus prefix: see engine.py).
- A pair model is any object with `names` (or `features`), `weights`, `bias` and optionally
  `threshold` (`PairModel.coerce` reads it): passed to the clustering (`pair_model=`), a
  newcomer joins a candidate claim by paraphrase when sigmoid(x . weights + bias) over the
  named claim-level features of (newcomer, the claim's checked members) is >= threshold
  (default 0.9: precision first); the hand `join`/`floor` settings are then unused. Exact
  copies, near-copies, the mismatch vetoes and editor constraints hold as without a model.
  Names the engine cannot compute (e.g. ones needing the whole corpus' neighbourhoods) are
  refused with a ValueError. Same model + same answers -> incremental == rebuild.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .evidence import MISMATCH_NAMES

PAIR_FEATURES = ("cos", "raw", "lex", "fuzz", "near_copy") + MISMATCH_NAMES + ("same_site", "cover")
"""cos: cosine of the topic-removed sentence vectors; raw: plain cosine; lex: IDF-weighted
cosine of the content-word sets (a leading "Label:" left out: normalize.evidence_terms);
fuzz: rapidfuzz token_set_ratio (0..1) and near_copy: rapidfuzz ratio (0..1) of the
normalized texts; the mismatch flags of evidence.py (1 when set); same_site: both sentences
from one partner; cover: the IDF weight the two share over the weight of the heavier one
(low when one sentence says much the other does not)."""
MISMATCH_COLUMNS = slice(PAIR_FEATURES.index(MISMATCH_NAMES[0]),
                         PAIR_FEATURES.index(MISMATCH_NAMES[-1]) + 1)
AGGREGATES = ("mean", "max", "min")
# The review queue's claim-level vector (its stored engine models are fitted on these names;
# keep them as they are when pair features are added)
FEATURE_NAMES = tuple(f"{f}_mean" for f in (
    "cos", "raw", "lex", "fuzz", "near_copy", "negation_mismatch", "antonym_mismatch",
    "number_mismatch", "number_missing", "qualifier_mismatch", "lead_in", "same_site")) + tuple(
    f"{f}_max" for f in ("cos", "lex", "fuzz", "near_copy"))
THRESHOLD = 0.9
TEXT_FEATURES = ("fuzz", "near_copy")  # cost a string comparison per pair


def _column(name: str) -> tuple[int, str]:
    """(pair feature index, aggregate) of a claim-level feature name."""
    base, _, agg = name.rpartition("_")
    if agg in AGGREGATES and base in PAIR_FEATURES:
        return PAIR_FEATURES.index(base), agg
    if name in PAIR_FEATURES:
        return PAIR_FEATURES.index(name), "mean"
    raise ValueError(f"the clustering engine cannot compute the feature {name!r}; "
                     f"it knows {', '.join(PAIR_FEATURES)} with _mean/_max/_min")


def claim_rows(rows: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
               names: Sequence[str]) -> np.ndarray:
    """Claim-level features of groups of consecutive pair rows (group g: rows starts[g] ...
    starts[g] + sizes[g] - 1), one row per group, columns `names`."""
    cols = [_column(n) for n in names]
    agg = {"mean": np.add.reduceat(rows, starts, axis=0) / sizes[:, None],
           "max": np.maximum.reduceat(rows, starts, axis=0),
           "min": np.minimum.reduceat(rows, starts, axis=0)}
    return np.stack([agg[a][:, i] for i, a in cols], axis=1) if cols else np.zeros((len(starts), 0))


@dataclass(frozen=True, slots=True)
class PairModel:
    """Logistic regression over named claim-level features:
    p(same claim) = sigmoid(x . weights + bias); automatic merges need p >= threshold."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float = THRESHOLD

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.names):
            raise ValueError(f"pair model has {len(self.names)} names but {len(self.weights)} weights")
        for n in self.names:
            _column(n)

    @staticmethod
    def coerce(model) -> "PairModel":
        """Any object (or dict) with names/features, weights, bias[, threshold] -> PairModel."""
        if isinstance(model, PairModel):
            return model
        get = model.get if isinstance(model, Mapping) else (lambda k, d=None: getattr(model, k, d))
        names = get("names") or get("features")
        return PairModel(tuple(names), tuple(float(w) for w in get("weights")), float(get("bias")),
                         float(get("threshold", THRESHOLD) or THRESHOLD))

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of claim-level rows (n, len(names)) -> (n,)."""
        z = np.asarray(x, dtype=np.float64) @ np.asarray(self.weights, dtype=np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))

    def to_json(self) -> str:
        return json.dumps(dict(names=list(self.names), weights=list(self.weights), bias=self.bias,
                               threshold=self.threshold))

    @staticmethod
    def from_json(text: str) -> "PairModel":
        return PairModel.coerce(json.loads(text))


@dataclass(frozen=True, slots=True)
class MergeModel:
    """The automatic merge decision: P(two mentions state the same proposition) =
    sigmoid(x . weights + bias) over named PAIR_FEATURES of the mention pair. A newcomer
    joins a claim when the mean P over the claim's checked members is at least `threshold`
    and none is below `floor`; a pair with a vetoing mismatch counts as P = 0.

    Fitted offline on annotated golds (benchmarks/merge_model.py says on what, and prints
    the figures on sites left out of the fit); the engine only applies it."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    floor: float = 0.0

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.names):
            raise ValueError(f"merge model has {len(self.names)} names but {len(self.weights)} weights")
        unknown = [n for n in self.names if n not in PAIR_FEATURES]
        if unknown:
            raise ValueError(f"merge model names unknown pair features {unknown}; "
                             f"it knows {', '.join(PAIR_FEATURES)}")

    @property
    def needs_texts(self) -> bool:
        return any(n in TEXT_FEATURES for n in self.names)

    def logit(self, rows: np.ndarray) -> np.ndarray:
        """Logits of PAIR_FEATURES rows (n, len(PAIR_FEATURES)) -> (n,)."""
        cols = [PAIR_FEATURES.index(n) for n in self.names]
        return np.asarray(rows, dtype=np.float64)[:, cols] @ np.asarray(self.weights) + self.bias

    def probability(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(rows), -60, 60)))

    def to_dict(self) -> dict:
        return dict(names=list(self.names), weights=list(self.weights), bias=self.bias,
                    threshold=self.threshold, floor=self.floor)

    @staticmethod
    def from_dict(d: Mapping) -> "MergeModel":
        return MergeModel(tuple(d["names"]), tuple(float(w) for w in d["weights"]),
                          float(d["bias"]), float(d["threshold"]), float(d.get("floor", 0.0)))
