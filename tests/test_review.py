"""Unit tests of pipeline.review (the review queue's pure core) on hand-made vectors: no
model is loaded, no database.

Covers: evidence shape, the order of questions (likely and large first), that a "no"
or a skip is never asked again, transitivity (a "no" holds for the claims merged with
either side; nothing inside one claim is asked), pair questions by default and group
questions on request, with their keys, the model fit (deterministic, moves with the
answers, shrinks to the prior), calibration (the shown probability is moderated by the
model's uncertainty and capped), the model's stored form.
"""
from __future__ import annotations

import numpy as np

from pipeline.dedupe import ClaimState
from pipeline.review import (FEATURES, Answer, PairModel, ReviewQueue, cannot_links, engine_model,
                             fit, parse_key, prior_model, question_key, refit)
from pipeline.review.model import P_CEIL, P_FLOOR
from pipeline.types import MentionInput

DIM = 16


def _vec(*hot: int, noise: int = 0) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for h in hot:
        v[h] = 1.0
    rng = np.random.default_rng(noise)
    v += 0.05 * rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _corpus():
    """Three 'propositions' stated by several partners, plus unrelated sentences."""
    rows = [
        (1, "a", "Tolerance builds so the same dose feels weaker.", (0,)),
        (2, "b", "Over time tolerance builds and the dose feels weaker.", (0,)),
        (3, "c", "Tolerance builds: a dose that worked feels weaker.", (0,)),
        (4, "a", "Peer groups give support during recovery.", (1,)),
        (5, "b", "Support from peer groups helps recovery.", (1,)),
        (6, "c", "Sleep problems are common in withdrawal.", (2,)),
        (7, "a", "Sleep trouble is common during withdrawal.", (2,)),
        (8, "b", "Music lessons build patience in children.", (3,)),
        (9, "c", "Gardens attract bees in the spring.", (4,)),
        (10, "a", "Bridges need painting every decade.", (5,)),
    ]
    mentions = [MentionInput(mid, site, text) for mid, site, text, _ in rows]
    vectors = {mid: _vec(*hot, noise=mid) for mid, _, _, hot in rows}
    return mentions, vectors


def _claims(mentions, groups):
    by = {m.mention_id: m for m in mentions}
    return [ClaimState(g[0], tuple(by[i] for i in g)) for g in groups]


def test_evidence_has_every_feature_and_is_symmetric_in_content():
    mentions, vectors = _corpus()
    q = ReviewQueue("claim", mentions, vectors)
    claims = _claims(mentions, [[1], [2], [8]])
    same = q.evidence(claims[0], claims[1])
    other = q.evidence(claims[0], claims[2])
    assert tuple(same) == FEATURES
    assert same["cos_mean"] > other["cos_mean"] and same["lex_mean"] > other["lex_mean"]


def test_first_question_is_a_likely_pair_and_larger_claims_weigh_more():
    mentions, vectors = _corpus()
    q = ReviewQueue("claim", mentions, vectors)
    claims = _claims(mentions, [[1, 2], [3], [4], [5], [6], [7], [8], [9], [10]])
    qs = q.ask(claims, [], prior_model(), limit=3)
    assert qs, "no question asked"
    first = qs[0]
    ids = {first.left.claim_id, first.right.claim_id}
    assert ids == {1, 3}  # two members x one: two pairs settled by one answer
    assert first.new_pairs == 2
    assert all(a.gain >= b.gain for a, b in zip(qs, qs[1:]))
    assert 0.0 < first.p_same < 1.0


def test_no_and_skip_are_never_asked_again():
    mentions, vectors = _corpus()
    q = ReviewQueue("claim", mentions, vectors)
    claims = _claims(mentions, [[1], [2], [3], [4], [5], [6], [7], [8], [9], [10]])
    first = q.ask(claims, [], prior_model())[0]
    no = Answer("claim", tuple(m.mention_id for m in first.left.members),
                tuple(m.mention_id for m in first.right.members), "no", first.evidence)
    asked = {(x.left.claim_id, x.right.claim_id) for x in q.ask(claims, [no], prior_model(), limit=50)}
    assert (first.left.claim_id, first.right.claim_id) not in asked
    # a claim that grows still carries the cannot-link: no question over a "no" pair
    a, b = first.left.members[0].mention_id, first.right.members[0].mention_id
    assert (min(a, b), max(a, b)) in cannot_links([no])
    second = q.ask(claims, [no], prior_model())[0]
    skip = Answer("claim", tuple(m.mention_id for m in second.left.members),
                  tuple(m.mention_id for m in second.right.members), "skip")
    keys = {x.key for x in q.ask(claims, [no, skip], prior_model(), limit=50)}
    assert second.key not in keys


def test_fit_is_deterministic_and_follows_the_answers():
    rng = np.random.default_rng(1)
    x = [dict(zip(FEATURES, row)) for row in rng.uniform(0, 1, size=(40, len(FEATURES)))]
    y = [e["context_max"] > 0.5 for e in x]  # a feature this prior gives no weight
    prior = prior_model({"weights": {"cos_mean": 3.0, "lex_mean": 3.0}, "bias": -3.0, "scale": {}})
    a, b = fit(x, y, prior=prior), fit(x, y, prior=prior)
    assert a == b
    k = FEATURES.index("context_max")
    assert prior.weights[k] == 0.0 and a.weights[k] > 1.0
    assert fit([], [], prior=prior) == prior
    # few answers move the model little: the prior holds
    few = fit(x[:2], y[:2], prior=prior)
    assert abs(few.weights[0] - prior.weights[0]) < abs(a.weights[k])


def test_probability_is_moderated_by_uncertainty_and_capped():
    """Eleven answers that one feature separates perfectly: the point estimate would say
    0.9999 for a pair far beyond them; the probability shown stays inside the caps and
    nearer 0.5 than the point estimate, and more answers make it surer."""
    rng = np.random.default_rng(3)
    def answers(n):
        x = [dict(zip(FEATURES, row)) for row in rng.uniform(0, 1, size=(n, len(FEATURES)))]
        return x, [e["lex_mean"] > 0.5 for e in x]
    x, y = answers(11)
    model = fit(x, y)
    far = [{**dict.fromkeys(FEATURES, 0.5), "lex_mean": 3.0}]
    point = float(model.point_probability(far)[0])
    shown = float(model.probability(far)[0])
    assert point > 0.999
    assert P_FLOOR <= shown <= P_CEIL and shown < point
    many_x, many_y = answers(400)
    surer = fit(x + many_x, y + many_y)
    near = [{**dict.fromkeys(FEATURES, 0.5), "lex_mean": 0.8}]
    assert surer.probability(near)[0] > model.probability(near)[0] > 0.5
    assert all(P_FLOOR <= p <= P_CEIL for p in surer.probability(x))


def test_refit_uses_yes_and_no_of_its_kind_only():
    ev = dict.fromkeys(FEATURES, 0.5)
    answers = [Answer("claim", (1,), (2,), "yes", ev), Answer("claim", (1,), (3,), "skip", ev),
               Answer("faq", (4,), (5,), "no", ev)]
    assert refit(answers, "claim").answers == 1
    assert refit(answers, "faq").answers == 1


def _engine_answers(n: int, seed: int, *, noisy: bool = False) -> list:
    from pipeline.dedupe import FEATURE_NAMES

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        yes = k % 2 == 0
        ev = {n_: float(v) for n_, v in zip(FEATURE_NAMES, rng.uniform(0, 1, len(FEATURE_NAMES)))}
        if not noisy:  # the yes pairs are close and share words, the no pairs are not
            ev["cos_mean"] = float(rng.uniform(0.8, 1.0) if yes else rng.uniform(0.0, 0.4))
            ev["lex_mean"] = float(rng.uniform(0.7, 1.0) if yes else rng.uniform(0.0, 0.3))
        out.append(Answer("claim", (k,), (1000 + k,), "yes" if yes else "no", ev))
    return out


def test_engine_model_waits_for_enough_answers_and_speaks_the_engines_names():
    from pipeline.dedupe import FEATURE_NAMES, PairModel as EngineModel

    answers = _engine_answers(60, 2)
    assert engine_model(answers[:5]) is None  # too few answers: runs keep the hand thresholds
    d = engine_model(answers)
    model = EngineModel.coerce(d)  # the engine accepts it
    assert model.names == tuple(FEATURE_NAMES) and model.threshold == 0.95
    assert d == engine_model(list(answers))  # the same answers, the same model


def test_engine_model_is_withheld_when_it_would_merge_what_the_editor_kept_apart():
    """Checked on the answers themselves, out of fold: answers whose verdict the evidence
    does not tell give no model the runs would merge with, however many there are."""
    from pipeline.review import validated

    assert validated(_engine_answers(60, 2))
    noisy = _engine_answers(200, 3, noisy=True)
    assert not validated(noisy)
    assert engine_model(noisy) is None
    # a few of the editor's "no"s among confident pairs are enough to withhold it
    flipped = [Answer(a.kind, a.left, a.right, "no" if a.verdict == "yes" and k % 10 == 0 else a.verdict,
                      a.evidence) for k, a in enumerate(_engine_answers(60, 2))]
    assert not validated(flipped)


def test_model_round_trips_and_refuses_other_features():
    m = fit([{n: float(n == k) for n in FEATURES} for k in FEATURES], [True] * len(FEATURES))
    assert PairModel.from_dict(m.to_dict()).to_dict() == m.to_dict()
    d = m.to_dict()
    d["names"] = ["something", "else"]
    assert PairModel.from_dict(d) == prior_model()


def test_transitivity_a_no_holds_for_what_merges_with_either_side():
    mentions, vectors = _corpus()
    q = ReviewQueue("claim", mentions, vectors)
    no = Answer("claim", (1,), (2,), "no", {})
    claims = _claims(mentions, [[1, 3], [2], [4], [5], [6], [7], [8], [9], [10]])  # 3 joined 1 after the "no"
    asked = {frozenset({x.anchor.claim_id, c.claim.claim_id}) for x in q.ask(claims, [no], prior_model(), limit=50)
             for c in x.candidates}
    assert frozenset({1, 2}) not in asked  # claim 1 (now 1 and 3) was said to differ from 2
    assert (1, 2) in q.settled(claims, [no])
    # cannot-link groups from the store (spanning a merged claim) settle pairs the same way
    assert (1, 4) in q.settled(claims, [], apart=[(frozenset({3}), frozenset({4}))])
    # nothing inside one claim is ever asked
    for x in q.ask(claims, [no], prior_model(), limit=50):
        assert x.anchor.claim_id not in {c.claim.claim_id for c in x.candidates}


def test_group_questions_and_their_keys():
    mentions, vectors = _corpus()
    q = ReviewQueue("claim", mentions, vectors, group_max=4)
    claims = _claims(mentions, [[1], [2], [3], [4], [5], [6], [7], [8], [9], [10]])
    qs = q.ask(claims, [], prior_model(), limit=3, groups=True)
    seen = [x.anchor.claim_id for x in qs] + [c.claim.claim_id for x in qs for c in x.candidates]
    assert len(seen) == len(set(seen))  # no claim in two questions of one batch
    for x in qs:
        assert x.items == len(x.candidates) >= 1
        kind, anchor, cands = parse_key(x.key)
        assert (kind, anchor, cands) == ("claim", x.anchor.claim_id, tuple(c.claim.claim_id for c in x.candidates))
        assert x.key == question_key("claim", x.anchor, [c.claim for c in x.candidates])
        # the question as rebuilt from its key is the same question
        again = q.question(x.anchor, [c.claim for c in x.candidates], prior_model())
        assert again.key == x.key and [c.p_same for c in again.candidates] == [c.p_same for c in x.candidates]
    assert any(x.items > 1 for x in qs), "three sentences of one proposition make a group question"
    # pair questions unless groups are asked for
    for no_groups in (q.ask(claims, [], prior_model(), limit=3), q.ask(claims, [], prior_model(), limit=3,
                                                                         groups=False)):
        assert no_groups and all(x.items == 1 for x in no_groups)


def test_engine_features_do_not_overwrite_the_queues_own():
    """With a PairContext, a question's evidence carries the engine's features under their
    own prefix beside the queue's (both name a `cos_mean`, computed otherwise): the queue's
    model is refitted on the values it predicts from, and the engine model on the engine's."""
    from pipeline.dedupe import FEATURE_NAMES, PairContext
    from pipeline.review.queue import ENGINE_PREFIX

    mentions, vectors = _corpus()
    context = PairContext.build(mentions, embeddings=dict(vectors))
    q = ReviewQueue("claim", mentions, vectors, context=context)
    claims = _claims(mentions, [[m.mention_id] for m in mentions])
    question = q.ask(claims, [], prior_model())[0]
    c = question.candidates[0]
    own = q.evidence(question.anchor, c.claim)
    assert all(c.evidence[n] == own[n] for n in FEATURES)
    assert all(ENGINE_PREFIX + n in c.evidence for n in FEATURE_NAMES)
    answers = [Answer("claim", (m.mention_id,), (m.mention_id + 100,), "yes" if k % 2 else "no",
                      {**{n: 0.0 for n in FEATURES}, **{ENGINE_PREFIX + n: float(k % 2) for n in FEATURE_NAMES}})
               for k, m in enumerate(mentions * 3)]
    d = engine_model(answers)  # fitted on the engine's values (prefixed), not the queue's zeros
    assert d is not None and d["weights"][list(FEATURE_NAMES).index("cos_mean")] > 0


def test_p_same_of_two_claims_is_the_model_on_their_sentence_pairs():
    """Two single sentences: P(same) is the model's own probability of that pair. A claim
    that also holds a sentence about something else: the candidate's P(same) against it lies
    between its P against that other sentence alone and against its true partner alone (the
    best match keeps it from being dragged to the mean), and the stored evidence is the mean
    of the pairs' evidence."""
    mentions, vectors = _corpus()
    q = ReviewQueue("claim", mentions, vectors)
    model = prior_model()
    one, two, mixed, music = _claims(mentions, [[1], [2], [3, 8], [8]])
    single = q.probabilities([(one, two)], model)[0]
    assert single == model.probability([q.evidence(one, two)])[0]
    p_true, p_other, p_mixed = q.probabilities([(one, _claims(mentions, [[3]])[0]), (one, music), (one, mixed)], model)
    assert p_other < p_mixed < p_true
    mean = q.evidence(one, mixed)
    parts = [q.evidence(one, c) for c in _claims(mentions, [[3], [8]])]
    assert all(abs(mean[n] - (parts[0][n] + parts[1][n]) / 2) < 1e-5 for n in FEATURES)
    # the questions show that probability
    (qn,) = [x for x in q.ask(_claims(mentions, [[1], [3, 8]]), [], model, limit=1, groups=False)]
    assert qn.p_same == round(float(p_mixed), 4)
