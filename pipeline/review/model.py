"""The pair model: P(two claims say the same thing) from their evidence, refitted from the
editor's answers.

Owns: a logistic regression over `evidence.FEATURES`, its fit (Newton steps, deterministic:
the same answers always give the same weights) and its plain-dict form for the store.
Must not: touch the database or the clock.

Why a prior. Before the first answer there is nothing to fit, and ten answers are too few
to trust on their own. The weights are therefore pulled towards prior weights (a Gaussian
prior, i.e. L2 shrinkage towards them rather than towards zero): the prior is the
similarity the clustering engine already uses (topic-removed cosine and IDF word overlap),
and each answer moves the model a little away from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .evidence import FEATURES

# Prior of the queue's model: logit = 3 cos + 3 lex + 2 csls + mutual - 3.5 on the mean
# evidence, i.e. P = 0.5 near the engine's join score and falling fast below it.
_PRIOR = {"cos_mean": 3.0, "lex_mean": 3.0, "csls_mean": 2.0, "mutual_mean": 1.0}
_PRIOR_BIAS = -3.5
STRENGTH = 2.0  # the prior counts like this many answers' worth of curvature per weight


@dataclass(frozen=True, slots=True)
class PairModel:
    """Weights over named features, plus a bias. `answers` = how many answers it was fitted on."""

    names: tuple[str, ...] = FEATURES
    weights: tuple[float, ...] = field(default_factory=lambda: tuple(_PRIOR.get(n, 0.0) for n in FEATURES))
    bias: float = _PRIOR_BIAS
    answers: int = 0

    def rows(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The model's columns of evidence given as {name: value} (0 for a missing name)."""
        return np.array([[float(e.get(n, 0.0)) for n in self.names] for e in evidence],
                        dtype=np.float64).reshape(-1, len(self.names))

    def logit(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        return self.rows(evidence) @ np.asarray(self.weights) + self.bias

    def probability(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(evidence), -30, 30)))

    def to_dict(self) -> dict:
        return {"names": list(self.names), "weights": [round(w, 8) for w in self.weights],
                "bias": round(self.bias, 8), "answers": self.answers}

    @classmethod
    def from_dict(cls, d: dict, prior: "PairModel | None" = None) -> "PairModel":
        prior = prior or cls()
        names = tuple(d["names"])
        if names != prior.names:
            return prior  # fitted on other evidence: start again from the prior
        return cls(names, tuple(float(w) for w in d["weights"]), float(d["bias"]), int(d.get("answers", 0)))


def prior_model() -> PairModel:
    return PairModel()


# The model the clustering engine may use (its own features, dedupe.FEATURE_NAMES): the same
# prior, on the engine's cosine and word overlap.
ENGINE_THRESHOLD = 0.95  # automatic merges need this probability: precision first


def engine_prior() -> PairModel:
    from ..dedupe import FEATURE_NAMES

    w = {"cos_mean": 3.0, "lex_mean": 3.0}
    return PairModel(tuple(FEATURE_NAMES), tuple(w.get(n, 0.0) for n in FEATURE_NAMES), _PRIOR_BIAS)


def fit(evidence: Sequence[Mapping[str, float]], labels: Sequence[bool], *,
        prior: PairModel | None = None, strength: float = STRENGTH, steps: int = 25) -> PairModel:
    """Logistic regression of `labels` (True = same) on `evidence`, shrunk towards `prior`.

    Penalised Newton iterations (IRLS) from the prior: the objective is convex, so the result
    depends only on the data, never on an iteration order or a random start."""
    prior = prior or prior_model()
    x = prior.rows(evidence)
    y = np.asarray(labels, dtype=np.float64)
    if len(y) == 0:
        return prior
    xb = np.hstack([x, np.ones((len(x), 1))])
    w0 = np.array([*prior.weights, prior.bias])
    # the prior's precision: `strength` per weight, scaled like the data's own curvature so
    # that it means the same for features of small and large spread
    scale = np.maximum(xb.var(axis=0), 1e-3)
    reg = np.diag(strength * 0.25 * scale)
    def loss(v: np.ndarray) -> float:
        t = xb @ v
        # log(1 + e^t) - y t, computed without overflow
        return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * (v - w0) @ reg @ (v - w0))

    w = w0.copy()
    current = loss(w)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ (w - w0)
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        size = 1.0  # backtracking: a full Newton step can overshoot on separable answers
        while size > 1e-4 and loss(w - size * step) > current:
            size *= 0.5
        w = w - size * step
        new = loss(w)
        if current - new < 1e-10:
            break
        current = new
    return PairModel(prior.names, tuple(float(v) for v in w[:-1]), float(w[-1]), int(len(y)))
