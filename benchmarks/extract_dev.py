#!/usr/bin/env python3
"""Main-text extraction on the public development set: ours against trafilatura, same run.

Reads `../shared/extraction-dev` (990 pages with hand-picked main-text and boilerplate
segments; its README gives the metric, the one trafilatura publishes): whitespace
normalised, a `with` segment found in the output is a true positive (else a false
negative), a `without` segment found is a false positive (else a true negative); counts
summed over the pages, then precision, recall, accuracy and F1. Speed is wall-clock pages
per second and pages per CPU-second (process time, so other jobs on the machine count
less), both extractors timed page by page on the same bytes.

    python benchmarks/extract_dev.py                      # all 990 pages, both extractors
    python benchmarks/extract_dev.py --limit 200          # the first 200 (quick iteration)
    python benchmarks/extract_dev.py --half a             # one held-out half (a or b)
    python benchmarks/extract_dev.py --only ours --worst 15   # the worst pages, missed/leaked text
    python benchmarks/extract_dev.py --json               # machine-readable figures

The halves split the pages by a hash of their file name, so each half is a fixed, mixed
sample: tune on one, check on the other.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.extract import extract_article  # noqa: E402



def find_dev() -> Path:
    """$SYNDICATE_EXTRACTION_DEV, else ../shared/extraction-dev (from a git worktree one
    level deeper, the nearest ancestor's shared/)."""
    if os.environ.get("SYNDICATE_EXTRACTION_DEV"):
        return Path(os.environ["SYNDICATE_EXTRACTION_DEV"])
    for parent in ROOT.parents:
        if (parent / "shared" / "extraction-dev").is_dir():
            return parent / "shared" / "extraction-dev"
    return ROOT.parent / "shared" / "extraction-dev"


DEV = find_dev()
_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    return _WS.sub(" ", text or "").strip()


def half_of(name: str) -> str:
    """'a' or 'b': a fixed split by a hash of the page's file name."""
    return "ab"[hashlib.sha256(name.encode()).digest()[0] & 1]


def load(dev: Path = DEV, limit: int | None = None, half: str | None = None) -> list[dict]:
    """[{name, url, html (bytes), with, without}] in file-name order."""
    data = json.loads((dev / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for name in sorted(data):
        if half and half_of(name) != half:
            continue
        entry = data[name]
        path = dev / "pages" / (name + ".gz")
        if not path.exists():
            continue
        pages.append({"name": name, "url": entry.get("url") or "", "html": gzip.decompress(path.read_bytes()),
                      "with": entry.get("with", []), "without": entry.get("without", [])})
        if limit and len(pages) >= limit:
            break
    return pages


def ours(html: bytes, url: str) -> str:
    return extract_article(html, url).text


def trafilatura_extractor():
    import trafilatura  # the `bench` extra

    def run(html: bytes, url: str) -> str:
        return trafilatura.extract(html, url=url) or ""
    return run


def score_page(text: str, page: dict) -> dict:
    out = norm(text)
    missed = [s for s in page["with"] if norm(s) not in out]
    leaked = [s for s in page["without"] if norm(s) in out]
    return {"tp": len(page["with"]) - len(missed), "fn": len(missed), "fp": len(leaked),
            "tn": len(page["without"]) - len(leaked), "missed": missed, "leaked": leaked}


def measure(fn, pages: list[dict]) -> dict:
    """Run one extractor over the pages; totals, speed and the per-page scores."""
    fn(pages[0]["html"], pages[0]["url"])  # warm up: imports, compiled patterns
    counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    per_page = []
    wall = cpu = 0.0
    errors = 0
    for page in pages:
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            text = fn(page["html"], page["url"])
        except Exception as e:  # a crash counts as all misses, as the metric says
            text = ""
            errors += 1
            print(f"  {page['name']}: {type(e).__name__}: {e}", file=sys.stderr)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        s = score_page(text, page)
        for k in counts:
            counts[k] += s[k]
        per_page.append({"name": page["name"], "url": page["url"], **s})
    return {**counts, **figures(counts), "pages": len(pages), "errors": errors,
            "pages_per_s": round(len(pages) / wall, 1) if wall else None,
            "pages_per_cpu_s": round(len(pages) / cpu, 1) if cpu else None,
            "per_page": per_page}


def figures(c: dict) -> dict:
    tp, fn, fp, tn = c["tp"], c["fn"], c["fp"], c["tn"]
    total = tp + fn + fp + tn
    return {"precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
            "accuracy": round((tp + tn) / total, 3) if total else 0.0,
            "f1": round(2 * tp / (2 * tp + fp + fn), 3) if tp else 0.0}


def run(limit: int | None = None, half: str | None = None, only: str | None = None,
        dev: Path = DEV) -> dict:
    pages = load(dev, limit, half)
    if not pages:
        raise SystemExit(f"no pages in {dev}")
    result = {"pages": len(pages), "half": half or "all"}
    if only in (None, "ours"):
        result["syndicate"] = measure(ours, pages)
    if only in (None, "trafilatura"):
        result["trafilatura"] = measure(trafilatura_extractor(), pages)
    if "syndicate" in result and "trafilatura" in result:
        a, b = result["syndicate"]["pages_per_cpu_s"], result["trafilatura"]["pages_per_cpu_s"]
        result["cpu_speed_ratio"] = round(a / b, 2) if a and b else None
    return result


def print_table(result: dict) -> None:
    print(f"extraction-dev: {result['pages']} pages (half: {result['half']})")
    print(f"{'extractor':<12} {'precision':>9} {'recall':>7} {'accuracy':>8} {'F1':>6} "
          f"{'pages/s':>8} {'pages/CPU-s':>11} {'errors':>6}")
    for key in ("syndicate", "trafilatura"):
        r = result.get(key)
        if r:
            print(f"{key:<12} {r['precision']:>9.3f} {r['recall']:>7.3f} {r['accuracy']:>8.3f} {r['f1']:>6.3f} "
                  f"{r['pages_per_s']:>8} {r['pages_per_cpu_s']:>11} {r['errors']:>6}")
    if result.get("cpu_speed_ratio"):
        print(f"pages per CPU-second, syndicate / trafilatura: {result['cpu_speed_ratio']}x")


def print_halves(result: dict) -> None:
    """Quality on each fixed half, from the per-page scores of this run."""
    for half in ("a", "b"):
        print(f"half {half}:", end="")
        for key in ("syndicate", "trafilatura"):
            r = result.get(key)
            if not r:
                continue
            counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
            for p in r["per_page"]:
                if half_of(p["name"]) == half:
                    for k in counts:
                        counts[k] += p[k]
            f = figures(counts)
            print(f"  {key} P {f['precision']:.3f} R {f['recall']:.3f} A {f['accuracy']:.3f} F1 {f['f1']:.3f}", end="")
        print()


def print_worst(result: dict, n: int, width: int = 110) -> None:
    for key in ("syndicate", "trafilatura"):
        r = result.get(key)
        if not r:
            continue
        worst = sorted(r["per_page"], key=lambda p: (-(p["fn"] + p["fp"]), p["name"]))[:n]
        print(f"\nworst {len(worst)} pages for {key} (missed = main text not found, leaked = boilerplate found):")
        for p in worst:
            print(f"- {p['name']} {p['url']}  TP {p['tp']} FN {p['fn']} FP {p['fp']} TN {p['tn']}")
            for s in p["missed"]:
                print(f"    missed: {norm(s)[:width]}")
            for s in p["leaked"]:
                print(f"    leaked: {norm(s)[:width]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N pages (by file name)")
    ap.add_argument("--half", choices=("a", "b"), help="one fixed half of the pages (split by name hash)")
    ap.add_argument("--only", choices=("ours", "trafilatura"), help="run one extractor only")
    ap.add_argument("--worst", type=int, default=0, metavar="N",
                    help="list the N worst pages with the text missed and leaked")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--dev", type=Path, default=DEV, help="the development set folder")
    args = ap.parse_args()
    result = run(args.limit, args.half, args.only, args.dev)
    if args.json:
        slim = {k: ({kk: vv for kk, vv in v.items() if kk != "per_page"} if isinstance(v, dict) else v)
                for k, v in result.items()}
        print(json.dumps(slim, indent=2))
    else:
        print_table(result)
        if result["half"] == "all":
            print_halves(result)
    if args.worst:
        print_worst(result, args.worst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
