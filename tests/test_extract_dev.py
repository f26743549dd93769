"""Issue 10's floor on the public development set (../shared/extraction-dev, 990 pages
with hand-picked main-text and boilerplate segments), scored with the metric of its README
by benchmarks/extract_dev.py, which prints the full table against trafilatura.

Skipped when the set is absent, except under CI=true, where its absence is a failure.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.loaders import load_benchmark, require_shared

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    require_shared("extraction-dev/evaldata.json")
    return load_benchmark("extract_dev")


def test_the_metric_counts_found_segments(bench):
    page = {"with": ["main  text here", "absent"], "without": ["Menu", "Footer line"]}
    s = bench.score_page("Menu\nthe main text\nhere and more", page)
    assert (s["tp"], s["fn"], s["fp"], s["tn"]) == (1, 1, 1, 1)
    assert bench.figures({"tp": 3, "fn": 1, "fp": 1, "tn": 5}) == {
        "precision": 0.75, "recall": 0.75, "accuracy": 0.8, "f1": 0.75}


def test_the_halves_split_the_set(bench):
    a, b = bench.load(half="a"), bench.load(half="b")
    assert len(a) + len(b) == 990 and abs(len(a) - len(b)) < 100
    assert not {p["name"] for p in a} & {p["name"] for p in b}


@pytest.mark.slow
def test_floor_on_the_development_set(bench):
    result = bench.run(only="ours")
    ours = result["syndicate"]
    assert result["pages"] == 990
    assert ours["errors"] == 0
    # Floors measured on this development set, a little under what benchmarks/extract_dev.py
    # prints (F1 0.931, precision 0.923, recall 0.940 when written: 2774 TP, 177 FN, 233 FP,
    # with trafilatura's second opinion on short extractions; trafilatura alone 0.921 / 0.897
    # / 0.947), so a change that loses ground on unseen layouts fails here. Issue 10's target
    # (F1 >= 0.93, precision >= 0.92) is met, only just.
    assert ours["f1"] >= 0.926, ours
    assert ours["precision"] >= 0.918, ours
    assert ours["recall"] >= 0.935, ours
