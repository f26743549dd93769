#!/usr/bin/env python3
"""What partner health adds to a run's CPU time: `health.page_signals` (a second parse of
each extracted page's markup) and `health.judge_page`, against `extract_article` on the
same pages, in the same process.

Pages: N generated chrome-heavy pages of 50-150 KB (benchmarks/_pages.py, seeded). Prints
pages/s of each step and health's cost as a share of extraction's. Wall time on a shared
machine: the figures are noisy, compare them within one run.

    python benchmarks/health_cost.py [--pages 200] [--seed 7] [--rounds 3]
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

from pipeline import health  # noqa: E402
from pipeline.extract import extract_article  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = make_pages(args.pages, seed=args.seed)
    articles = [(html, extract_article(html, url)) for url, html, _ in pages]
    extract_s, signals_s, judge_s = [], [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        for url, html, _ in pages:
            extract_article(html, url)
        extract_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        signals = [health.page_signals(html, article) for html, article in articles]
        signals_s.append(time.perf_counter() - t)
        previous = health.Version(40, 800, frozenset(signals[0].texts))
        t = time.perf_counter()
        for sig in signals:
            health.judge_page(sig, previous)
        judge_s.append(time.perf_counter() - t)
    n = len(pages)
    e, s, j = (statistics.median(x) for x in (extract_s, signals_s, judge_s))
    print(f"pages: {n} (median of {args.rounds} rounds, wall time)")
    print(f"extract_article:     {n / e:8.1f} pages/s")
    print(f"health.page_signals: {n / s:8.1f} pages/s")
    print(f"health.judge_page:   {n / j:8.1f} pages/s")
    print(f"health's cost: {100 * (s + j) / e:.1f}% of extraction's")


if __name__ == "__main__":
    main()
