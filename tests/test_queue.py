"""The queued path end to end: `Syndicate.run(queue=...)` submitting to real worker processes
over a real Redis, real HTTP on loopback and a real PostgreSQL database; one worker killed
with SIGKILL in the middle of a source, then the run completing with nothing lost and
nothing stored twice. Also the pieces: the queue URL, what travels, host keys."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from fixtures.embedders import HashEmbedder
from fixtures.queue.sites import SENTENCES, Sites
from pipeline import Syndicate
from pipeline.dedupe import embedder_name
from pipeline.errors import ConfigError
from pipeline.types import SourceOutcome
from pipeline.store import Store
from pipeline.taskqueue import QueueUrl, _outcome, _outcome_json, _source, host_keys
from pipeline.types import Source, SourceError, SourceResult

ROOT = Path(__file__).resolve().parents[1]
REDIS = os.environ.get("SYNDICATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture()
def queue_url():
    """A namespace of its own on the Redis server, removed afterwards."""
    import redis
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.RedisError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS} is unreachable and CI=true: {e}")
        pytest.skip(f"Redis at {REDIS} is unreachable: {e}")
    ns = f"syndicate-test-{uuid.uuid4().hex[:10]}"
    yield f"{REDIS}?namespace={ns}"
    keys = list(client.scan_iter(f"{ns}:*"))
    if keys:
        client.delete(*keys)


class _NoEncoding:
    """The submitter's embedder: the workers encode every new sentence, so clustering
    here must find every vector in the store's cache (under the name of the workers'
    encoder, whose vectors these stand for)."""

    name = embedder_name(HashEmbedder())  # the encoder of the workers (tests/fixtures/queue/worker.py)

    def encode(self, texts):
        raise AssertionError(f"the submitter was asked to encode {len(texts)} sentence(s) the workers should have")


def _worker(db: str, queue: str, *, threads: int = 2, requeue_after: float = 2.0) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fixtures" / "queue" / "worker.py"), db, queue,
                             str(threads), str(requeue_after)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    assert line.startswith("ready:"), (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.postgres
def test_queued_run_survives_a_worker_killed_mid_task(pg_url, queue_url, tmp_path):
    n, per_site = 5, 4
    with Sites(n, per_site, delay=0.4) as sites:
        sites.write_sources(tmp_path / "sources", twin=True)
        Store.open(pg_url).close()  # created and migrated before the workers start
        first = _worker(pg_url, queue_url, threads=2)
        second = None
        outcome: dict = {}
        progress: list[str] = []

        class Events:
            def registry_problem(self, p): ...
            def waiting_for_lock(self, h): ...
            def run_started(self, n): ...
            def note(self, m): ...
            def source_done(self, r):
                progress.append(r.source_id)

        def submit():
            with Syndicate(pg_url, tmp_path / "sources", embedder=_NoEncoding()) as syn:
                try:
                    outcome["result"] = syn.run(queue=queue_url, events=Events())
                except BaseException as e:  # noqa: BLE001 - handed to the test thread
                    outcome["error"] = e
        runner = threading.Thread(target=submit)
        runner.start()
        try:
            # kill the first worker once it is inside a source: some article pages served,
            # not every source done
            deadline = time.monotonic() + 60
            while len(sites.article_requests()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(sites.article_requests()) >= 3, "the worker never started fetching articles"
            killed_at = len(progress)
            first.send_signal(signal.SIGKILL)
            first.wait()
            killed = f"first worker killed at {time.monotonic():.3f}"
            assert killed_at < n + 1, "every source was done before the kill: nothing was interrupted"
            served_before = len(sites.article_requests())
            second = _worker(pg_url, queue_url, threads=2, requeue_after=2.0)
            runner.join(timeout=180)
            assert not runner.is_alive(), "the queued run did not end"
        finally:
            _stop(first)
            if second is not None:
                _stop(second)
            if runner.is_alive():
                runner.join(timeout=5)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.ok and not result.interrupted, result
    assert sorted(progress) == sorted([f"site{i}" for i in range(n)] + ["twin"])  # each reported once
    # Nothing lost, nothing twice: every article once, one revision each, each sentence once.
    store = Store.open(pg_url, create=False)
    with store.engine.connect() as c:
        articles = c.execute(text("SELECT source_id, url FROM articles")).all()
        revisions = c.execute(text("SELECT count(*) FROM revisions")).scalar()
        mentions = c.execute(text("SELECT count(*) FROM mentions WHERE kind = 'claim'")).scalar()
        claimed = c.execute(text("SELECT count(*) FROM claim_members")).scalar()
        health = c.execute(text("SELECT count(*) FROM sources WHERE last_success_at IS NOT NULL")).scalar()
    assert len(articles) == len(set(articles)) == (n + 1) * per_site
    assert revisions == (n + 1) * per_site
    assert mentions >= (n + 1) * per_site * len(SENTENCES) and claimed == mentions  # all encoded by workers, clustered
    assert health == n + 1
    assert sum(r.new_articles for r in result.sources) <= (n + 1) * per_site
    # the second worker did the rest, and the source cut short was fetched again
    assert len(sites.article_requests()) > served_before
    # politeness held across workers: one request at a time per host, the twin included
    assert max(sites.max_in_flight.values()) == 1, (sites.max_in_flight, sites.overlaps, killed)
    store.close()


@pytest.mark.postgres
def test_queued_rerun_stores_nothing_new(pg_url, queue_url, tmp_path):
    with Sites(2, 2, delay=0.0) as sites:
        sites.write_sources(tmp_path / "sources")
        Store.open(pg_url).close()
        worker = _worker(pg_url, queue_url, threads=4)
        try:
            with Syndicate(pg_url, tmp_path / "sources", embedder=HashEmbedder()) as syn:
                first = syn.run(queue=queue_url)
                counts = syn.store().table_counts()
                second = syn.run(queue=queue_url)
                assert syn.store().table_counts() == counts
        finally:
            _stop(worker)
    assert first.ok and sum(r.new_articles for r in first.sources) == 4
    assert second.ok and second.requests == second.not_modified == 6  # robots, homepage, feed per site


def test_queue_needs_postgres_and_a_redis_url(tmp_path):
    syn = Syndicate(tmp_path / "x.sqlite", tmp_path)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        syn.run(queue="redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigError, match="PostgreSQL"):
        syn.work("redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigError, match="redis://"):
        QueueUrl.parse("amqp://guest@127.0.0.1//")
    q = QueueUrl.parse("redis://:secret@127.0.0.1:6379/2?namespace=partners&socket_timeout=5")
    assert q.namespace == "partners" and "namespace" not in q.redis_url and "socket_timeout=5" in q.redis_url
    assert "secret" not in q.display()


def test_what_travels_comes_back_the_same():
    src = Source(id="a", name="A", homepage="https://a.example/", feeds=("https://a.example/feed",),
                 selectors=(("content", "article"),), aliases=("Ay",), allowed_hosts=("*.cdn.example",),
                 allow_private=True)
    import dataclasses
    assert _source(dataclasses.asdict(src)) == src
    o = SourceOutcome(SourceResult("a", 3, 2, 1, (SourceError("http-404", "gone", "https://a.example/x"),),
                                   ("slow",), 4), True, (7, 8), {"requests": 5}, 1.5)
    assert _outcome(_outcome_json(o)) == o
    assert host_keys(src) == ["a.example", "www.a.example", "*.cdn.example"]  # the scope takes www. too


def test_a_task_run_again_updates_its_part_of_the_run(tmp_path):
    """A worker killed after recording its source's part of the run, before its message was
    acknowledged: the task runs again and records again; the run keeps one row for the
    source, holding the second attempt's figures (it was a unique-key error before)."""
    from datetime import datetime, timezone

    from pipeline.types import Yields

    store = Store.open(str(tmp_path / "s.sqlite"))
    store.sync_sources([Source(id="a", name="A", homepage="http://127.0.0.1:9/")])
    started = datetime.now(timezone.utc)
    run_id = store.start_run(started)
    store.record_source_result(SourceResult("a", yields=Yields(pages=1, extracted=1, sentences=3)), started,
                               run_id=run_id, started=started)
    store.record_source_result(SourceResult("a", yields=Yields(pages=4, extracted=4, sentences=9)), started,
                               run_id=run_id, started=started)
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT pages, sentences FROM source_runs WHERE run_id = :r AND source_id = 'a'"),
                         {"r": run_id}).all()
    store.close()
    assert [tuple(r) for r in rows] == [(4, 9)]
