"""The label classifier learns from editors, and a run encodes each sentence once.

- `benchmarks/train_labels.py --db URL` adds the sentences editors hid as "not a claim"
  (`Store.hidden_mentions()`) to the fit as not-claim examples: a real run of the demo sites
  into a real SQLite file, a sentence hidden through `syndicate claims hide`, then the script
  run as a program (slow: it loads all-MiniLM-L6-v2 and needs ../shared's golds).
- A run labels sentences with the encoder the claims stage uses and stores those vectors in
  the store's vector cache: no sentence text is encoded twice in one run (hashing embedder,
  no model).
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from fixtures.embedders import HashEmbedder
from fixtures.loaders import ROOT, load_benchmark, require_shared
from pipeline.cli import cli
from pipeline.demo import DEMO_SOURCES
from pipeline.extract import LabelModel, shipped_model
from pipeline.extract._label_features import SentenceContext
from pipeline.extract._labels import Candidate, candidate_features
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store


def test_a_run_encodes_each_sentence_once(tmp_path, demo_server):
    embedder = HashEmbedder()
    store = Store.open(f"sqlite:///{tmp_path / 'once.sqlite'}", create=True)
    result = run_sources(load_sources(DEMO_SOURCES), store, embedder=embedder)
    assert result.ok and result.new_claims > 0
    twice = {t: n for t, n in Counter(embedder.encoded).items() if n > 1}
    assert not twice, f"encoded more than once in one run: {list(twice)[:3]}"
    claims = [m for m in store.export_mentions() if m["kind"] == "claim"]
    assert claims and all(m["text"] in set(embedder.encoded) for m in claims)
    store.close()


def test_threads_asking_for_the_same_text_at_once_encode_it_once():
    """Two partners' pages extracted at the same time share a sentence: the second thread
    waits for the first's vector instead of encoding it again (the run above failed now
    and then on a busy machine before it did)."""
    import threading
    import time

    from pipeline.dedupe.embed import RecordingEmbedder

    class Slow(HashEmbedder):
        def encode(self, texts):
            time.sleep(0.2)  # long enough for the other thread to ask meanwhile
            return super().encode(texts)

    inner = Slow()
    recording = RecordingEmbedder(inner)
    shared = "Cold weather thickens the fluid inside joints."
    results = {}

    def ask(key, texts):
        results[key] = recording.encode(texts)

    threads = [threading.Thread(target=ask, args=(0, [shared, "Walking keeps knees supple."])),
               threading.Thread(target=ask, args=(1, ["Stretching eases stiffness.", shared]))]
    threads[0].start()
    time.sleep(0.05)
    threads[1].start()
    for t in threads:
        t.join()
    assert Counter(inner.encoded)[shared] == 1, inner.encoded
    assert np.allclose(results[0][0], results[1][1]) and results[1].shape == (2, HashEmbedder.dim)


@pytest.mark.slow
def test_train_labels_db_learns_the_editors_hidden_sentences(tmp_path, demo_server, monkeypatch):
    require_shared("gold/claims.json", "claims-dev/claims.json")
    monkeypatch.setattr("pipeline.dedupe.embed._default", HashEmbedder())  # the run itself loads no model
    db = f"sqlite:///{tmp_path / 'answers.sqlite'}"
    store = Store.open(db, create=True)
    assert run_sources(load_sources(DEMO_SOURCES), store).ok
    # a claim sentence of the demo that an editor says is not a claim: the one the shipped
    # model (with the real sentence vectors) is least sure of, where one answer shows most
    claims = [m for m in store.export_mentions() if m["kind"] == "claim" and len(m["text"].split()) >= 6]
    store.close()
    monkeypatch.undo()  # the real sentence model from here on
    data = load_benchmark("_label_data")
    feats = np.asarray([candidate_features(Candidate(m["text"], SentenceContext())) for m in claims])
    from pipeline.dedupe.embed import default_embedder, embedder_name

    encoder = embedder_name(default_embedder())  # the head for the vectors vectors_of gives
    vecs = data.vectors_of([data.Example("t", "t", m["text"], "other", "hidden") for m in claims])
    shipped = shipped_model(encoder)
    p_claim = shipped.probabilities(feats, vecs)[:, 0]
    pick = int(np.argmin(np.abs(p_claim - shipped.threshold)))
    mention = claims[pick]
    r = CliRunner().invoke(cli, ["claims", "hide", "--mention", str(mention["mention_id"]), "--db", db])
    assert r.exit_code == 0, r.output
    out = tmp_path / "model.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_labels.py"), "--db", db, "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "editors' hidden sentences (--db): 1" in run.stdout
    model = LabelModel.from_dict(json.loads(out.read_text("utf-8")), encoder)
    assert model.encoder == shipped.encoder  # the head the package reads for this encoder's vectors
    assert model.about["fitted_on"]["editors' hidden sentences (--db)"] == {"hidden": 1}
    # the hidden sentence weighs: its P(claim) falls against the shipped model, which the
    # script gives without --db (tests/test_labels.py checks that)
    before = p_claim[pick]
    after = model.probabilities(feats[pick:pick + 1], vecs[pick:pick + 1])[0, 0]
    assert after < before - 0.02, (before, after)


def test_train_labels_db_refuses_a_missing_database(tmp_path):
    require_shared("gold/claims.json", "claims-dev/claims.json")
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_labels.py"),
                          "--db", f"sqlite:///{tmp_path / 'none.sqlite'}", "--out", str(tmp_path / "m.json")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "cannot read the hidden sentences" in run.stderr
    assert not (tmp_path / "m.json").exists()
