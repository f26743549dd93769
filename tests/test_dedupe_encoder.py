"""The sentence encoders and the scaling parts of clustering (issue 20).

Fast tests (no model): the export cache (keyed, atomic, a failed export leaves nothing),
the backend choice, encoding overlapped with clustering (same clusters, errors handed
over, each distinct text once), the neighbour search's retraining schedule and two-level
lists (incremental == rebuild still holds), and row-independent statistics.

Slow tests (the real model): ONNX vectors close to the torch reference, and a whole run
with the ONNX backend that never imports torch (checked in a subprocess).
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pipeline.dedupe import (CLAIM_SETTINGS, cluster_claims, embedder_name,
                             make_embedder)
from pipeline.dedupe import embed, neighbours, onnx_model
from pipeline.errors import ConfigError, ModelError
from pipeline.types import MentionInput

from fixtures.embedders import HashEmbedder
from test_dedupe import assert_batches_equal_rebuild, corpus

ROOT = Path(__file__).resolve().parents[1]


# --- the exported model's cache -------------------------------------------------------------


def test_export_is_cached_under_a_key_and_written_whole(tmp_path, monkeypatch):
    monkeypatch.setenv(onnx_model.CACHE_ENV, str(tmp_path / "models"))
    calls = []

    def exporter(dest: Path) -> None:
        calls.append(dest)
        assert dest.parent != tmp_path / "models"  # written beside, then renamed
        dest.write_bytes(b"model")

    path = onnx_model.ensure_model(exporter=exporter)
    assert path.parent == tmp_path / "models" and path.read_bytes() == b"model"
    assert onnx_model.RECIPE in path.name and onnx_model.model_key() in path.name
    assert onnx_model.ensure_model(exporter=exporter) == path and len(calls) == 1  # once
    assert os.listdir(tmp_path / "models") == [path.name]  # no temporary left


def test_a_failed_export_leaves_no_file_and_says_what_to_do(tmp_path):
    def broken(dest: Path) -> None:
        dest.write_bytes(b"half a mod")
        raise RuntimeError("disk full")

    with pytest.raises(ModelError, match="SYNDICATE_ENCODER=torch"):
        onnx_model.ensure_model(tmp_path, exporter=broken)
    assert os.listdir(tmp_path) == []


def test_the_key_follows_the_exporter_versions(monkeypatch):
    key = onnx_model.model_key()
    real = onnx_model._version
    monkeypatch.setattr(onnx_model, "_version", lambda d: "9.9" if d == "onnxruntime" else real(d))
    assert onnx_model.model_key() != key


def test_each_recipe_has_its_own_file_and_key(tmp_path):
    fp32 = onnx_model.model_path(tmp_path, "fp32")
    int8 = onnx_model.model_path(tmp_path, "int8")
    assert fp32 == onnx_model.model_path(tmp_path) and fp32 != int8
    assert onnx_model.model_key("fp32") != onnx_model.model_key("int8")
    assert onnx_model.RECIPES["int8"] in int8.name and onnx_model.RECIPES["fp32"] in fp32.name
    with pytest.raises(ConfigError, match="fp32, int8"):
        onnx_model.model_path(tmp_path, "fp16")


def test_same_length_batches_hold_one_length_each_in_order():
    lengths = [5, 7, 5, 5, 9, 7, 5]
    batches = onnx_model.same_length_batches(lengths, 2)
    assert batches == [[0, 2], [3, 6], [1, 5], [4]]
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len({lengths[i] for i in b}) == 1 for b in batches)
    assert onnx_model.same_length_batches([], 8) == []


def test_per_token_quantization_is_close_and_row_by_row():
    """The int8 rewrite of a matrix product: close to the float product, and each row's
    result depends on that row alone (a row with large values does not coarsen the others)."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    w = rng.normal(size=(16, 8)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", 8])],
                              initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    assert onnx_model.quantize_per_token(model) == 1
    assert {n.op_type for n in model.graph.node} >= {"MatMulInteger"} and "MatMul" not in {
        n.op_type for n in model.graph.node}
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = rng.normal(size=(4, 16)).astype(np.float32)
    x[3] *= 1000  # one row far larger than the others
    y = session.run(None, {"x": x})[0]
    exact = x @ w
    rel = np.abs(y - exact).max(axis=1) / np.abs(exact).max(axis=1)
    assert rel.max() < 0.03, rel
    for i in range(4):
        assert np.array_equal(session.run(None, {"x": x[i: i + 1]})[0][0], y[i])
    assert onnx


# --- which backend --------------------------------------------------------------------------


def test_backend_choice(monkeypatch):
    monkeypatch.setattr(embed, "onnx_available", lambda: True)
    assert isinstance(make_embedder("auto"), embed.OnnxMiniLMEmbedder)
    monkeypatch.setattr(embed, "onnx_available", lambda: False)
    assert isinstance(make_embedder("auto"), embed.MiniLMEmbedder)
    monkeypatch.setenv(embed.BACKEND_ENV, "torch")
    assert isinstance(make_embedder(), embed.MiniLMEmbedder)
    assert make_embedder("onnx").recipe == "fp32"  # the default: the reference's vectors
    assert make_embedder("onnx-int8").recipe == "int8"
    monkeypatch.setenv(embed.BACKEND_ENV, "tensorflow")
    with pytest.raises(ConfigError, match="auto, onnx, onnx-int8, torch"):
        make_embedder()


def test_each_backend_caches_under_its_own_name():
    torch_name = embedder_name(embed.MiniLMEmbedder())
    onnx_name = embedder_name(embed.OnnxMiniLMEmbedder())
    int8_name = embedder_name(embed.OnnxMiniLMEmbedder(recipe="int8"))
    assert torch_name == "all-MiniLM-L6-v2"  # vectors cached before issue 20 stay valid
    assert len({torch_name, onnx_name, int8_name}) == 3
    # the recipe's version is in the name: a changed export invalidates the cached vectors
    assert onnx_model.RECIPES["fp32"] in onnx_name and onnx_model.RECIPES["int8"] in int8_name
    assert embedder_name(HashEmbedder()) == "HashEmbedder"


# --- encoding overlapped with clustering ----------------------------------------------------


def test_rows_encoded_in_the_background_equal_rows_encoded_first(monkeypatch):
    monkeypatch.setattr(embed, "ENCODE_CHUNK", 7)
    ms = corpus(120, seed=4)
    texts = [m.text for m in ms]
    known = [None] * len(ms)
    known[3] = HashEmbedder().encode([texts[3]])[0]  # one vector given by the cache
    emb = HashEmbedder()
    ahead = embed.EncodedRows(texts, known, emb, background=True)
    assert np.array_equal(ahead[100:110], embed.normalize_rows(HashEmbedder().encode(texts[100:110])))
    ahead.close()
    first = embed.EncodedRows(texts, known, HashEmbedder(), background=False)
    assert np.array_equal(ahead.matrix, first.matrix)
    assert sorted(emb.encoded) == sorted(set(texts) - {texts[3]})  # each distinct text once
    assert 3 not in set(ahead.encoded_rows())


def test_clusters_do_not_change_when_encoding_runs_beside_the_engine(monkeypatch):
    ms = corpus(300, seed=6)
    settings = dataclasses.replace(CLAIM_SETTINGS, exact_search_limit=64, search_list_size=8,
                                   search_probes=4)
    plain = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder(), settings=settings)
    monkeypatch.setattr(embed, "OVERLAP_FROM", 1)
    monkeypatch.setattr(embed, "ENCODE_CHUNK", 5)
    cache: dict = {}
    ahead = cluster_claims([], ms, next_claim_id=1, embedder=HashEmbedder(), settings=settings,
                           embeddings=cache)
    assert ahead == plain
    assert set(cache) == {m.mention_id for m in ms}  # the new vectors reach the caller's cache


def test_an_encoder_error_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(embed, "OVERLAP_FROM", 1)
    monkeypatch.setattr(embed, "ENCODE_CHUNK", 10)

    class Fails(HashEmbedder):
        def encode(self, texts):
            if len(self.encoded) >= 20:
                raise RuntimeError("encoder broke")
            return super().encode(texts)

    with pytest.raises(RuntimeError, match="encoder broke"):
        cluster_claims([], corpus(200, seed=2), next_claim_id=1, embedder=Fails())


# --- neighbour search at scale --------------------------------------------------------------


def test_lists_are_retrained_geometrically_at_engine_checkpoints():
    from pipeline.dedupe.engine import Engine

    s = neighbours.NeighbourSearch(8, 4, exact_limit=16384, checkpoints=Engine._next_checkpoint)
    points = [n for n in range(16384, 1_200_000, 16384) if s.retrains_at(n)]
    assert points[:3] == [16384, 32768, 49152]
    assert all(b >= neighbours.GROWTH * a for a, b in zip(points, points[1:]))
    assert all(b < 2 * neighbours.GROWTH * a for a, b in zip(points, points[1:]))
    assert len(points) <= 12  # not every 16384 (that was n^2 work re-filing the vectors)
    assert s.last_retrain_before(points[4] + 1) == points[4]
    assert s.last_retrain_before(points[4]) == points[3]
    assert not s.retrains_at(1000) and s.last_retrain_before(1000) == 0


def _clustered(n: int, dim: int = 32, centres: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(centres, size=n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_two_level_lists_find_what_flat_lists_find(monkeypatch):
    x = _clustered(6000)
    q = x[5000:5100]
    monkeypatch.setattr(neighbours, "FLAT_LISTS", 10_000)
    flat = neighbours.NeighbourSearch(32, 10, exact_limit=64, list_size=16, probes=8)
    flat.train(x[:5000])
    monkeypatch.setattr(neighbours, "FLAT_LISTS", 16)
    grouped = neighbours.NeighbourSearch(32, 10, exact_limit=64, list_size=16, probes=8)
    grouped.train(x[:5000])
    assert grouped.quantizer.coarse is not None and flat.quantizer.coarse is None
    exact = np.argsort(-(q @ x[:5000].T), axis=1)[:, :10]
    for s in (flat, grouped):
        ids, _ = s.search_block(q, x)
        recall = np.mean([len(set(i[:10]) & set(e)) / 10 for i, e in zip(ids, exact)])
        assert recall >= 0.9
    # a vector's own list is among the lists it probes (mostly the first), and it does not
    # depend on the rows it is computed with
    probe, _ = grouped.quantizer.probe(q, 8)
    own = grouped.quantizer.own(q)
    assert np.mean([o in p for o, p in zip(own, probe)]) >= 0.95 and np.mean(own == probe[:, 0]) >= 0.9
    assert all(grouped.quantizer.own(q[i: i + 1])[0] == own[i] for i in range(0, 100, 9))


def test_incremental_equals_rebuild_with_two_level_lists(monkeypatch):
    monkeypatch.setattr(neighbours, "FLAT_LISTS", 8)
    assert_batches_equal_rebuild(dataclasses.replace(CLAIM_SETTINGS, exact_search_limit=64, search_list_size=4,
                                                     search_probes=4))


def test_topic_removal_is_row_by_row():
    """The lazy refresh computes rows in other company than an eager one would: a row's
    transformed vector must not depend on it."""
    from pipeline.dedupe.engine import Engine

    x = _clustered(3000, dim=64)
    eng = Engine(CLAIM_SETTINGS, 64, capacity=3000)
    eng.load(list(range(3000)), ["s"] * 3000, [f"text {i}" for i in range(3000)], x,
             list(range(3000)), statistics="all")
    batch = eng._transform(x[:1000])
    alone = np.vstack([eng._transform(x[i: i + 1]) for i in range(0, 1000, 37)])
    assert np.array_equal(batch[::37], alone)


# --- the real model -------------------------------------------------------------------------


SENTENCES = ["Regular exercise lowers blood pressure in older adults.",
             "Physical activity reduces arterial pressure for most people.",
             "Withdrawal symptoms usually peak within 72 hours.",
             "The library opens at nine on weekdays.",
             "Ok."]


@pytest.mark.slow
@pytest.mark.parametrize("backend, mean_bound, min_bound", [("onnx", 0.9999, 0.9999),
                                                            ("onnx-int8", 0.99, 0.98)])
def test_onnx_vectors_are_close_to_the_torch_reference(backend, mean_bound, min_bound):
    # two more of the first sentence's length (11 tokens): the three share a batch
    texts = SENTENCES + ["Regular exercise lowers blood sugar in older adults.",
                         "Regular exercise lowers blood pressure in young adults."]
    onnx_vecs = make_embedder(backend).encode(texts)
    torch_vecs = make_embedder("torch").encode(texts)
    assert onnx_vecs.shape == (len(texts), 384) and onnx_vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx_vecs, axis=1), 1.0, atol=1e-5)
    cos = (onnx_vecs * torch_vecs).sum(axis=1)
    assert cos.min() >= min_bound and cos.mean() >= mean_bound
    # a sentence's vector does not depend on the sentences encoded with it
    for i in (0, 2, 5):
        alone = make_embedder(backend).encode(texts[i: i + 1])[0]
        assert np.array_equal(alone, onnx_vecs[i])


@pytest.mark.slow
def test_a_run_with_the_onnx_backend_does_not_import_torch(partner_sites, tmp_path):
    onnx_model.ensure_model()  # the export, once per machine, may import torch: not here
    folder = partner_sites.write_sources(tmp_path / "sources")
    code = textwrap.dedent(f"""
        import json, sys
        from pipeline.orchestrator import run_sources
        from pipeline.registry import load_sources
        from pipeline.store import Store
        store = Store.open("sqlite:///{tmp_path / 'run.sqlite'}")
        report = run_sources(load_sources({str(folder)!r}), store)
        claims = sum(1 for _ in store.export_claims())
        print(json.dumps({{"ok": report.ok, "claims": claims,
                          "torch": [m for m in sys.modules if m.split('.')[0] == 'torch']}}))
    """)
    env = dict(os.environ, SYNDICATE_ENCODER="onnx")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["claims"] > 20
    assert result["torch"] == []


# --- the store's vector cache, per encoder --------------------------------------------------


class _Named(HashEmbedder):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def test_each_encoder_keeps_its_own_vectors_and_a_new_encoder_reclusters(tmp_path):
    """Vectors are cached under the encoder's name: when the encoder changes, the stored
    mentions have no vector of the new one and are encoded again (the run then re-clusters
    them all on the new vectors), and the old encoder's vectors stay valid."""
    from datetime import timedelta

    from pipeline.clustering import cluster_new_mentions
    from pipeline.store import Store

    import research_data as rd

    store = Store.open(f"sqlite:///{tmp_path / 'enc.sqlite'}")
    store.sync_sources(rd.SOURCES)
    arts = rd.articles()
    for site in ("birch", "cedar"):
        store.save_article(site, arts[site].url, arts[site], guid=None, snapshot_sha256=None, fetched_at=rd.T0)
    a = _Named("encoder-a")
    cluster_new_mentions(store, rd.T0, embedder=a)
    first = store.claim_states()
    old = [m for c in first for m in c.members]
    assert len(store.load_embeddings(old, "encoder-a")) == len(old) > 3
    assert store.load_embeddings(old, "encoder-b") == {}

    later = rd._article("dune", arts["dune"].url, [(s.text, s.kind, s.citations) for s in arts["dune"].sentences],
                        published=rd.T0 + timedelta(days=2))
    store.save_article("dune", later.url, later, guid=None, snapshot_sha256=None, fetched_at=rd.WEEK2)
    b = _Named("encoder-b")
    cluster_new_mentions(store, rd.WEEK2, embedder=b)
    every = [m for c in store.claim_states() for m in c.members]
    assert {m.text for m in old} <= set(b.encoded)  # the stored mentions too
    assert len(store.load_embeddings(every, "encoder-b")) == len(every)
    assert len(store.load_embeddings(old, "encoder-a")) == len(old)  # a's vectors are kept
    assert {m.mention_id for m in every} == {m.mention_id for m in old} | {
        m.mention_id for m in every if m.text in {s.text for s in later.sentences}}
    store.close()
