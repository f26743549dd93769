"""The learned sentence label model: logistic-regression weights shipped in the package.

Owns: reading `label_model.json` (through importlib.resources, so an installed wheel finds
it), turning features (and, when given, sentence vectors) into the probabilities of claim,
promo and other, the decision rule, and taking extra labelled examples at run time
(`LabelModel.with_examples`: an editor's "not a claim" answers). The file is written by
`benchmarks/train_labels.py`, which says what it was fitted on.
It reads the general features and the all-MiniLM-L6-v2 vector of the sentence. The file
holds one fitted head per encoder of that model (the torch reference and the int8 ONNX
export, whose vectors are close but not equal), keyed by the encoder's name (the name its
vectors are cached under, `pipeline.dedupe.embed.embedder_name`): `shipped_model(name)`
gives the head fitted on that encoder's vectors, and the reference encoder's head for a
name the file does not know (or no name). A linear model moves little when the vector
moves little: a drift of 0.5% in the vector moves each score by a small share of its
vector part (tests/test_labels.py measures how many labels change).
Must not: load the sentence model, fetch, or know about HTML.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Sequence

import numpy as np

from ._label_features import FEATURES

CLASSES = ("claim", "promo", "other")
MODEL_FILE = "label_model.json"


@dataclass(frozen=True)
class Head:
    """One multinomial logistic regression: standardized features (and vector) -> 3 scores."""

    mean: np.ndarray  # of each input (features, then vector coordinates) over the training set
    scale: np.ndarray
    weights: np.ndarray  # (3, n_features [+ vector dim])
    bias: np.ndarray  # (3,)

    @classmethod
    def from_dict(cls, d: dict) -> "Head":
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["scale"], dtype=np.float64),
                   np.asarray(d["weights"], dtype=np.float64), np.asarray(d["bias"], dtype=np.float64))

    def to_dict(self, digits: int = 5) -> dict:
        r = lambda a: np.round(np.asarray(a, dtype=np.float64), digits).tolist()  # noqa: E731
        return {"mean": r(self.mean), "scale": r(self.scale), "weights": r(self.weights), "bias": r(self.bias)}

    def design(self, features: np.ndarray, vectors: np.ndarray | None) -> np.ndarray:
        x = features if vectors is None else np.hstack([features, vectors])
        return (x - self.mean) / self.scale

    def probabilities(self, features: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
        return softmax(self.design(features, vectors) @ self.weights.T + self.bias)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class LabelModel:
    """The shipped head, its claim threshold, and any examples given at run time."""

    head: Head
    threshold: float = 0.5  # P(claim) a sentence needs to stay a claim
    about: dict = field(default_factory=dict)
    encoder: str = ""  # the name of the encoder whose vectors the head was fitted on
    c: float | None = None  # the inverse L2 strength it was fitted with (for the record)
    # run-time examples: normalized text -> class, and (vectors, classes) for neighbours
    exact: dict = field(default_factory=dict)
    neighbours: tuple = ()
    neighbour_similarity: float = 0.9

    @classmethod
    def from_dict(cls, d: dict, encoder: str | None = None) -> "LabelModel":
        """The model of a model file (`to_file_dict`'s layout) for the vectors of `encoder`
        (the reference encoder's when the file has no head for it, or `encoder` is None)."""
        if tuple(d["features"]) != FEATURES:
            raise ValueError("label model file does not match the feature list; run benchmarks/train_labels.py --write")
        if "encoders" not in d:
            raise ValueError("label model file of an older layout (one head); run benchmarks/train_labels.py --write")
        heads = d["encoders"]
        name = encoder if encoder in heads else d["reference"]
        h = heads[name]
        return cls(Head.from_dict(h["head"]), float(h["threshold"]), d.get("about", {}), encoder=name,
                   c=h.get("C"))

    def to_entry(self) -> dict:
        """This model's entry in a model file: its C, threshold and head."""
        return {"C": self.c, "threshold": self.threshold, "head": self.head.to_dict()}

    @property
    def vector_dim(self) -> int:
        """The length of the sentence vectors the model reads (384: all-MiniLM-L6-v2)."""
        return self.head.weights.shape[1] - len(FEATURES)

    def probabilities(self, features: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of claim, promo, other."""
        features = np.asarray(features, dtype=np.float64).reshape(-1, len(FEATURES))
        return self.head.probabilities(features, np.asarray(vectors, dtype=np.float64))

    def decide(self, probs: np.ndarray, texts: Sequence[str] = (), vectors: np.ndarray | None = None) -> list[str]:
        """A class per row: claim when P(claim) reaches the threshold, else the likelier of
        promo and other; then the run-time examples (`overrides`)."""
        out = ["claim" if p[0] >= self.threshold else ("promo" if p[1] >= p[2] else "other") for p in probs]
        return self.overrides(texts, out, vectors)

    def overrides(self, texts: Sequence[str], classes: list[str], vectors: np.ndarray | None = None) -> list[str]:
        """`classes` with the run-time examples applied: the same text, or (with vectors) a
        sentence at least `neighbour_similarity` close to an example, takes its class."""
        out = list(classes)
        if self.exact:
            from ._text import normalize_text
            for i, t in enumerate(texts):
                hit = self.exact.get(normalize_text(t).lower())
                if hit:
                    out[i] = hit
        if self.neighbours and vectors is not None and len(out):
            ref, ref_classes = self.neighbours
            sims = np.asarray(vectors, dtype=np.float32) @ ref.T
            best = sims.argmax(axis=1)
            for i, j in enumerate(best):
                if sims[i, j] >= self.neighbour_similarity:
                    out[i] = ref_classes[j]
        return out

    def with_examples(self, examples: Sequence[tuple[str, str, Sequence[float]]], vectors: np.ndarray | None = None,
                      *, strength: float = 1.0, steps: int = 200) -> "LabelModel":
        """A model that also knows these labelled examples (text, class, features), e.g. the
        sentences editors answered "not a claim" for (class "other").

        Three things happen, all deterministic: the exact texts are remembered (the same
        byline or notice on the next page gets the editor's label, with or without vectors);
        with `vectors` (one row per example) their near neighbours get it too, and the head
        is refitted by gradient descent on the examples with an L2 pull towards the shipped
        weights (`strength` weighs the examples against that pull), so that similar
        sentences move as well."""
        if not examples:
            return self
        from ._text import normalize_text
        classes = [c for _, c, _ in examples]
        if any(c not in CLASSES for c in classes):
            raise ValueError(f"example classes must be among {CLASSES}")
        exact = dict(self.exact)
        exact.update({normalize_text(t).lower(): c for t, c, _ in examples})
        if vectors is None:
            return replace(self, exact=exact)
        X = np.asarray([f for _, _, f in examples], dtype=np.float64)
        y = np.zeros((len(examples), len(CLASSES)))
        y[np.arange(len(examples)), [CLASSES.index(c) for c in classes]] = 1.0
        v = np.asarray(vectors, dtype=np.float32)
        head = _refit(self.head, self.head.design(X, v.astype(np.float64)), y, strength=strength, steps=steps)
        if self.neighbours:
            classes = list(self.neighbours[1]) + classes
            v = np.vstack([self.neighbours[0], v])
        return replace(self, head=head, exact=exact, neighbours=(v, tuple(classes)))


def _refit(head: Head, x: np.ndarray, y: np.ndarray, *, strength: float, steps: int) -> Head:
    """Gradient descent on cross-entropy over (x, y) plus 0.5 * |W - W0|^2."""
    w0, b0 = head.weights, head.bias
    w, b = w0.copy(), b0.copy()
    lr = 1.0 / (1.0 + strength * float((x * x).sum() + len(x)))  # below 1/L: the descent cannot diverge
    for _ in range(steps):
        g = (softmax(x @ w.T + b) - y) * strength
        w -= lr * (g.T @ x + (w - w0))
        b -= lr * (g.sum(axis=0) + (b - b0))
    return replace(head, weights=w, bias=b)


def to_file_dict(models: Sequence[LabelModel], *, reference: str, about: dict) -> dict:
    """The layout of `label_model.json`: what it was fitted on, the feature list, the
    reference encoder's name, and one entry per encoder (`LabelModel.to_entry`)."""
    if reference not in {m.encoder for m in models}:
        raise ValueError(f"no head for the reference encoder {reference!r}")
    return {"about": about, "features": list(FEATURES), "classes": list(CLASSES), "reference": reference,
            "encoders": {m.encoder: m.to_entry() for m in sorted(models, key=lambda m: m.encoder)}}


@lru_cache(maxsize=1)
def _shipped_file() -> dict:
    text = resources.files("pipeline.extract").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=8)
def shipped_model(encoder: str | None = None) -> LabelModel:
    """The model file's head for the vectors of the encoder named `encoder` (an embedder's
    `name`: "all-MiniLM-L6-v2" for torch, "all-MiniLM-L6-v2+onnx-..." for the ONNX export);
    the reference encoder's head for another name or None. Read once per process."""
    return LabelModel.from_dict(_shipped_file(), encoder)


def shipped_encoders() -> tuple[str, ...]:
    """The encoder names the model file has a head for, the reference first."""
    d = _shipped_file()
    return (d["reference"],) + tuple(sorted(n for n in d["encoders"] if n != d["reference"]))
