"""The whole product scored against the gold: ../shared/partners served on loopback, our own
discovery, extraction, labels and clustering, `export mentions` scored by the gold's
score_claims.py (benchmarks/dedup_quality.py --pipeline prints the same figures)."""
import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "dedup_quality.py"


def test_end_to_end_quality_floor(shared_dir):
    spec = importlib.util.spec_from_file_location("dedup_quality", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    r = bench.run_pipeline()
    assert r["run_ok"]
    assert r["coverage"] >= 0.98
    assert r["promo_in_claims"] == 0  # no promotional sentence inside any claim
    assert r["promo_recall"] >= 0.9
    # Measured 0.70 / 0.08 (issue 5 asks 0.85 / 0.6: not reached, see the issue note); this
    # holds the floor so that a regression shows.
    assert r["pair_precision"] >= 0.65
    assert r["pair_recall"] >= 0.07
