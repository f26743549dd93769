"""Pair evidence (negation, antonyms, figures, qualifiers), conflicting figures, the feature
vector and learned pair model the review queue uses, and "these differ" constraints.
Sentences are our own; embeddings are a hashing stand-in (no model is loaded here)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.dedupe import (FEATURE_NAMES, Constraints, PairContext, PairModel, cluster_claims,
                             conflicting_figures, figures, mismatches, rebuild, signature)
from pipeline.dedupe.features import PAIR_FEATURES
from pipeline.types import MentionInput

from test_dedupe import HashEmbedder


def flags(a: str, b: str) -> set[str]:
    return {k for k, v in mismatches(signature(a), signature(b)).items() if v}


@pytest.mark.parametrize("a,b,flag", [
    ("Regular walking raises blood pressure.", "Regular walking lowers blood pressure.", "antonym_mismatch"),
    ("Regular walking improves memory.", "Regular walking disrupts memory.", "antonym_mismatch"),
    ("The lake is deep.", "The lake is not deep.", "negation_mismatch"),
    ("Pine trees grow here.", "Pine trees don't grow here.", "negation_mismatch"),
    ("The fever lasts three days.", "The fever lasts two weeks.", "number_mismatch"),
    ("The bridge opened in 1932.", "The bridge opened in 1937.", "number_mismatch"),
    ("Reading helps sleep in older adults.", "Reading helps sleep in teenagers.", "qualifier_mismatch"),
    ("Reading helps sleep.", "Reading helps sleep within weeks.", "qualifier_mismatch"),
])
def test_mismatch_flags_see_opposites_negation_figures_and_qualifiers(a, b, flag):
    assert flag in flags(a, b)
    assert not flags(a, a)


def test_no_flag_between_plain_paraphrases():
    assert flags("Reading before bed improves sleep.", "Reading before bed helps people sleep better.") == set()
    assert flags("The fever lasts three days.", "The fever lasts 72 hours.") == set()  # same span


def test_figures_are_read_with_their_units():
    got = {(f.unit, f.value) for f in figures("About 14,000 people died in 2019; 40% relapse within 3 days.")}
    assert got == {("people", 14000.0), ("year", 2019.0), ("percent", 40.0), ("duration", 72.0)}
    assert figures("It is one of the most common plants.") == ()


def test_conflicting_figures_flag_other_durations_not_equal_ones():
    ms = [MentionInput(1, "a", "Withdrawal peaks within 72 hours."),
          MentionInput(2, "b", "Withdrawal peaks after three days."),
          MentionInput(3, "c", "Withdrawal peaks after a week.")]
    (c,) = conflicting_figures(ms)
    assert c.kind == "duration" and [s[1] for s in c.statements] == ["a", "b", "c"]
    assert "c says a week" in c.describe()
    assert conflicting_figures(ms[:2]) == ()
    assert conflicting_figures([MentionInput(1, "a", "Tides rise twice a day."),
                                MentionInput(2, "b", "Tides rise and fall.")]) == ()


def test_opposite_near_copies_are_not_merged():
    ms = [MentionInput(1, "a", "Evening walks lower blood pressure in older adults."),
          MentionInput(2, "b", "Evening walks raise blood pressure in older adults."),
          MentionInput(3, "c", "Evening walks lower blood pressure in teenagers."),
          MentionInput(4, "d", "Evening walks lower blood pressure in older adults!")]
    out = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder())
    assert len({out[0].claim_id, out[1].claim_id, out[2].claim_id}) == 3
    assert out[3].claim_id == out[0].claim_id


def test_pair_context_gives_named_features_of_mentions_and_claims():
    ms = [MentionInput(i + 1, s, t) for i, (s, t) in enumerate([
        ("a", "Evening walks lower blood pressure."), ("b", "Evening walks lower blood pressure!"),
        ("c", "Evening walks do not lower blood pressure."), ("a", "Violins need dry air.")])]
    ctx = PairContext.build(ms, embedder=HashEmbedder())
    row = ctx.mention_features(1, 2)
    assert row.shape == (len(PAIR_FEATURES),)
    f = dict(zip(PAIR_FEATURES, row))
    assert f["near_copy"] > 0.9 and f["negation_mismatch"] == 0 and f["same_site"] == 0
    assert dict(zip(PAIR_FEATURES, ctx.mention_features(1, 3)))["negation_mismatch"] == 1
    assert dict(zip(PAIR_FEATURES, ctx.mention_features(1, 4)))["same_site"] == 1
    claim = dict(zip(FEATURE_NAMES, ctx.claim_features([1, 2], [3])))
    assert claim["negation_mismatch_mean"] == 1 and claim["cos_mean"] <= claim["cos_max"] + 1e-9
    assert claim["raw_mean"] > 0.5 and 0.5 < claim["lex_mean"] <= 1.0 + 1e-9


def test_pair_model_replaces_the_hand_threshold_and_keeps_incremental_equal_rebuild():
    from test_dedupe import corpus

    ms = corpus(80, seed=4)
    emb = HashEmbedder()
    hand = cluster_claims([], ms, next_claim_id=1, embedder=emb)
    never = PairModel(("cos_mean",), (0.0,), -20.0)  # p ~ 0: no paraphrase merges at all
    always = PairModel.coerce({"names": ["cos_mean", "lex_mean"], "weights": [0, 0], "bias": 20.0})
    none = cluster_claims([], ms, next_claim_id=1, embedder=emb, pair_model=never)
    lots = cluster_claims([], ms, next_claim_id=1, embedder=emb, pair_model=always)
    assert not any(m.method == "paraphrase" for m in none)
    count = lambda out: len({m.claim_id for m in out})  # noqa: E731
    assert count(lots) < count(hand) <= count(none)
    # incremental == rebuild with the model
    half = 40
    first = cluster_claims([], ms[:half], next_claim_id=1, embedder=emb, pair_model=always)
    groups: dict[int, list] = {}
    for m, d in zip(ms[:half], first):
        groups.setdefault(d.claim_id, []).append(m)
    from pipeline.dedupe import ClaimState

    states = [ClaimState(c, tuple(v)) for c, v in groups.items()]
    second = cluster_claims(states, ms[half:], next_claim_id=max(groups) + 1, embedder=emb, pair_model=always)
    inc = {m.mention_id: m.claim_id for m in first + second}
    assert [inc[m.mention_id] for m in ms] == [d.claim_id for d in lots]
    with pytest.raises(ValueError, match="csls"):
        PairModel(("csls_mean",), (1.0,), 0.0)
    assert PairModel.from_json(always.to_json()) == always


def test_cannot_link_groups_keep_two_claims_apart_in_every_run():
    ms = [MentionInput(1, "a", "The comet crosses distant planets."),
          MentionInput(2, "b", "The comet crosses distant planets."),
          MentionInput(3, "c", "The comet crosses distant planets!")]
    together = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder())
    assert len({m.claim_id for m in together}) == 1
    apart = Constraints.of(cannot_link_groups=[([1], [2, 3])])
    out = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder(), constraints=apart)
    assert out[0].claim_id != out[1].claim_id == out[2].claim_id
    from pipeline.dedupe import ClaimState

    again = rebuild([ClaimState(c, tuple(m for m, d in zip(ms, out) if d.claim_id == c))
                     for c in {d.claim_id for d in out}], next_claim_id=9, embedder=HashEmbedder(),
                    constraints=apart)
    assert {m.mention_id: m.claim_id for m in again} == {m.mention_id: m.claim_id for m in out}
    assert np.isfinite(PairModel(("cos_mean",), (1.0,), 0.0).probability(np.array([[0.5]]))).all()


def test_a_crowded_neighbourhood_raises_the_bar_for_paraphrases():
    import dataclasses

    from pipeline.dedupe import CLAIM_SETTINGS
    from test_dedupe import corpus

    ms = corpus(150, seed=6)
    emb = HashEmbedder()
    para = lambda out: sum(m.method == "paraphrase" for m in out)  # noqa: E731
    for base in (CLAIM_SETTINGS, dataclasses.replace(CLAIM_SETTINGS, merge_model=None)):  # model, hand
        calm = dataclasses.replace(base, density_weight=0.0, density_logit_weight=0.0)
        crowded = dataclasses.replace(base, density_weight=10.0, density_logit_weight=100.0,
                                      density_center=0.0, density_from=0)
        assert para(cluster_claims([], ms, next_claim_id=1, embedder=emb, settings=calm)) > 0
        assert para(cluster_claims([], ms, next_claim_id=1, embedder=emb, settings=crowded)) == 0


@pytest.mark.parametrize("a,b,flag,veto", [
    ("Reading helps sleep in older adults.", "Reading helps sleep in teenagers.", "scope_mismatch", True),
    ("Reading helps sleep.", "Reading helps sleep at work.", "scope_mismatch", True),
    ("Cravings fade within hours.", "Cravings fade within weeks.", "time_conflict", True),
    # a time named by one sentence only is looser: flagged, no veto
    ("Reading helps sleep.", "Reading helps sleep within weeks.", "qualifier_mismatch", False),
    # another figure for the same thing is one claim with a conflict, not two claims
    ("The fever lasts three days.", "The fever lasts two weeks.", "number_mismatch", False),
])
def test_claim_vetoes_are_scope_time_and_meaning_not_figures(a, b, flag, veto):
    from pipeline.dedupe import CLAIM_SETTINGS

    found = flags(a, b)
    assert flag in found
    assert bool(found & set(CLAIM_SETTINGS.vetoes)) is veto


def test_no_time_conflict_when_both_name_the_same_span():
    assert "time_conflict" not in flags("Symptoms begin within hours.", "Symptoms begin hours after the last drink.")
    assert figures("Symptoms begin within 6\u201312 hours.")[0].said == "6 to 12 hours"  # a dash range


def test_a_shared_label_is_no_word_evidence():
    from pipeline.dedupe.normalize import evidence_terms, split_label

    a, b = "Parking: Free parking is available in the upper lot after 6 p.m.", "Parking: Use the east lot."
    assert split_label(b) == ("Parking", "Use the east lot.")
    assert split_label("The reason: it rained.") == ("", "The reason: it rained.")  # too short after
    assert split_label("What you need to bring to the first meeting: a notebook and a pen.")[0] == ""
    assert "parkin" not in evidence_terms(b) and "east" in evidence_terms(b)
    others = [("c", "Buses stop at the main gate every hour."), ("d", "The hall opens at seven.")]
    labelled = PairContext.build([MentionInput(i + 1, s, t) for i, (s, t) in enumerate([("a", a), ("b", b), *others])],
                                 embedder=HashEmbedder())
    bodies = PairContext.build([MentionInput(i + 1, s, t) for i, (s, t) in enumerate(
        [("a", split_label(a)[1]), ("b", split_label(b)[1]), *others])], embedder=HashEmbedder())
    lex = PAIR_FEATURES.index("lex")
    assert labelled.mention_features(1, 2)[lex] == pytest.approx(bodies.mention_features(1, 2)[lex])


def test_merge_model_names_pair_features_and_round_trips():
    from pipeline.dedupe.features import MergeModel

    m = MergeModel(("cos", "lex", "same_site"), (2.0, 6.0, -0.5), -3.5, 0.7, 0.35)
    assert MergeModel.from_dict(m.to_dict()) == m and not m.needs_texts
    assert MergeModel(("fuzz",), (1.0,), 0.0, 0.5).needs_texts
    row = np.zeros((1, len(PAIR_FEATURES)))
    row[0, PAIR_FEATURES.index("cos")], row[0, PAIR_FEATURES.index("lex")] = 0.5, 0.5
    assert m.probability(row)[0] == pytest.approx(1 / (1 + np.exp(-(1.0 + 3.0 - 3.5))))
    with pytest.raises(ValueError, match="csls"):
        MergeModel(("csls",), (1.0,), 0.0, 0.5)
    with pytest.raises(ValueError, match="weights"):
        MergeModel(("cos", "lex"), (1.0,), 0.0, 0.5)


def test_figures_veto_a_model_fitted_from_answers_not_the_merge_model():
    """Another figure is one claim with a conflict for the calibrated merge model, but a model
    fitted from a few editor answers keeps the strict vetoes (settings.model_vetoes)."""
    import dataclasses

    from pipeline.dedupe import CLAIM_SETTINGS
    from pipeline.dedupe.features import MergeModel

    ms = [MentionInput(1, "a", "The fever usually lasts three days in most cases."),
          MentionInput(2, "b", "In most cases the fever usually lasts two weeks.")]
    eager = dataclasses.replace(CLAIM_SETTINGS, merge_model=MergeModel(("cos",), (0.0,), 20.0, 0.5))
    merged = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder(), settings=eager)
    assert merged[0].claim_id == merged[1].claim_id
    always = PairModel(("cos_mean",), (0.0,), 20.0)
    apart = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder(), settings=eager, pair_model=always)
    assert apart[0].claim_id != apart[1].claim_id
