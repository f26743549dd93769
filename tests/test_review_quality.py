"""The review loop's floors on both golds, with the simulated editor of
benchmarks/review_sim.py, and that the simulator takes any gold file of the same format.

Reads the golds, their seeds and the scorer from ../shared (never copied into the
repository): skipped when ../shared is absent, failed instead under CI=true. The floors
load the sentence model and judge 300 items on each gold: slow (a few minutes).

What is fitted on what (docs/dedupe.md): the queue's prior is fitted on the partner gold,
so claims-dev is scored with it out of sample, and the partner gold is scored with a prior
fitted here on claims-dev. The queue's knobs were chosen on the partner gold; how P(same)
of two claims combines its sentence pairs was chosen on claims-dev (and checked on the
partner gold), so claims-dev's figures are in-sample for that one choice. The floors are
below the issue's targets where the measured curves are (docs/dedupe.md says so).
"""
from __future__ import annotations

import json
import shutil

import pytest

from fixtures.embedders import HashEmbedder
from fixtures.loaders import SHARED, load_benchmark, require_shared


def _sim():
    return load_benchmark("review_sim")


@pytest.fixture(scope="module")
def partner():
    require_shared("gold/claims.json", "seeds", "claims-dev/claims.json", "claims-dev/pages")
    sim = _sim()
    return sim.simulate(sim.GOLD, sim.SEEDS, items=300, every=10, prior=sim.fitted_prior(sim.DEV_GOLD, sim.DEV_SEEDS))


@pytest.fixture(scope="module")
def dev():
    require_shared("claims-dev/claims.json", "claims-dev/pages")
    sim = _sim()
    return sim.simulate(sim.DEV_GOLD, sim.DEV_SEEDS, items=300, every=10)


def _best(run, budget, precision=0.95):
    return _sim()._best(run.curve, budget, precision)


def _check_curve(run):
    curve = run.curve
    assert curve[0]["items"] == 0 and curve[-1]["items"] >= 300
    assert all(b["items"] > a["items"] and b["answers"] >= a["answers"] for a, b in zip(curve, curve[1:]))
    assert all(p["items"] >= p["answers"] for p in curve)  # a screen is one item or more
    assert {"items", "answers", "pair_precision", "pair_recall"} <= set(curve[-1])


@pytest.mark.slow
def test_partner_gold_floors(partner):
    _check_curve(partner)
    # Measured on the partner gold (prior fitted on claims-dev) on 2026-12-07 with the default
    # encoder (float32 ONNX), the label classifier, P(same) of two claims taken over their
    # sentence pairs (pipeline/review/queue.py) and pair questions (the review's default):
    # 0.642 within 150 items and 0.818 within 300, precision >= 0.962 from 50 items on
    # (benchmarks/review_sim.py, docs/dedupe.md). Floors a little under them.
    assert _best(partner, 150) >= 0.58, partner.curve
    assert _best(partner, 300) >= 0.76, partner.curve
    assert all(p["pair_precision"] >= 0.95 for p in partner.curve if p["items"] >= 50), partner.curve


@pytest.mark.slow
def test_claims_dev_floors(dev):
    _check_curve(dev)
    # Measured on claims-dev (shipped prior, fitted on the partner gold) on 2026-12-07 with
    # the default encoder (float32 ONNX), the label classifier, P(same) of two claims taken
    # over their sentence pairs and pair questions: 0.352 within 150 items and 0.536 within
    # 300, precision 1.000 throughout (benchmarks/review_sim.py, docs/dedupe.md). The issue's
    # targets (0.5 / 0.75) are not met: these floors, a little under the measured curve,
    # guard against falling back.
    assert _best(dev, 150) >= 0.32, dev.curve
    assert _best(dev, 300) >= 0.50, dev.curve
    assert all(p["pair_precision"] >= 0.95 for p in dev.curve if p["items"] >= 50), dev.curve
    assert dev.curve[-1]["hidden"] > 0  # the editor said "not a claim" to some sentences


@pytest.mark.slow
def test_calibration(partner, dev):
    """The P(same) shown matches how often the editor says yes (ECE <= 0.1 on both)."""
    for run in (partner, dev):
        assert len(run.judged) >= 200
        assert run.ece() <= 0.1, run.reliability()


def test_reliability_and_ece_are_computed_from_the_judged_candidates():
    sim = _sim()
    judged = [(0.05, False)] * 9 + [(0.05, True)] + [(0.85, True)] * 4 + [(0.85, False)] * 6
    table = {r["bin"]: r for r in sim.reliability(judged)}
    assert table["0.0-0.1"]["n"] == 10 and table["0.0-0.1"]["yes_rate"] == 0.1
    assert table["0.8-0.9"]["yes_rate"] == 0.4
    assert sim.expected_calibration_error(judged) == pytest.approx(0.5 * 0.05 + 0.5 * 0.45)


def test_any_gold_file_of_the_same_format(tmp_path):
    """A gold of our own (two sites, three propositions, one promotional sentence, one
    byline in not_claims) with its seeds: the simulated editor merges exactly what the gold
    allows, and nothing that is not a claim ends up in a claim."""
    require_shared("gold/score_claims.py")
    gold_dir = tmp_path / "gold"
    seeds = tmp_path / "seeds"
    gold_dir.mkdir()
    seeds.mkdir()
    shutil.copy(SHARED / "gold" / "score_claims.py", gold_dir / "score_claims.py")  # the reference scorer
    first = ["Lighthouses were once lit with whale oil lamps.",
             "Keepers climbed the tower stairs several times each night.",
             "Fog horns warned ships when the light could not be seen.",
             "Book a guided tour of our lighthouse museum today."]
    second = ["Early lighthouse lamps burned whale oil.",
              "A keeper had to climb the stairs of the tower many times a night.",
              "When fog hid the light, a horn warned passing ships.",
              "Modern lighthouses run automatically on solar power.",
              "This page was written by the keeper of the north light."]
    (seeds / "alpha.txt").write_text("Lighthouse history\n\n" + " ".join(first) + "\n", "utf-8")
    (seeds / "beta.txt").write_text("How lighthouses worked\n\n" + " ".join(second) + "\n", "utf-8")
    clusters = [{"id": f"c{k}", "proposition": "-", "mentions": [
        {"site": "alpha", "text": first[k], "role": "P"}, {"site": "beta", "text": second[k], "role": "P"}]}
        for k in range(3)]
    gold = gold_dir / "claims.json"
    gold.write_text(json.dumps({"about": "test", "clusters": clusters,
                                "promotional": [{"site": "alpha", "text": first[3]}],
                                "not_claims": [{"site": "beta", "text": second[4], "kind": "byline"}],
                                "faq": [], "cited": []}))
    run = _sim().simulate(gold, seeds, items=30, every=5, embedder=HashEmbedder(), engine_model_used=False)
    last = run.curve[-1]
    assert last["gold_pairs"] == 3
    assert last["pair_precision"] == 1.0 and last["pair_recall"] == 1.0
    assert all(0.0 < p < 1.0 for p, _ in run.judged)
