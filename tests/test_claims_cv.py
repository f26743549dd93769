"""benchmarks/_cv.py, the claims benchmarks' cross-validation harness, on a small gold of our
own (three sites, sentences written for this test) scored by the reference scorer
(../shared/gold/score_claims.py, copied next to the gold as the harness expects): pair scoring
equals the scorer's, folds partition the sites, and a fit never sees the sites it is scored
on. No sentence model is loaded.
"""
from __future__ import annotations

import itertools
import json
import shutil

import pytest

from fixtures.loaders import load_benchmark, require_shared

SITES = {
    "alpha": ["Honey bees visit about two thousand flowers on a good day.",
              "A colony keeps its hive close to thirty five degrees.",
              "Drones do not sting because they have no stinger.",
              "Visit our apiary shop for fresh honey this weekend."],
    "beta": ["On a good day a honey bee calls on some two thousand flowers.",
             "The hive is held near thirty five degrees by the colony.",
             "Queens can live for several years in a healthy hive."],
    "gamma": ["A worker bee may visit two thousand blossoms in one day.",
              "Male bees, the drones, cannot sting at all.",
              "Beekeepers wear veils to keep bees away from their faces."],
}
CLUSTERS = {"flowers": [("alpha", 0, "P"), ("beta", 0, "P"), ("gamma", 0, "P")],
            "temperature": [("alpha", 1, "P"), ("beta", 1, "P")],
            "drones": [("alpha", 2, "P"), ("gamma", 1, "S")]}


@pytest.fixture()
def cv():
    return load_benchmark("_cv")


@pytest.fixture()
def gold(tmp_path, cv):
    shared = require_shared("gold/score_claims.py")
    (tmp_path / "gold").mkdir()
    (tmp_path / "seeds").mkdir()
    shutil.copy(shared / "gold" / "score_claims.py", tmp_path / "gold" / "score_claims.py")
    for site, sents in SITES.items():
        (tmp_path / "seeds" / f"{site}.txt").write_text("About bees\n\n" + " ".join(sents) + "\n", "utf-8")
    clusters = [{"id": cid, "proposition": "-", "mentions": [
        {"site": s, "text": SITES[s][k], "role": role} for s, k, role in ms]} for cid, ms in CLUSTERS.items()]
    path = tmp_path / "gold" / "claims.json"
    path.write_text(json.dumps({"clusters": clusters, "promotional": [{"site": "alpha", "text": SITES["alpha"][3]}],
                                "not_claims": [{"site": "gamma", "text": SITES["gamma"][2], "kind": "other"}],
                                "faq": [], "cited": []}), "utf-8")
    return cv.load_gold(path, tmp_path / "seeds", name="bees")


def _claims(gold, groups):
    """{mention_id: claim_id}: the given groups of (site, sentence index), singletons else."""
    index = {(m.site, m.text): m.mention_id for m in gold.mentions}
    out = {m.mention_id: 1000 + m.mention_id for m in gold.mentions}
    for cid, members in enumerate(groups):
        for s, k in members:
            out[index[(s, SITES[s][k])]] = cid
    return out


def test_mentions_leave_promotion_out_and_keep_not_claims(gold):
    texts = [m.text for m in gold.mentions]
    assert SITES["alpha"][3] not in texts
    assert SITES["gamma"][2] in texts and list(gold.not_claims.values()) == ["other"]
    assert [m.mention_id for m in gold.mentions] == list(range(1, len(texts) + 1))


def test_pair_scores_equal_the_reference_scorer(gold, cv):
    groups = [[("alpha", 0), ("beta", 0), ("gamma", 1)],  # one right pair, two wrong
              [("alpha", 1), ("beta", 1)],  # right
              [("alpha", 2), ("gamma", 0)]]  # wrong
    claim_of = _claims(gold, groups)
    rows = [{"site": m.site, "text": m.text, "kind": "claim", "claim_id": claim_of[m.mention_id]}
            for m in gold.mentions]
    ref = gold.scorer.evaluate(rows, str(gold.path))
    mine = cv.score(gold, claim_of)
    assert (mine.predicted, mine.gold) == (ref["pred_pairs"], ref["gold_pairs"]) == (5, 4)
    assert round(mine.precision, 3) == ref["pair_precision"] and round(mine.recall, 3) == ref["pair_recall"]
    assert len(cv.wrong_pairs(gold, claim_of)) == 3


def test_site_folds_partition_the_sites_deterministically(cv):
    sites = [f"s{i:02d}" for i in range(11)]
    folds = cv.site_folds(reversed(sites), 4)
    assert folds == cv.site_folds(sites, 4)
    assert sorted(itertools.chain.from_iterable(folds)) == sites
    assert sorted(len(f) for f in folds) == [2, 3, 3, 3]
    assert cv.site_folds(sites[:3], 5) == [frozenset({s}) for s in sites[:3]]  # one site at a time


def test_held_out_weights_count_every_pair_once(cv):
    folds = cv.site_folds(["a", "b", "c", "d"], 2)  # {a, c}, {b, d}
    for x, y in itertools.combinations_with_replacement("abcd", 2):
        assert sum(cv.held_out_weight(f, folds)(x, y) for f in folds) == 1.0


def test_leave_sites_out_never_fits_on_the_scored_sites(gold, cv):
    seen = []

    def fit(parts):
        (part,) = parts
        seen.append(part.sites)
        return part.sites if part.sites is not None else frozenset(part.gold.sites)

    def cluster(g, model):  # merges exactly the gold's P pairs among the sites it was fitted on
        groups = [[(s, k) for s, k, role in ms if role == "P" and s in model] for ms in CLUSTERS.values()]
        return _claims(g, [grp for grp in groups if len(grp) > 1])

    result = cv.leave_sites_out(gold, fit, cluster, k=3)
    assert seen == [frozenset(gold.sites) - f for f, _ in result.folds]
    # every held-out pair touches a site the fit did not see: nothing is merged there
    assert result.pooled.predicted == 0 and result.pooled.gold == 4
    # in-sample, the same procedure finds every pair
    assert cv.in_sample(gold, fit, cluster).recall == 1.0


def test_cross_gold_fits_on_one_and_scores_the_other(gold, cv):
    fitted = []
    score = cv.cross_gold(gold, gold, lambda parts: fitted.append([p.gold.name for p in parts]),
                          lambda g, model: {m.mention_id: 1 for m in g.mentions})
    assert fitted == [["bees"]]
    assert score.predicted == 36 and score.hit == 4  # all nine mentions in one claim
