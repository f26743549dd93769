"""The sentence encoders: ONNX Runtime float32 (the default) and int8 against the torch
reference, same MiniLM weights.

For each backend, in a process of its own (clean load time and peak memory): the time to
import its libraries and load the model (the ONNX export is cached first, and its one-time
cost printed when this run had to make it), sentences per second on realistic sentences
(wall clock, and per CPU second of the process: the machine is shared, so the wall-clock
rate moves with the load, printed beside it), and the peak memory of the process. Then the
cosine of each ONNX vector to the torch vector of the same sentence (mean and minimum), on

- partner and other centers' sentences: ../shared/seeds and ../shared/claims-dev/pages,
  split into sentences (skipped, with a note, when ../shared is absent);
- generated sentences: the synthetic corpus of dedup_scale.py (ours, no partner text).

The check: mean cosine >= 0.99 and minimum >= 0.98 on each set, for each ONNX backend
(exit status 1 otherwise).

    python benchmarks/encoder.py [--sentences N] [--backends torch onnx onnx-int8] [--quality]

With --quality it also runs benchmarks/dedup_quality.py and benchmarks/review_sim.py under
each backend (SYNDICATE_ENCODER=torch, onnx, ...) and prints what they print (the review
simulation takes minutes per backend).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MEAN_BOUND, MIN_BOUND = 0.99, 0.98


def realistic_sentences() -> list[str]:
    """Sentences of the partner seeds and the claims-dev pages (a plain splitter: after
    . ! ? and a space before a capital, digit or quote), four words or more, each once."""
    files = sorted((SHARED / "seeds").glob("*.txt")) + sorted((SHARED / "claims-dev" / "pages").glob("*.txt"))
    out: list[str] = []
    for f in files:
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", f.read_text("utf-8")):
            s = " ".join(s.split())
            if len(s.split()) >= 4:
                out.append(s)
    return list(dict.fromkeys(out))


def generated_sentences(n: int) -> list[str]:
    from dedup_scale import synthetic_corpus

    texts: list[str] = []
    size = n
    while len(texts) < n:  # some generated statements are verbatim copies
        texts = list(dict.fromkeys(m.text for m in synthetic_corpus(size)))
        size *= 2
    return texts[:n]


def measure(backend: str, texts_file: str, vectors_file: str) -> dict:
    """In a fresh process: load time, speed, peak memory; the vectors go to `vectors_file`."""
    texts = json.loads(Path(texts_file).read_text("utf-8"))
    from pipeline.dedupe import onnx_model
    from pipeline.dedupe.embed import make_embedder

    export_s = None
    if backend.startswith("onnx"):  # the one-time export is not part of the load time
        recipe = make_embedder(backend).recipe
        if not onnx_model.model_path(recipe=recipe).is_file():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "from pipeline.dedupe import onnx_model; "
                            f"onnx_model.ensure_model(recipe={recipe!r})"], check=True, cwd=ROOT)
            export_s = time.perf_counter() - t
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    emb = make_embedder(backend)
    emb.encode(["Warm-up."])  # imports the backend and loads the model
    load_s = time.perf_counter() - t0
    emb.encode(texts[:64])
    t1 = time.perf_counter()
    c1 = time.process_time()
    load0 = os.getloadavg()[0]
    vecs = emb.encode(texts)
    encode_s, cpu_s = time.perf_counter() - t1, time.process_time() - c1
    np.save(vectors_file, vecs)
    torch = sys.modules.get("torch")
    return {"backend": backend, "name": emb.name, "load_s": round(load_s, 3),
            "export_s": None if export_s is None else round(export_s, 1),
            "sentences": len(texts), "sentences_per_s": round(len(texts) / encode_s, 1),
            "sentences_per_cpu_s": round(len(texts) / cpu_s, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "baseline_rss_mb": round(rss0 / 1024, 1), "torch_imported": torch is not None,
            "cores": len(os.sched_getaffinity(0)), "load_avg": [load0, os.getloadavg()[0]]}


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def run_quality(backends) -> None:
    for backend in backends:
        env = dict(os.environ, SYNDICATE_ENCODER=backend)
        for script in ("dedup_quality.py", "review_sim.py"):
            print(f"== {script} with SYNDICATE_ENCODER={backend}", flush=True)
            out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], env=env,
                                 capture_output=True, text=True)
            print(out.stdout.rstrip() or out.stderr.rstrip()[-2000:], flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", type=int, default=2000, help="generated sentences to compare")
    ap.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"],
                    help="backends to measure (torch, the reference, is always measured)")
    ap.add_argument("--quality", action="store_true",
                    help="also run dedup_quality.py and review_sim.py under each backend")
    ap.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.measure:
        print(json.dumps(measure(*a.measure)))
        return 0
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sets = {}
    if (SHARED / "seeds").is_dir():
        sets["partner and claims-dev sentences"] = realistic_sentences()
    else:
        print(f"note: no {SHARED / 'seeds'}: generated sentences only")
    sets["generated sentences"] = generated_sentences(a.sentences)
    texts = [t for v in sets.values() for t in v]
    backends = ["torch"] + [b for b in dict.fromkeys(a.backends) if b != "torch"]
    results, vectors = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tf = Path(tmp) / "texts.json"
        tf.write_text(json.dumps(texts), "utf-8")
        for backend in backends:
            vf = Path(tmp) / f"{backend}.npy"
            out = subprocess.run([sys.executable, __file__, "--measure", backend, str(tf), str(vf)],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            results[backend] = json.loads(out.stdout.strip().splitlines()[-1])
            vectors[backend] = np.load(vf)
    print(f"{len(texts)} sentences, mean {np.mean([len(x.split()) for x in texts]):.1f} words; "
          f"{results['torch']['cores']} cores; load average before/after each backend; "
          "wall-clock rates move with the machine's load, CPU-second rates much less")
    t = results["torch"]
    for b, r in results.items():
        extra = f"; the one-time export took {r['export_s']:.0f}s" if r["export_s"] else ""
        print(f"{b:9s} ({r['name']}): load {r['load_s']:.2f}s, {r['sentences_per_s']:.0f} sentences/s wall, "
              f"{r['sentences_per_cpu_s']:.0f} per CPU second, peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"torch imported: {r['torch_imported']}, load average {r['load_avg'][0]:.1f}/{r['load_avg'][1]:.1f}{extra}")
        if b != "torch":
            print(f"          vs torch: {r['sentences_per_s'] / t['sentences_per_s']:.2f}x sentences/s wall, "
                  f"{r['sentences_per_cpu_s'] / t['sentences_per_cpu_s']:.2f}x per CPU second, "
                  f"load {t['load_s'] / max(r['load_s'], 1e-9):.1f}x faster, "
                  f"{t['peak_rss_mb'] - r['peak_rss_mb']:.0f} MB less memory")
    ok = True
    for b in backends[1:]:
        lo = 0
        for name, group in sets.items():
            cos = cosines(vectors[b][lo: lo + len(group)], vectors["torch"][lo: lo + len(group)])
            lo += len(group)
            good = cos.mean() >= MEAN_BOUND and cos.min() >= MIN_BOUND
            ok &= bool(good)
            print(f"cosine {b} to torch, {name} ({len(group)}): mean {cos.mean():.4f} min {cos.min():.4f} "
                  f"(1 - min = {1 - cos.min():.1e}) "
                  f"[bound: mean >= {MEAN_BOUND}, min >= {MIN_BOUND}: {'ok' if good else 'FAILED'}]")
    if a.quality:
        run_quality(backends)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
