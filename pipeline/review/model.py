"""The pair model: P(two claims say the same thing) from their evidence, refitted from the
editor's answers, and honest about how sure it is.

Owns: a Bayesian logistic regression over `evidence.FEATURES` (a Gaussian prior on the
weights, its fit by Newton steps: deterministic, the same answers always give the same
model), the probability it shows (moderated by the weights' uncertainty, kept inside
[P_FLOOR, P_CEIL]), the fit of a prior from labelled pairs, and the model's plain-dict form
for the store.
Must not: touch the database or the clock.

Why a prior. Before the first answer there is nothing to fit, and ten answers are too few
to trust on their own. The weights start from prior weights fitted on labelled pairs of
another corpus (`PRIOR`, below: where it comes from and how to refit it) and are pulled
towards them (L2 shrinkage towards the prior, not towards zero) with a strength of about
PRIOR_ANSWERS answers per weight: each answer moves the model a little.

Why moderated. After eleven answers the old model showed P(same) = 0.9999 for two different
claims: a logistic model fitted on few answers has large weights whose uncertainty the
point estimate hides. The probability shown here averages the logistic over the weights'
posterior (MacKay's approximation: logit / sqrt(1 + pi var / 8), with var the logit's
variance under the Laplace approximation), so a pair far from every answer seen gets a
probability nearer 0.5, and no probability leaves [P_FLOOR, P_CEIL]: an editor's yes rate
is never 0 or 1 on any bin of questions worth asking.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .evidence import FEATURES

P_FLOOR, P_CEIL = 0.01, 0.99

# The prior's weights over the mean/max evidence of a claim pair, fitted with `fit_prior`
# on every candidate pair of single sentences of the partner gold (../shared/gold, four
# partners on alcohol and sleep), labelled by the gold's precision rule. Regenerate with
#     python benchmarks/review_sim.py --fit-prior --gold ../shared/gold/claims.json --seeds ../shared/seeds
# It was fitted on the partner gold only, so figures on other golds (claims-dev) are out of
# sample; the simulator scores the partner gold with a prior fitted on the other gold.
PRIOR = {
    "weights": {"cos_mean": 0.529, "cos_max": 0.529, "csls_mean": 0.2763, "csls_max": 0.2763,
                "lex_mean": 2.6178, "lex_max": 2.6178, "mutual_mean": 0.5286, "fuzz_max": 3.628,
                "raw_mean": 1.5143, "same_site": -0.3264, "place_diff": -0.6081, "context_max": 1.1426},
    "bias": -4.9621,
    # each feature's variance over those pairs (the prior's precision is given in them)
    "scale": {"cos_mean": 0.01235, "cos_max": 0.01235, "csls_mean": 0.01007, "csls_max": 0.01007,
              "lex_mean": 0.01078, "lex_max": 0.01078, "mutual_mean": 0.03375, "fuzz_max": 0.00669,
              "raw_mean": 0.03996, "same_site": 0.2395, "place_diff": 0.05909, "context_max": 0.00569},
}
PRIOR_ANSWERS = 2.0  # the prior weighs like this many answers per weight (chosen on the partner gold)


@dataclass(frozen=True, slots=True)
class PairModel:
    """Weights over named features, plus a bias. `answers`: how many answers it was fitted
    on. `precision`: the prior's precision per weight (the bias last), None for none.
    `cov`: the weights' posterior covariance (bias last), when known."""

    names: tuple[str, ...] = FEATURES
    weights: tuple[float, ...] = field(default_factory=lambda: tuple(
        float(PRIOR["weights"].get(n, 0.0)) for n in FEATURES))
    bias: float = float(PRIOR["bias"])
    answers: int = 0
    precision: tuple[float, ...] | None = None
    cov: tuple[tuple[float, ...], ...] | None = field(default=None, compare=False)

    def rows(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The model's columns of evidence given as {name: value} (0 for a missing name)."""
        return np.array([[float(e.get(n, 0.0)) for n in self.names] for e in evidence],
                        dtype=np.float64).reshape(-1, len(self.names))

    def logit(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        return self.rows(evidence) @ np.asarray(self.weights) + self.bias

    def point_probability(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The logistic at the fitted weights (no moderation, no cap): for the engine."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(evidence), -30, 30)))

    def probability(self, evidence: Sequence[Mapping[str, float]]) -> np.ndarray:
        """P(same) as shown to the editor: moderated by the weights' uncertainty, capped."""
        t = self.logit(evidence)
        if self.cov is not None and len(t):
            xb = np.hstack([self.rows(evidence), np.ones((len(t), 1))])
            var = np.einsum("ij,jk,ik->i", xb, np.asarray(self.cov), xb)
            t = t / np.sqrt(1.0 + math.pi * np.maximum(var, 0.0) / 8.0)
        p = 1.0 / (1.0 + np.exp(-np.clip(t, -30, 30)))
        return np.clip(p, P_FLOOR, P_CEIL)

    def to_dict(self) -> dict:
        return {"names": list(self.names), "weights": [round(w, 8) for w in self.weights],
                "bias": round(self.bias, 8), "answers": self.answers}

    @classmethod
    def from_dict(cls, d: dict, prior: "PairModel | None" = None) -> "PairModel":
        prior = prior or prior_model()
        names = tuple(d["names"])
        if names != prior.names:
            return prior  # fitted on other evidence: start again from the prior
        return cls(names, tuple(float(w) for w in d["weights"]), float(d["bias"]), int(d.get("answers", 0)),
                   prior.precision)


def prior_model(prior: Mapping | None = None, *, answers_worth: float = PRIOR_ANSWERS) -> PairModel:
    """The model before any answer: `prior` ({weights, bias, scale} as `PRIOR`, default the
    shipped one), with its precision and the covariance that precision gives."""
    prior = PRIOR if prior is None else prior
    weights = tuple(float(prior["weights"].get(n, 0.0)) for n in FEATURES)
    scale = prior.get("scale") or {}
    # the prior's precision: `answers_worth` answers of curvature (p(1-p) <= 1/4) over a
    # feature's spread; the bias is as sure as the feature of most spread
    spread = [max(float(scale.get(n, 0.05)), 1e-3) for n in FEATURES]
    precision = tuple(answers_worth * 0.25 * s for s in spread) + (answers_worth * 0.25 * max(spread),)
    cov = tuple(tuple((1.0 / p) if i == j else 0.0 for j in range(len(precision)))
                for i, p in enumerate(precision))
    return PairModel(FEATURES, weights, float(prior["bias"]), 0, precision, cov)


# The model the clustering engine may use (its own features, dedupe.FEATURE_NAMES): the same
# shape of prior, on the engine's cosine and word overlap.
ENGINE_THRESHOLD = 0.95  # automatic merges need this probability: precision first
_ENGINE_PRIOR = {"cos_mean": 3.0, "lex_mean": 3.0}
_ENGINE_BIAS = -3.5
ENGINE_STRENGTH = 2.0  # the engine prior counts like this many answers per weight


def engine_prior() -> PairModel:
    from ..dedupe import FEATURE_NAMES

    return PairModel(tuple(FEATURE_NAMES), tuple(_ENGINE_PRIOR.get(n, 0.0) for n in FEATURE_NAMES), _ENGINE_BIAS)


def fit(evidence: Sequence[Mapping[str, float]], labels: Sequence[bool], *,
        prior: PairModel | None = None, strength: float = ENGINE_STRENGTH, steps: int = 25) -> PairModel:
    """Logistic regression of `labels` (True = same) on `evidence`, shrunk towards `prior`.

    The prior's own `precision` when it has one; otherwise `strength` answers' worth per
    weight, scaled like the data's own curvature. Penalised Newton iterations (IRLS) from
    the prior: the objective is convex, so the result depends only on the data, never on
    an iteration order or a random start. The result carries the weights' posterior
    covariance (the inverse Hessian at the optimum, the Laplace approximation)."""
    prior = prior or prior_model()
    x = prior.rows(evidence)
    y = np.asarray(labels, dtype=np.float64)
    if len(y) == 0:
        return prior
    xb = np.hstack([x, np.ones((len(x), 1))])
    w0 = np.array([*prior.weights, prior.bias])
    if prior.precision is not None:
        reg = np.diag(np.asarray(prior.precision, dtype=np.float64))
    else:
        scale = np.maximum(xb.var(axis=0), 1e-3)
        reg = np.diag(strength * 0.25 * scale)

    def loss(v: np.ndarray) -> float:
        t = xb @ v
        # log(1 + e^t) - y t, computed without overflow
        return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * (v - w0) @ reg @ (v - w0))

    def hessian(v: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ v, -30, 30)))
        return (xb * (p * (1 - p))[:, None]).T @ xb + reg

    w = w0.copy()
    current = loss(w)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ (w - w0)
        step = np.linalg.solve(hessian(w), grad)
        size = 1.0  # backtracking: a full Newton step can overshoot on separable answers
        while size > 1e-4 and loss(w - size * step) > current:
            size *= 0.5
        w = w - size * step
        new = loss(w)
        if current - new < 1e-10:
            break
        current = new
    cov = np.linalg.inv(hessian(w))
    return PairModel(prior.names, tuple(float(v) for v in w[:-1]), float(w[-1]), int(len(y)),
                     prior.precision, tuple(tuple(float(c) for c in row) for row in cov))


def fit_prior(evidence: Sequence[Mapping[str, float]], labels: Sequence[bool], *,
              ridge: float = 1.0) -> dict:
    """A prior ({weights, bias, scale}, the form of `PRIOR`) from labelled pairs of another
    corpus: a logistic regression with a light ridge towards zero (`ridge` answers' worth),
    and each feature's variance over the pairs."""
    base = PairModel(FEATURES, (0.0,) * len(FEATURES), 0.0)
    x = base.rows(evidence)
    model = fit(evidence, labels, prior=base, strength=ridge)
    return {"weights": {n: round(w, 4) for n, w in zip(FEATURES, model.weights)},
            "bias": round(model.bias, 4),
            "scale": {n: round(float(v), 5) for n, v in zip(FEATURES, x.var(axis=0))}}
