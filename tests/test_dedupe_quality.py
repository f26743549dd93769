"""Dedup on the real model: MiniLM loads offline, and the automatic-precision floor on the
partner articles (the review floors live with the review queue's tests).

Reads third-party text from ../shared (never copied here); skipped when it is absent.
Slow: loads all-MiniLM-L6-v2 (about 10 s in all).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fixtures.loaders import load_benchmark, require_shared

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "dedup_quality.py"

pytestmark = pytest.mark.slow


def _bench():
    require_shared("gold/claims.json", "seeds")
    return load_benchmark("dedup_quality")


@pytest.fixture(scope="module")
def gold_result():
    result, rows, memberships = _bench().run()
    return result, memberships


def test_minilm_encodes_unit_vectors():
    from pipeline.dedupe import MiniLMEmbedder

    v = MiniLMEmbedder().encode(["Recovery is possible with support.", "Tolerance builds."])
    assert v.shape == (2, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


def test_gold_automatic_precision_floor(gold_result):
    """Issue 8: automatic merges at pair precision >= 0.9 on the partner gold. Measured
    1.000 / 0.066 (11 pairs) when written. The thresholds (join, same-partner penalty)
    and the list lead-in veto were chosen on this same gold file (and the density raise,
    which starts past this gold's size, on the synthetic scale corpus), so it is
    optimistic for unseen partners;
    recall is left to the review queue (issue 8, item 4)."""
    result, memberships = gold_result
    assert result["pair_precision"] >= 0.9
    assert result["pred_pairs"] >= 8  # precision over something, not over nothing
    assert result["pair_recall"] >= 0.06
    assert result["cluster_recall"]["withdrawal-symptoms"] >= 0.3
    assert {m.method for m in memberships} >= {"new", "paraphrase"}
