"""Unit tests of pipeline.dedupe with small fake embedders (no model is loaded here).

Covers: exact and near-copy evidence, the chaining guard, stable ids, incremental == rebuild,
editor constraints, the embedding cache and byte format, the engine state kept between
runs, canonical text, FAQ questions.
"""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np

from pipeline.dedupe import (CLAIM_SETTINGS, ClaimState, Constraints, choose_canonical,
                             cluster_claims, cluster_questions, embedding_from_bytes,
                             embedding_to_bytes, rebuild)
from pipeline.dedupe.features import MergeModel
from pipeline.dedupe.normalize import content_terms
from pipeline.types import MentionInput

from fixtures.embedders import HashEmbedder


class TableEmbedder:
    """Returns the vector given for each text (for hand-made geometry)."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def encode(self, texts):
        v = np.array([self.table[t] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


class NoEncode:
    def encode(self, texts):  # pragma: no cover - a failure path
        raise AssertionError(f"re-encoded {list(texts)}")


SUBJECTS = ["river", "granite", "violin", "orchard", "glacier", "harbor", "comet", "lantern",
            "meadow", "falcon", "copper", "tundra", "saffron", "beacon", "canyon", "walnut"]
VERBS = ["erodes", "shelters", "amplifies", "nourishes", "reflects", "guards", "crosses", "warms"]
OBJECTS = ["the quiet valley", "northern travellers", "ancient melodies", "young saplings",
           "the morning light", "coastal villages", "distant planets", "the winter market"]


def corpus(n: int, seed: int = 0) -> list[MentionInput]:
    """Sentences over distinct subjects, some copied with light edits across sites."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if out and rng.random() < 0.35:
            base = out[int(rng.integers(len(out)))].text
            text = base.replace(" the ", " that ") if rng.random() < 0.5 else base.rstrip(".") + " today."
        else:
            text = (f"The {SUBJECTS[int(rng.integers(len(SUBJECTS)))]} "
                    f"{VERBS[int(rng.integers(len(VERBS)))]} {OBJECTS[int(rng.integers(len(OBJECTS)))]} "
                    f"every {['spring', 'autumn', 'night', 'decade'][int(rng.integers(4))]}.")
        out.append(MentionInput(i + 1, f"site{int(rng.integers(4))}", text))
    return out


def partition(memberships):
    groups: dict[int, set[int]] = {}
    for m in memberships:
        groups.setdefault(m.claim_id, set()).add(m.mention_id)
    return {frozenset(g) for g in groups.values()}


def states(memberships, mentions) -> list[ClaimState]:
    by = {m.mention_id: m for m in mentions}
    groups: dict[int, list[MentionInput]] = {}
    for ms in memberships:
        groups.setdefault(ms.claim_id, []).append(by[ms.mention_id])
    return [ClaimState(cid, tuple(v)) for cid, v in sorted(groups.items())]


def test_exact_copies_join_with_method_exact():
    a = MentionInput(1, "a", "Heroin is derived from morphine.")
    b = MentionInput(2, "b", "heroin is  derived from Morphine!")
    out = cluster_claims([], [a, b], next_claim_id=10, embedder=HashEmbedder())
    assert [m.claim_id for m in out] == [10, 10]
    assert out[0].method == "new" and out[1].method == "exact" and out[1].score == 1.0


def test_near_copy_joins_and_records_score():
    a = MentionInput(1, "a", "The granite shelters northern travellers every winter in the pass.")
    b = MentionInput(2, "b", "The granite shelters northern travelers every winter in that pass.")
    c = MentionInput(3, "c", "A violin amplifies ancient melodies at dusk.")
    out = cluster_claims([], [a, b, c], next_claim_id=1, embedder=HashEmbedder())
    assert out[1].claim_id == out[0].claim_id and out[1].method == "near-copy"
    assert 0.9 <= out[1].score < 1.0
    assert out[2].claim_id != out[0].claim_id and out[2].method == "new"


def test_a_swapped_content_word_is_no_near_copy():
    # within the near-copy ratio (0.97 once normalized), but one content word swapped for
    # another: two statements, left to the paraphrase decision; a copy with a tail added
    # keeps every word of the first and stays a near-copy
    a = MentionInput(1, "a", "Eating sugar predicts the risk of depression in shift workers.")
    b = MentionInput(2, "b", "Eating sugar protects the risk of depression in shift workers.")
    c = MentionInput(3, "c", "Eating sugar predicts the risk of depression in shift workers today.")
    out = cluster_claims([], [a, b, c], next_claim_id=1, embedder=HashEmbedder())
    assert out[1].method != "near-copy"
    assert out[2].method == "near-copy" and out[2].claim_id == out[0].claim_id
    loose = dataclasses.replace(CLAIM_SETTINGS, near_copy_keeps_words=False)
    out = cluster_claims([], [a, b], next_claim_id=1, embedder=HashEmbedder(), settings=loose)
    assert out[1].method == "near-copy"  # what the check refuses


def test_new_member_must_fit_the_whole_claim_not_one_member():
    texts = {"alpha one": [1, 0, 0], "beta two": [1, 1, 0], "gamma three": [0, 1, 0]}
    ms = [MentionInput(i + 1, f"s{i}", t) for i, t in enumerate(texts)]
    hand = dataclasses.replace(CLAIM_SETTINGS, merge_model=None, lexical_weight=0.0, join=0.6,
                               floor=0.3, same_site_penalty=0.0, density_weight=0.0)
    # the calibrated decision: P = sigmoid(10 cos - 6), i.e. P >= 0.5 from cosine 0.6 on
    model = MergeModel(("cos",), (10.0,), -6.0, threshold=0.5, floor=0.25)
    for settings in (hand, dataclasses.replace(CLAIM_SETTINGS, merge_model=model)):
        out = cluster_claims([], ms, next_claim_id=1, embedder=TableEmbedder(texts), settings=settings)
        assert out[1].claim_id == out[0].claim_id and out[1].method == "paraphrase"
        assert out[2].claim_id != out[0].claim_id  # close to "beta two" only: no chaining


def test_existing_ids_kept_and_new_ids_start_at_next_claim_id():
    emb = HashEmbedder()
    old = [ClaimState(7, (MentionInput(1, "a", "The comet crosses distant planets every decade."),))]
    new = [MentionInput(2, "b", "The comet crosses distant planets every decade."),
           MentionInput(3, "c", "A walnut nourishes young saplings in the orchard.")]
    out = cluster_claims(old, new, next_claim_id=8, embedder=emb)
    assert (out[0].claim_id, out[0].method) == (7, "exact")
    assert out[1].claim_id == 8


def test_incremental_batches_equal_rebuild():
    ms = corpus(120)
    emb = HashEmbedder()
    cache: dict = {}
    claims: list[ClaimState] = []
    done: list = []
    next_id = 1
    for lo, hi in [(0, 40), (40, 41), (41, 90), (90, 120)]:
        out = cluster_claims(claims, ms[lo:hi], next_claim_id=next_id, embedder=emb,
                             embeddings=cache)
        done.extend(out)
        next_id = max([next_id - 1, *(m.claim_id for m in out)]) + 1
        claims = states(done, ms)
    full = rebuild(claims, next_claim_id=next_id, embedder=NoEncode(), embeddings=cache)
    assert partition(full) == partition(done)
    # clusters that carry on keep their ids
    assert {m.mention_id: m.claim_id for m in full} == {m.mention_id: m.claim_id for m in done}
    assert len(partition(done)) < len(ms)  # the copies did merge


def test_incremental_equals_rebuild_with_the_inverted_file():
    """Past `exact_search_limit` neighbours come from lists retrained at checkpoints (64,
    128, 256, 512 here); batches that cut across them still give the rebuild's clusters."""
    assert_batches_equal_rebuild(dataclasses.replace(CLAIM_SETTINGS, exact_search_limit=64, search_list_size=8,
                                                     search_probes=4))


def assert_batches_equal_rebuild(settings) -> None:
    """700 mentions clustered in batches that cut across the inverted file's checkpoints give
    the rebuild's clusters, and real groups form (fewer claims than half the mentions)."""
    ms = corpus(700, seed=3)
    emb = HashEmbedder()
    cache: dict = {}
    claims: list[ClaimState] = []
    done: list = []
    next_id = 1
    for lo, hi in [(0, 100), (100, 128), (128, 129), (129, 400), (400, 513), (513, 700)]:
        out = cluster_claims(claims, ms[lo:hi], next_claim_id=next_id, embedder=emb,
                             embeddings=cache, settings=settings)
        done.extend(out)
        next_id = max([next_id - 1, *(m.claim_id for m in out)]) + 1
        claims = states(done, ms)
    full = rebuild(claims, next_claim_id=next_id, embedder=NoEncode(), embeddings=cache,
                   settings=settings)
    assert {m.mention_id: m.claim_id for m in full} == {m.mention_id: m.claim_id for m in done}
    assert len(partition(done)) < len(ms) // 2


def test_increments_from_the_kept_engine_state_give_the_rebuilds_clusters():
    """With an EngineMemo each batch after the first starts from the state the pass before
    left (no stored text recomputed, no list retrained), across the inverted file's
    checkpoints, and gives what a batch without it and the rebuild give."""
    from pipeline.dedupe import EngineMemo

    settings = dataclasses.replace(CLAIM_SETTINGS, exact_search_limit=64, search_list_size=8,
                                   search_probes=4)
    ms = corpus(700, seed=5)
    cuts = [(0, 100), (100, 128), (128, 129), (129, 400), (400, 513), (513, 700)]

    def batches(memo):
        emb, cache, claims, done, next_id, used = HashEmbedder(), {}, [], [], 1, []
        for lo, hi in cuts:
            out = cluster_claims(claims, ms[lo:hi], next_claim_id=next_id, embedder=emb,
                                 embeddings=cache, settings=settings, memo=memo)
            used.append(memo is not None and memo.used)
            done.extend(out)
            next_id = max([next_id - 1, *(m.claim_id for m in out)]) + 1
            claims = states(done, ms)
        full = rebuild(claims, next_claim_id=next_id, embedder=NoEncode(), embeddings=cache,
                       settings=settings)
        return {m.mention_id: m.claim_id for m in done}, {m.mention_id: m.claim_id for m in full}, used

    with_memo, rebuilt, used = batches(EngineMemo())
    without, _, _ = batches(None)
    assert used == [False] + [True] * (len(cuts) - 1)
    assert with_memo == without == rebuilt
    assert len(set(with_memo.values())) < len(ms) // 2


def test_a_kept_state_of_other_mentions_or_vectors_is_ignored():
    from pipeline.dedupe import EngineMemo

    ms = corpus(200, seed=1)
    emb = HashEmbedder()
    memo = EngineMemo()
    first = cluster_claims([], ms[:150], next_claim_id=1, embedder=emb, embeddings={}, memo=memo)
    kept = memo.data
    claims = states(first, ms)
    plain = cluster_claims(claims, ms[150:], next_claim_id=1000, embedder=emb, embeddings={})

    class Shifted(HashEmbedder):  # other vectors for the same texts
        def encode(self, texts):
            v = super().encode(texts) + 0.01
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    for other, embedder, expect_used in [(claims, emb, True), (claims, Shifted(), False),
                                         (claims[1:], emb, False)]:
        memo = EngineMemo(kept)
        got = cluster_claims(other, ms[150:], next_claim_id=1000, embedder=embedder,
                             embeddings={}, memo=memo)
        assert memo.used is expect_used
        if embedder is emb and other is claims:
            assert got == plain
    assert EngineMemo(b"not a pickle").state() is None


def test_inverted_file_finds_what_exact_search_finds_on_copies():
    from pipeline.dedupe.neighbours import NeighbourSearch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[500:510] + 0.05 * rng.standard_normal((10, 32)).astype(np.float32)  # near x[500:510]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    s = NeighbourSearch(32, 5, exact_limit=64, list_size=16, probes=4)
    s.train(x)
    ids, sims = s.search_block(q, x)
    assert [int(i[0]) for i in ids] == list(range(500, 510))
    assert all(np.all(np.diff(v) <= 0) for v in sims)


def test_rebuild_retires_ids_of_vanished_claims():
    emb = HashEmbedder()
    a = MentionInput(1, "a", "The harbor guards coastal villages every night.")
    b = MentionInput(2, "b", "A lantern warms the winter market.")
    # claim 5 lost its only mention; claims 3 and 4 hold copies of one sentence
    claims = [ClaimState(3, (a,)), ClaimState(4, (MentionInput(3, "c", a.text), b))]
    out = rebuild(claims, next_claim_id=6, embedder=emb)
    ids = {m.mention_id: m.claim_id for m in out}
    assert ids[1] == ids[3] and ids[1] in (3, 4)
    assert ids[2] not in (5, ids[1]) and ids[2] >= 3
    assert ids[2] in (3, 4) or ids[2] >= 6


def test_constraints_cannot_link_must_link_and_fixed():
    emb = HashEmbedder()
    a = MentionInput(1, "a", "The falcon guards the quiet valley every spring.")
    b = MentionInput(2, "b", "The falcon guards the quiet valley every spring.")
    c = MentionInput(3, "c", "Saffron reflects the morning light every autumn.")
    d = MentionInput(4, "d", "Copper amplifies ancient melodies every decade.")
    cons = Constraints.of(fixed={4: 99}, must_link=[{1, 3}], cannot_link=[(1, 2)])
    out = {m.mention_id: m for m in cluster_claims([], [a, b, c, d], next_claim_id=1,
                                                    embedder=emb, constraints=cons)}
    assert out[2].claim_id != out[1].claim_id  # split, though identical
    assert out[3].claim_id == out[1].claim_id and out[3].method == "editor"
    assert out[4].claim_id == 99 and out[4].method == "editor"
    again = {m.mention_id: m for m in rebuild(states(out.values(), [a, b, c, d]),
                                              next_claim_id=100, embedder=emb, constraints=cons)}
    assert partition(again.values()) == partition(out.values())
    assert again[4].claim_id == 99


def test_embedding_cache_is_filled_and_used():
    ms = corpus(10)
    cache: dict = {}
    out = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder(), embeddings=cache)
    assert set(cache) == {m.mention_id for m in ms}
    stored = {k: embedding_to_bytes(v) for k, v in cache.items()}
    more = [MentionInput(11, "x", "The beacon crosses the quiet valley every night.")]
    emb = HashEmbedder()
    cluster_claims(states(out, ms), more, next_claim_id=100, embedder=emb, embeddings=stored)
    assert emb.encoded == [more[0].text]  # the corpus was not re-encoded


def test_identical_texts_are_encoded_once():
    ms = [MentionInput(1, "a", "The comet crosses distant planets."),
          MentionInput(2, "b", "The comet crosses distant planets."),
          MentionInput(3, "c", "A lantern warms the winter market.")]
    emb = HashEmbedder()
    cache: dict = {}
    out = cluster_claims([], ms, next_claim_id=1, embedder=emb, embeddings=cache)
    assert emb.encoded == [ms[0].text, ms[2].text]
    assert set(cache) == {1, 2, 3} and out[1].method == "exact"


def test_embedding_bytes_round_trip():
    v = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    b = embedding_to_bytes(v)
    assert len(b) == 384 * 4
    assert np.array_equal(embedding_from_bytes(b), v)


def test_choose_canonical_prefers_pin_then_a_standalone_sentence():
    m1 = MentionInput(1, "a", "This means that they use more of the river water.")
    m2 = MentionInput(2, "b", "People use more river water over time.")
    m3 = MentionInput(3, "c", "Water: people use more of it over time:")
    claim = ClaimState(1, (m1, m2, m3))
    assert choose_canonical(claim) == 2
    assert choose_canonical(dataclasses.replace(claim, pinned_mention=3)) == 3


def test_cluster_questions_groups_same_question_across_sites():
    qs = [MentionInput(1, "a", "How does the comet cross distant planets?"),
          MentionInput(2, "b", "How does the comet cross the distant planets?"),
          MentionInput(3, "c", "What is a partial hospitalization program?")]
    out = cluster_questions([], qs, next_id=1, embedder=HashEmbedder())
    assert out[0].claim_id == out[1].claim_id != out[2].claim_id


def test_content_terms_fold_inflections_and_drop_stop_words():
    assert content_terms("Tolerance develops; tolerant users") >= {"tolera", "develo"}
    assert "the" not in content_terms("the the and of")


def test_import_loads_no_model():
    code = ("import sys, pipeline.dedupe as d; d.MiniLMEmbedder();"
            "print('sentence_transformers' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_engine_state_file_sits_beside_the_database_or_where_told(tmp_path, monkeypatch):
    from pipeline.clustering import engine_memo, engine_memo_path
    from pipeline.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        monkeypatch.delenv("SYNDICATE_CLUSTERING_STATE", raising=False)
        assert engine_memo_path(store) == tmp_path / "x.sqlite.clustering-state"
        monkeypatch.setenv("SYNDICATE_CLUSTERING_STATE", str(tmp_path / "states"))
        assert engine_memo_path(store) == tmp_path / "states" / "x.sqlite.clustering-state"
        with engine_memo(store) as memo:  # nothing kept yet; what the block leaves is written
            assert memo.data is None
            memo.data = b"state"
        assert (tmp_path / "states" / "x.sqlite.clustering-state").read_bytes() == b"state"
        with engine_memo(store) as memo:
            assert memo.data == b"state"
        assert [p.name for p in (tmp_path / "states").iterdir()] == ["x.sqlite.clustering-state"]
    finally:
        store.close()
