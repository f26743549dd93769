"""Extraction in other processes (`orchestrator._ExtractPool`): the same articles as in the
run's own process, failures with their kind, and the vectors the processes encoded for
their claim sentences stored with the articles (the claims stage encodes none again)."""
from __future__ import annotations

import time

import numpy as np

from pipeline import health, orchestrator
from pipeline.dedupe import default_embedder, embedder_name
from pipeline.dedupe.embed import RecordingEmbedder
from pipeline.extract import SentenceLabeller, extract_article
from pipeline.registry import load_sources
from pipeline.types import Kind, Source

SOURCE = Source(id="s", name="Site", homepage="https://example.org/")
PAGE = (b"<html><head><title>Sleep</title></head><body><article><h1>Sleep</h1>"
        + b"".join(b"<p>Regular exercise can improve sleep quality during early recovery, number %d.</p>" % i
                   for i in range(6)) + b"</article></body></html>")
OTHER = (b"<html><head><title>Water</title></head><body><article><h1>Water</h1>"
         + b"".join(b"<p>Drinking enough water reduces headaches in adults who exercise, study %d found.</p>" % i
                    for i in range(6)) + b"</article></body></html>")


def test_the_pool_extracts_as_this_process_does(monkeypatch):
    monkeypatch.setattr(orchestrator, "EXTRACT_POOL_AFTER", 1)
    recorded = RecordingEmbedder(default_embedder())  # the run's encoder, shared by its labellers
    pool = orchestrator._ExtractPool(2, recorded)
    try:
        first = pool(PAGE, "https://example.org/a", SOURCE, None)  # extracted here; the processes start
        deadline = time.monotonic() + 120
        while pool._usable_pool() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool._usable_pool() is not None, "the extraction processes never started"
        remote = pool(PAGE, "https://example.org/a", SOURCE, None)
        failed = pool(b"%PDF-1.4 binary", "https://example.org/a.pdf", SOURCE, None)
        other, _, _ = pool(OTHER, "https://example.org/b", SOURCE, None)  # only ever extracted in a process
    finally:
        pool.close(wait=True)
    local = extract_article(PAGE, "https://example.org/a", source=SOURCE, labeller=orchestrator.run_labeller())
    assert first == (local, None, None)  # extracted here: the harvester measures the page itself
    assert remote == (local, None, health.page_signals(PAGE, local))  # measured in the process, the same
    assert failed[0] is None and failed[1][0] == "not-html"  # the kind crosses the process boundary
    # the vectors the process encoded for the claim sentences came back to the run's encoder,
    # to be stored with the article (the claims stage then encodes none of them)
    claims = [s.text for s in other.sentences if s.kind == Kind.CLAIM]
    assert claims
    back = [recorded.get(t) for t in claims]
    assert all(v is not None for v in back)
    assert np.allclose(np.stack(back), default_embedder().encode(claims), atol=1e-5)


def test_a_pool_without_vectors_labels_as_this_process_does(monkeypatch):
    """`run_sources(vectors=False)`: the processes label from structure and cues alone, as
    `SentenceLabeller()` does here, and send no vectors back."""
    monkeypatch.setattr(orchestrator, "EXTRACT_POOL_AFTER", 1)
    recorded = RecordingEmbedder(default_embedder())
    pool = orchestrator._ExtractPool(1, recorded, vectors=False)
    try:
        first = pool(OTHER, "https://example.org/b", SOURCE, None)
        deadline = time.monotonic() + 120
        while pool._usable_pool() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool._usable_pool() is not None, "the extraction process never started"
        remote = pool(OTHER, "https://example.org/b", SOURCE, None)
    finally:
        pool.close(wait=True)
    plain = extract_article(OTHER, "https://example.org/b", source=SOURCE, labeller=SentenceLabeller())
    assert first[0] == plain and remote[0] == plain
    assert not any(recorded.get(s.text) is not None for s in plain.sentences)


def test_a_pool_that_broke_extracts_here(monkeypatch):
    monkeypatch.setattr(orchestrator, "EXTRACT_POOL_AFTER", 1)
    pool = orchestrator._ExtractPool(1)
    pool._broken = True
    assert pool(PAGE, "https://example.org/a", SOURCE, None)[0] is not None
    assert pool._pool is None


class _Counting:
    """The default encoder, counting what this process encodes through it."""

    def __init__(self) -> None:
        self.inner = default_embedder()
        self.name = embedder_name(self.inner)  # the processes' encoder: the run keeps its processes
        self.encoded: list[str] = []

    def encode(self, texts):
        self.encoded.extend(texts)
        return self.inner.encode(texts)


class _Ready(orchestrator._ExtractPool):
    """Waits for the processes instead of extracting here meanwhile, so that every page
    after the first goes to them whatever this machine's speed."""

    def _usable_pool(self):
        deadline = time.monotonic() + 120
        pool = super()._usable_pool()
        while pool is None and not self._broken and self._here and time.monotonic() < deadline:
            time.sleep(0.05)
            pool = super()._usable_pool()
        return pool


def test_a_run_stores_the_vectors_its_extraction_processes_encoded(partner_sites, tmp_path, store, monkeypatch):
    monkeypatch.setattr(orchestrator, "EXTRACT_POOL_AFTER", 1)
    monkeypatch.setattr(orchestrator, "_ExtractPool", _Ready)
    counting = _Counting()
    report = orchestrator.run_sources(load_sources(partner_sites.write_sources(tmp_path / "sources")), store,
                                      embedder=counting, extract_processes=2)
    assert report.ok
    mentions = [m for c in store.claim_states() for m in c.members]
    assert len(store.load_embeddings(mentions, counting.name)) == len(mentions) > 20  # all cached
    assert len(counting.encoded) == len(set(counting.encoded))  # nothing encoded twice here
    # the claim sentences the processes labelled were not encoded again here
    assert len(set(counting.encoded)) < len({m.text for m in mentions})
