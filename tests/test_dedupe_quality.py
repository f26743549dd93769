"""Dedup on the real model: MiniLM loads offline; the automatic-merge floors on the partner
gold and on claims-dev, held out where the merge model was fitted (the review floors live
with the review queue's tests); the shipped merge model is the one its script fits; a shared
"Label:" is not a reason to merge.

Reads third-party text from ../shared (never copied here): skipped when it is absent, failed
under CI=true. Slow: loads all-MiniLM-L6-v2 and refits the merge model once per fold (a few
minutes in all).
"""
from __future__ import annotations

import numpy as np
import pytest

from fixtures.loaders import load_benchmark, require_shared
from pipeline.types import MentionInput

pytestmark = pytest.mark.slow


def _need_golds():
    require_shared("gold/claims.json", "seeds", "claims-dev/claims.json", "claims-dev/pages")


@pytest.fixture(scope="module")
def fitting():
    _need_golds()
    return load_benchmark("merge_model")


@pytest.fixture(scope="module")
def golds(fitting):
    import _cv

    return _cv.default_golds()


@pytest.fixture(scope="module")
def gold_result():
    require_shared("gold/claims.json", "seeds")
    result, rows, memberships = load_benchmark("dedup_quality").run()
    return result, memberships


def test_minilm_encodes_unit_vectors():
    from pipeline.dedupe import MiniLMEmbedder

    v = MiniLMEmbedder().encode(["Recovery is possible with support.", "Tolerance builds."])
    assert v.shape == (2, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


def test_partner_gold_automatic_precision_floor(gold_result):
    """Issue 8's floor, pair precision >= 0.9 on the partner gold, with the shipped engine.
    In-sample: the merge model was fitted on this gold (and claims-dev); measured 1.000 /
    0.036 (6 pairs) when written. Recall is lower than the hand thresholds' 0.066 (issue 8's
    floor was 0.06): the threshold is the one that keeps precision on claims-dev and in
    either order of the sites too (issue 16), and recall is the review queue's job."""
    result, memberships = gold_result
    assert result["pair_precision"] >= 0.9
    assert result["pred_pairs"] >= 5  # precision over something, not over nothing
    assert result["pair_recall"] >= 0.03
    assert {m.method for m in memberships} >= {"new", "paraphrase"}


def test_claims_dev_precision_held_out(fitting, golds):
    """Issue 16: automatic pair precision >= 0.9 on claims-dev on sites the merge model was
    not fitted on: 5 folds of sites, each scored with a model refitted on the other 15 sites
    and the partner gold (thresholds included). Measured 0.938 / 0.025 (8 pairs, one of them
    half-counted wrong) when written: so few pairs that one wrong merge moves precision by
    0.1 (with the sites in the reverse order it was 0.80: see docs/dedupe.md)."""
    import _cv

    partner, dev = golds
    cv = _cv.leave_sites_out(dev, fitting.fit, fitting.cluster, k=5, extra=(partner,))
    assert cv.precision >= 0.9, [(sorted(f), s.as_dict()) for f, s in cv.folds]
    assert cv.pooled.predicted >= 5
    assert cv.recall >= 0.015


def test_partner_precision_held_out(fitting, golds):
    """The same on the partner gold, one site left out at a time (claims-dev in the training
    data). Measured 1.000 / 0.036 when written."""
    import _cv

    partner, dev = golds
    cv = _cv.leave_sites_out(partner, fitting.fit, fitting.cluster, k=4, extra=(dev,))
    assert cv.precision >= 0.9, [(sorted(f), s.as_dict()) for f, s in cv.folds]
    assert cv.pooled.predicted >= 4


def test_the_shipped_merge_model_is_the_fitted_one(fitting, golds):
    """settings.MERGE_MODEL is what benchmarks/merge_model.py fits on both golds (no hand
    edits): weights within rounding of another encoder build, the threshold within one step
    of the grid."""
    import _cv
    from pipeline.dedupe.settings import MERGE_MODEL

    fitted = fitting.fit([_cv.Part(g) for g in golds])
    assert fitted.names == MERGE_MODEL.names
    assert np.allclose(fitted.weights, MERGE_MODEL.weights, atol=0.05)
    assert abs(fitted.bias - MERGE_MODEL.bias) <= 0.05
    assert abs(fitted.threshold - MERGE_MODEL.threshold) <= 0.021
    assert fitted.floor == pytest.approx(fitted.threshold * fitting.FLOOR_SHARE, abs=1e-3)


def test_items_under_one_label_are_not_merged_for_the_label():
    """The demo's W46 digest merged "Parking: Free parking is available in the upper lot
    after 6 p.m." with "Parking: Use the east lot." (issue 16). Sentences of our own around
    them, as on event pages; the true paraphrase under one label still merges."""
    from pipeline.dedupe import cluster_claims

    texts = [
        ("north", "Parking: Free parking is available in the upper lot after 6 p.m."),
        ("north", "Time: The group meets every Tuesday from 7 to 8:30 p.m."),
        ("north", "Cost: The evening group is free for families of our clients."),
        ("north", "Bring a friend or relative who would like to understand recovery better."),
        ("east", "Parking: Use the east lot."),
        ("east", "Entrance: The main doors are closed while the lobby is renovated."),
        ("east", "Cost: The family evening is free for relatives of people in our programs."),
        ("east", "Two accessible spaces have been added next to the east entrance."),
        ("south", "Sleep often gets worse in the first weeks without alcohol."),
        ("south", "Most people sleep better within a month of their last drink."),
        ("south", "Dreams can become vivid while the brain catches up on REM sleep."),
        ("west", "Alcohol suppresses REM sleep, the dreaming stage of the night."),
        ("west", "Many people find their sleep improves within a month of stopping drinking."),
        ("west", "Caffeine late in the day makes early recovery insomnia worse."),
    ]
    ms = [MentionInput(i + 1, s, t) for i, (s, t) in enumerate(texts)]
    claim = {m.mention_id: m.claim_id for m in cluster_claims([], ms, next_claim_id=1)}
    assert claim[1] != claim[5]  # "Parking:" twice, two different statements
    assert claim[10] == claim[13]  # the same statement in other words
