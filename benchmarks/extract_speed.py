#!/usr/bin/env python3
"""Extraction speed: ours (structure, FAQ, footnotes, labels) vs trafilatura's plain text.

Generates N realistic chrome-heavy pages of 50-150 KB (benchmarks/_pages.py, seeded), then
times `extract_article` over all of them and `trafilatura.extract` (plain text, default
options) over the same bytes in the same run, and prints pages/s for each and the ratio.

    python benchmarks/extract_speed.py [--pages 200] [--seed 7] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _pages import make_pages  # noqa: E402

from pipeline.extract import extract_article  # noqa: E402


def time_all(fn, pages) -> float:
    start = time.perf_counter()
    for url, html, _ in pages:
        fn(html, url)
    return time.perf_counter() - start


def partner_pages(n: int) -> list:
    """The partner sites' article pages from ../shared, cycled to n pages (not stored here)."""
    shared = ROOT.parent / "shared" / "partners"
    files = sorted(shared.glob("*/blog/*/index.html"))
    if not files:
        return []
    out = []
    for i in range(n):
        f = files[i % len(files)]
        site = f.relative_to(shared).parts[0]
        html = f.read_bytes().replace(b"{{base}}", b"http://127.0.0.9:8765")
        out.append((f"http://127.0.0.9:8765/{f.parent.relative_to(shared).as_posix()}/", html, {"site": site}))
    return out


def run(n: int = 200, seed: int = 7, rounds: int = 3, partners: bool = False) -> dict:
    pages = partner_pages(n) if partners else make_pages(n, seed=seed)
    if not pages:
        raise SystemExit("no partner pages in ../shared")
    sizes = [len(h) for _, h, _ in pages]
    ours = lambda html, url: extract_article(html, url)  # noqa: E731
    result = {"pages": n, "kb_min": min(sizes) // 1024, "kb_max": max(sizes) // 1024,
              "kb_mean": round(statistics.mean(sizes) / 1024, 1)}
    # warm up both (imports, regex compilation)
    ours(pages[0][1], pages[0][0])
    try:
        import trafilatura
        theirs = lambda html, url: trafilatura.extract(html, url=url)  # noqa: E731
        theirs(pages[0][1], pages[0][0])
    except ImportError as e:  # trafilatura needs lxml_html_clean with lxml >= 5.2
        theirs = None
        result["trafilatura_error"] = str(e)
    ours_t, theirs_t = [], []
    for _ in range(rounds):  # interleaved, best of N: both see the same machine load
        ours_t.append(time_all(ours, pages))
        if theirs:
            theirs_t.append(time_all(theirs, pages))
    result["ours_pages_per_s"] = round(n / min(ours_t), 1)
    if theirs_t:
        result["trafilatura_pages_per_s"] = round(n / min(theirs_t), 1)
        result["ratio_ours_over_trafilatura"] = round(min(theirs_t) / min(ours_t), 2)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--partners", action="store_true",
                    help="time the partner article pages from ../shared (cycled) instead of generated ones")
    a = ap.parse_args()
    r = run(a.pages, a.seed, a.rounds, a.partners)
    print(f"pages               {r['pages']} ({r['kb_min']}-{r['kb_max']} KB, mean {r['kb_mean']} KB)")
    print(f"extract_article     {r['ours_pages_per_s']} pages/s (structure, FAQ, footnotes, labels)")
    if "trafilatura_pages_per_s" in r:
        print(f"trafilatura.extract {r['trafilatura_pages_per_s']} pages/s (plain text)")
        print(f"ratio               {r['ratio_ours_over_trafilatura']}x trafilatura's speed")
    else:
        print(f"trafilatura         unavailable: {r['trafilatura_error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
