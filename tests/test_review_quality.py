"""The review loop's floors on the partner gold, with the simulated editor of
benchmarks/review_sim.py, and that the simulator takes any gold file of the same format.

Reads the gold, its seeds and its scorer from ../shared (never copied into the repository):
skipped when ../shared is absent, failed instead under CI=true.
The floors load the sentence model and answer 300 questions: slow (about a minute).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixtures.embedders import HashEmbedder
from fixtures.loaders import SHARED, load_benchmark, require_shared

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "review_sim.py"


def _need_shared():
    require_shared("gold/claims.json", "seeds")


def _sim():
    return load_benchmark("review_sim")


@pytest.fixture(scope="module")
def curve():
    _need_shared()
    return _sim().simulate(answers=300, every=10)


def _best(curve, budget, precision):
    return max((p["pair_recall"] for p in curve if p["answers"] <= budget and p["pair_precision"] >= precision),
               default=0.0)


@pytest.mark.slow
def test_recall_floor_within_150_answers(curve):
    assert curve[0]["answers"] == 0 and all(b["answers"] - a["answers"] == 10 for a, b in zip(curve, curve[1:]))
    assert _best(curve, 150, 0.95) >= 0.6, curve


@pytest.mark.slow
def test_recall_floor_within_300_answers(curve):
    assert _best(curve, 300, 0.95) >= 0.8, curve


def test_any_gold_file_of_the_same_format(tmp_path):
    """A gold of our own (two sites, three propositions, one promotional sentence) with its
    seeds: the simulated editor merges exactly what the gold allows."""
    _need_shared()
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
              "Modern lighthouses run automatically on solar power."]
    (seeds / "alpha.txt").write_text("Lighthouse history\n\n" + " ".join(first) + "\n", "utf-8")
    (seeds / "beta.txt").write_text("How lighthouses worked\n\n" + " ".join(second) + "\n", "utf-8")
    clusters = [{"id": f"c{k}", "proposition": "-", "mentions": [
        {"site": "alpha", "text": first[k], "role": "P"}, {"site": "beta", "text": second[k], "role": "P"}]}
        for k in range(3)]
    gold = gold_dir / "claims.json"
    gold.write_text(json.dumps({"about": "test", "clusters": clusters,
                                "promotional": [{"site": "alpha", "text": first[3]}], "faq": [], "cited": []}))
    curve = _sim().simulate(gold, seeds, answers=30, every=5, embedder=HashEmbedder(), engine_model_used=False)
    last = curve[-1]
    assert last["gold_pairs"] == 3
    assert last["pair_precision"] == 1.0 and last["pair_recall"] == 1.0
