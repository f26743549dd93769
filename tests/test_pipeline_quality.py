"""The whole product scored against the gold: ../shared/partners served on loopback, our own
discovery, extraction, labels and clustering, `export mentions` scored by the gold's
score_claims.py (benchmarks/dedup_quality.py --pipeline prints the same figures)."""
from pathlib import Path

import pytest

from fixtures.loaders import load_benchmark

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "dedup_quality.py"


def test_end_to_end_quality_floor(shared_dir):
    bench = load_benchmark("dedup_quality")
    r = bench.run_pipeline()
    assert r["run_ok"]
    assert r["coverage"] >= 0.98
    assert r["promo_in_claims"] == 0  # no promotional sentence inside any claim
    assert r["promo_recall"] >= 0.9
    # Automatic merges only (issue 8: precision first, recall from the review queue).
    # Measured 1.000 / 0.073 with issue 8's hand thresholds, 1.000 / 0.036 with issue 16's
    # merge model, which was fitted on this gold's seed sentences and on claims-dev and keeps
    # precision on sites it was not fitted on (docs/dedupe.md).
    assert r["pair_precision"] >= 0.9
    assert r["pair_recall"] >= 0.03
