"""The run, in phases: the only module that knows the order of the stages (fetch ->
discover/feeds -> extract -> store -> dedupe). Only the library API (`pipeline.core`)
calls it; it takes no lock and installs no signal handler (the API owns both).

A run, as `run_sources` composes it (after reader's `_update`: each phase its own piece):

1. `_begin`: the run is recorded as `running`; mentions an interrupted run left unclustered
   are clustered first; the registry is synced; every stored validator is loaded. Sources
   not due (`plan.source_due`: their interval has not passed since their last harvest) are
   set aside untouched, with no request at all, unless the run is forced.
2. `_HarvestPool`: each source is harvested in a worker thread (`harvest.Harvester`:
   network and extraction, no writes), at most 2 x workers sources in flight; when the stop
   event is set, no request starts any more and what comes back within a grace period is
   kept.
3. `_Recorder`: the main thread judges and stores what each harvest returns. Each new
   version of a page is compared with the article's stored one and the partner's baseline
   (`health.judge_page`); a suspicious one is held aside (its snapshot kept, the last good
   version left current, its validators forgotten so the next run reads it again) until the
   same version is seen on a later run; the rest is stored, one transaction per article, so
   one broken feed, page or partner never stops the others; the source's health for the
   run (`health.judge_source`) is recorded with what its pages yielded. Sources that fetched
   nothing new are written in batches.
4. `_finish`: clustering (skipped when interrupted: the next run or the digest does it;
   skipped too when no article got a new current revision), the `RunResult`, the run's
   record.

A queued run (`run_queued`) has the same phases, with the tasks of a queue in place of 2
and 3: each source is harvested, judged and stored by `harvest_source` in a worker
process (`pipeline.taskqueue`), and this process waits for every outcome, then clusters.

Incremental by construction: every URL is fetched with the validators of its last fetch,
and a 304 is answered from the stored snapshot. When a feed, sitemap or blog index is
unchanged (304), the articles it lists that are already stored are not requested at all;
only those never stored successfully are (a page's validators are kept only once its
article is stored, so a failure is retried next run). Pages are re-validated anyway once
their last check is older than `recheck_after`.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

from . import clustering, health, plan
from .dedupe import Embedder
from .errors import ParseError
from .dedupe.embed import (MiniLMEmbedder, OnnxMiniLMEmbedder, RecordingEmbedder, default_embedder, embedder_name,
                           embedding_to_bytes)
from .extract import SentenceLabeller, extract_article, extract_or_error
from .fetch import Fetcher, FetchConfig
from .fetch.scope import InvalidHost, Scope
from .harvest import RECHECK_AFTER, Harvest, Harvester, Page, measure_page
from .store import KnownUrl, Store
from .types import HealthReason, Kind, Response, RunResult, Source, SourceError, SourceOutcome, SourceResult, Yields

log = logging.getLogger("syndicate")

# Sources are mostly waiting on the network: many more threads than cores pay off, and
# the per-host lock in the fetcher keeps each site at one request at a time anyway.
DEFAULT_WORKERS = 32
# After a stop, sources still fetching get this long to hand back what they have; no new
# request starts meanwhile. A harvest still blocked on a socket after it is dropped (its
# pages are fetched again next run).
INTERRUPT_GRACE = 3.0
UNCHANGED_BATCH = 50  # sources that fetched nothing new, written in one transaction
# Runs of at least this many sources extract in other processes (one per core) by default:
# extraction is CPU-bound and one process holds one core; a small run is not worth starting them.
EXTRACT_POOL_MIN_SOURCES = 8
EXTRACT_POOL_AFTER = 40  # ... and start them once this many pages were extracted in the run's own process


def run_sources(sources: Iterable[Source], store: Store, *, fetch_config: FetchConfig | None = None,
                now: Callable[[], datetime] | None = None, workers: int | None = None,
                progress: Callable[[SourceResult], None] | None = None,
                recheck_after: timedelta = RECHECK_AFTER, stop: threading.Event | None = None,
                embedder: Embedder | None = None, force: bool = False,
                rules: health.Rules = health.RULES, extract_processes: int | None = None,
                vectors: bool = True) -> RunResult:
    """Ingest every source once (those due, or all with `force`), store, cluster. Never
    raises for a partner's fault.

    `vectors=False`: sentences are labelled from structure and cues alone, without the
    sentence encoder (as `syndicate extract` does); no label vectors are computed, so the
    claims stage encodes the claim sentences itself.

    `extract_processes`: pages are extracted in that many other processes (0: in this
    one); default: one per core when the machine has several and the run has at least
    `EXTRACT_POOL_MIN_SOURCES` sources due. The processes start once `EXTRACT_POOL_AFTER`
    pages were extracted here, so a run where little changed starts none. The processes
    label sentences with the default encoder, so a run given another `embedder` extracts in
    this process.

    Setting `stop` interrupts the run: no request starts any more, sources not begun are
    skipped, what was fetched is stored, clustering is left to the next run (or the
    digest), and the run is recorded `interrupted` with its counts."""
    clock = now or (lambda: datetime.now(timezone.utc))
    stop = stop or threading.Event()
    sources = list(sources)
    started = clock()
    run_id, known = _begin(store, sources, clock, stop, embedder)
    due, not_due = _due(store, sources, started, force)
    robots = _RobotsMemory(store, known)
    fetcher = Fetcher(fetch_config, robots_cache=robots)
    # shared by the run's labellers
    label_vectors = RecordingEmbedder(embedder or default_embedder()) if vectors else None
    if extract_processes is None:
        cores = os.cpu_count() or 1
        extract_processes = cores if cores > 1 and len(due) >= EXTRACT_POOL_MIN_SOURCES else 0
    if extract_processes > 0 and label_vectors is not None and \
            label_vectors.name != embedder_name(default_embedder()):
        # the processes label with the default encoder: every page of a run is labelled by one encoder
        log.info("extracting in this process: extraction processes label with the default sentence encoder, "
                 "not the run's %s", label_vectors.name)
        extract_processes = 0
    extractor = _ExtractPool(extract_processes, label_vectors, vectors=vectors) if extract_processes > 0 else None
    pool = _HarvestPool(fetcher, store, known, started, recheck_after, stop, workers, label_vectors, extractor,
                        vectors=vectors)
    recorder = _Recorder(store, clock, _RunContext(run_id, started, rules, store.held_source_ids(), label_vectors))
    for result in not_due:
        recorder.results.append(result)
        if progress:
            progress(result)
    try:
        for harvest in pool.harvests(due):
            result = recorder.add(harvest)
            del harvest  # it holds every page body of the source
            if progress:
                progress(result)
        recorder.flush()
        stats = dict(fetcher.stats)
    finally:
        pool.close()
        if extractor is not None:
            extractor.close(wait=not stop.is_set())
        # Harvests still blocked on a socket after an interruption are left behind (the CLI
        # exits without waiting for them); closing the client under them would only turn
        # their wait into errors.
        if not stop.is_set():
            fetcher.close()
    store.save_fetch_results([(r, True) for r in {r.url: r for r in robots.responses}.values()])  # one per host
    return _finish(store, run_id, started, clock, due, recorder.results, recorder.changed, stats, stop, embedder)


# --- 1. begin ----------------------------------------------------------------------------------

def _begin(store: Store, sources: list[Source], clock: Callable[[], datetime], stop: threading.Event,
           embedder: Embedder | None, *, validators: bool = True) -> tuple[int, dict[str, KnownUrl]]:
    """Record the run as `running`, cluster what an interrupted run left (it comes first),
    sync the registry, load every stored validator (not for a queued run: each task reads
    those of its source's hosts)."""
    previous = store.last_runs(1)
    run_id = store.start_run(clock())
    # an interrupted run may also have stored revisions whose claims were never refreshed
    left_over = bool(previous) and previous[0].status in ("interrupted", "abandoned")
    if (left_over or store.has_unclustered()) and not stop.is_set():
        clustering.cluster_new_mentions(store, clock(), embedder=embedder)
    store.sync_sources(sources)
    return run_id, store.all_validators() if validators else {}


def _due(store: Store, sources: list[Source], now: datetime, force: bool) -> tuple[list[Source], list[SourceResult]]:
    """The sources due in this run, and a result for each one that is not (no request is
    made for it): `plan.source_due` on its last harvest, its registry interval and the pace
    its listings asked for. `force`: every source is due."""
    if force:
        return sources, []
    known = store.due_state()
    due, not_due = [], []
    for src in sources:
        last, hint, state = known.get(src.id, (None, None, None))
        decision = plan.source_due(now=now, last_harvest=last, registry=src.interval, hint=hint, last_state=state)
        if decision.due:
            due.append(src)
        else:
            not_due.append(SourceResult(src.id, skipped_until=decision.next_at, refresh=decision.interval))
            log.info("%s: not due until %s (interval %s s, from %s)", src.id, decision.next_at,
                     decision.interval.seconds, decision.interval.origin)
    return due, not_due


class _RobotsMemory:
    """The fetcher's RobotsCache over the store: robots.txt validators and bodies from the
    preloaded map and the snapshot store; new responses collected for the main thread."""

    def __init__(self, store: Store, known: dict[str, KnownUrl]):
        self._store = store
        self.known = known
        self.responses: list[Response] = []

    def lookup(self, url: str) -> tuple[str | None, str | None, bytes] | None:
        k = self.known.get(url)
        if k is None or k.snapshot_sha256 is None:
            return None
        body = self._store.snapshot_body(k.snapshot_sha256)
        return None if body is None else (k.etag, k.last_modified, body)

    def store(self, response: Response) -> None:
        self.responses.append(response)  # list.append is atomic; read after the pool is done


# --- 2. harvest (worker threads: network and extraction, no writes) -------------------------------

class _HarvestPool:
    """Harvests sources in worker threads and hands them back in the order they finish."""

    def __init__(self, fetcher: Fetcher, store: Store, known: dict[str, KnownUrl], started: datetime,
                 recheck_after: timedelta, stop: threading.Event, workers: int | None,
                 embedder: RecordingEmbedder | None = None, extractor: "_ExtractPool | None" = None, *,
                 vectors: bool = True):
        self.fetcher, self.store, self.known, self.embedder = fetcher, store, known, embedder
        self.extractor, self.vectors = extractor, vectors
        self.started, self.recheck_after, self.stop = started, recheck_after, stop
        self.workers = max(1, workers or DEFAULT_WORKERS)
        self.pool = ThreadPoolExecutor(max_workers=self.workers)
        self.abandoned = 0  # sources still fetching when the grace period after a stop ran out

    def harvests(self, sources: Iterable[Source]) -> Iterator[Harvest]:
        todo = iter(sources)
        in_flight: set[Future] = set()
        # Each future puts itself here when done: handing on a finished harvest costs the
        # same whatever the number in flight (`concurrent.futures.wait` on every future in
        # flight, once per source, was a tenth of a no-change run's CPU).
        finished: queue.SimpleQueue[Future] = queue.SimpleQueue()

        def submit_next() -> None:
            src = next(todo, None) if not self.stop.is_set() else None
            if src is not None:
                fut = self.pool.submit(_harvest, src, self.fetcher, self.store, self.known, self.started,
                                       self.recheck_after, self.embedder, self.extractor, vectors=self.vectors)
                in_flight.add(fut)
                fut.add_done_callback(finished.put)

        # At most 2 x workers sources in flight: when storing falls behind, finished harvests
        # (every page body of a source) must not pile up in memory.
        for _ in range(2 * self.workers):
            submit_next()
        give_up_at = None
        while in_flight:
            try:
                fut = finished.get(timeout=0.2)
            except queue.Empty:
                fut = None
            if self.stop.is_set() and give_up_at is None:
                self.fetcher.stop()  # every request not yet started now fails at once, kind "interrupted"
                for f in [f for f in in_flight if f.cancel()]:
                    in_flight.discard(f)  # never started
                give_up_at = time.monotonic() + INTERRUPT_GRACE
            if fut is None or fut not in in_flight:  # nothing finished (or one cancelled above)
                if give_up_at is not None and time.monotonic() > give_up_at:
                    self.abandoned = len(in_flight)
                    log.warning("interrupted: %d source(s) still fetching were dropped", self.abandoned)
                    return
                continue
            in_flight.discard(fut)  # drop the future as soon as it is handed on: it holds every body
            if fut.cancelled():
                continue
            harvest = fut.result()
            del fut
            submit_next()
            yield harvest

    def close(self) -> None:
        self.pool.shutdown(wait=not self.stop.is_set(), cancel_futures=True)


def run_labeller(embedder: Embedder | RecordingEmbedder | None = None, *, vectors: bool = True) -> SentenceLabeller:
    """How a run labels sentences: the shipped label model reading each open sentence's
    vector, from the encoder the claims stage uses (docs/labels.md). The encoder remembers
    what it encoded (`RecordingEmbedder`, one per run): those vectors are stored with the
    articles, so the claims stage does not encode the same sentences again. `vectors=False`:
    structure and cues alone, no encoder (`run_sources(vectors=False)`)."""
    if not vectors:
        return SentenceLabeller()
    if not isinstance(embedder, RecordingEmbedder):
        embedder = RecordingEmbedder(embedder or default_embedder())
    return SentenceLabeller(embedder=embedder)


_CHILD_LABELLER: SentenceLabeller | None = None  # in an extraction process


def one_encoder_thread() -> None:
    """The sentence encoder of this process computes on one thread: for processes started
    one per core (extraction processes, task-queue workers), where more threads per process
    only compete for the same cores. Called before the encoder's first use."""
    encoder = default_embedder()
    if isinstance(encoder, (OnnxMiniLMEmbedder, MiniLMEmbedder)):
        encoder.threads = 1  # read when the model loads, on the first encode


def _extraction_process_start(vectors: bool = True) -> None:
    """An extraction process's start: its labeller (the sentence encoder loads on first
    use), and one thread for the encoder, since a process per core is already running."""
    global _CHILD_LABELLER
    if vectors:
        one_encoder_thread()
    _CHILD_LABELLER = run_labeller(vectors=vectors)


def _extract_in_process(body: bytes, url: str, source: Source, entry, status: int = 200):
    """In an extraction process: (article, error, the page's health signals), with the
    name of the encoder that labelled the sentences and the vectors of the article's claim
    sentences, which the run's process stores for the claims stage (`_ExtractPool`)."""
    article, error = extract_or_error(body, url, source, entry, labeller=_CHILD_LABELLER)
    signals = measure_page(body, article, status, source.id) if article is not None else None
    encoder = _CHILD_LABELLER.embedder
    if encoder is None:  # labelled without vectors
        return (article, error, signals), None, {}
    vectors = _claim_vectors(article, encoder) if article is not None else {}
    return (article, error, signals), embedder_name(encoder), vectors


def _extraction_ready() -> bool:
    """Run first in each new process: the package and the label model are loaded."""
    return _CHILD_LABELLER is not None


class _ExtractPool:
    """Pages extracted in other processes, so that a run uses more than one core: a harvest
    thread hands over a page's bytes and waits (holding no GIL meanwhile).

    The processes are spawned (nothing of this process's threads or connections is
    inherited) once `EXTRACT_POOL_AFTER` pages have been extracted here, so a small run or
    one where little changed never pays for starting them; until they have started, and
    for good if they die, pages are extracted in this process (labelled with `embedder`,
    the run's shared encoder). Each process labels with its own default encoder; the claim
    sentences' vectors it computed come back with the article and join `embedder`'s, to be
    stored with the article, when they are that encoder's (same name); otherwise the
    claims stage encodes them."""

    def __init__(self, processes: int, embedder: RecordingEmbedder | None = None, *, vectors: bool = True):
        self.processes = processes
        self.embedder = embedder
        self.vectors = vectors
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[Future] = []
        self._ready = False
        self._lock = threading.Lock()
        self._here = 0
        self._broken = False
        self._labeller: SentenceLabeller | None = None

    def __call__(self, body: bytes, url: str, source: Source, entry, status: int = 200):
        pool = self._usable_pool()
        if pool is not None:
            try:
                result, encoder, vectors = pool.submit(_extract_in_process, body, url, source, entry,
                                                       status).result()
            except (BrokenProcessPool, RuntimeError) as e:  # a process died, or the pool is shutting down
                if not self._broken:
                    log.warning("extraction processes unusable (%s); extracting in this process", e)
                self._broken = True
            else:
                if self.embedder is not None and encoder is not None and encoder == self.embedder.name:
                    self.embedder.remember(vectors)
                return result
        if self._labeller is None:
            self._labeller = run_labeller(self.embedder, vectors=self.vectors)
        return (*extract_or_error(body, url, source, entry, labeller=self._labeller), None)

    def _usable_pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._broken:
                return None
            if self._pool is None:
                self._here += 1
                if self._here >= EXTRACT_POOL_AFTER:
                    self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=_extraction_process_start,
                                                     initargs=(self.vectors,))
                    self._warming = [self._pool.submit(_extraction_ready) for _ in range(self.processes)]
                return None
            if not self._ready:
                self._ready = all(f.done() for f in self._warming)
                if any(f.done() and f.exception() is not None for f in self._warming):
                    self._broken = True
                    return None
            return self._pool if self._ready else None

    def close(self, *, wait: bool) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=wait, cancel_futures=True)


def _harvest(source: Source, fetcher: Fetcher, store: Store, known: dict[str, KnownUrl], now: datetime,
             recheck_after: timedelta, embedder: RecordingEmbedder | None = None,
             extractor: _ExtractPool | None = None, *, vectors: bool = True) -> Harvest:
    try:
        harvester = Harvester(source, fetcher, store, known, now, recheck_after,
                              labeller=run_labeller(embedder, vectors=vectors),
                              extractor=extractor)
    except InvalidHost as e:  # a host the registry names (or allows) is not a valid host
        h = Harvest(source)
        h.errors.append(SourceError("bad-url", f"the registry entry names an invalid host or URL: {e}",
                                    source.homepage))
        return h
    try:
        return harvester.run()
    except Exception as e:  # a bug on one partner's data must not take the run down
        if fetcher.stopping.is_set():
            return Harvest(source, interrupted=True)
        log.exception("%s: unexpected failure", source.id)
        h = Harvest(source)
        h.errors.append(SourceError("internal", f"{type(e).__name__}: {e}", source.homepage))
        return h


# --- 3. store (the main thread) ---------------------------------------------------------------

@dataclass(slots=True)
class _RunContext:
    run_id: int
    started: datetime
    rules: health.Rules
    held_sources: set[str] = field(default_factory=set)  # sources with pages held aside before this run
    label_vectors: RecordingEmbedder | None = None  # what the run's labellers encoded


class _Recorder:
    """Judges and stores each harvest as it comes back and records the source's health;
    sources that fetched nothing new (most sources, most weeks: only validators and health
    to write) are batched, so that a run of hundreds of unchanged sources is a few
    transactions."""

    def __init__(self, store: Store, clock: Callable[[], datetime], run: _RunContext):
        self.store, self.clock, self.run = store, clock, run
        self.results: list[SourceResult] = []
        self.changed = False  # some article got a new current revision: clustering has work
        self._unchanged: list[tuple[Harvest, SourceResult]] = []

    def add(self, harvest: Harvest) -> SourceResult:
        if _nothing_to_store(harvest) and harvest.source.id not in self.run.held_sources:
            result = _result(harvest)
            self._unchanged.append((harvest, result))
            if len(self._unchanged) >= UNCHANGED_BATCH:
                self.flush()
        else:
            stored = _store_harvest(harvest, self.store, self.clock(), self.run)
            result = stored.result
            self.changed |= stored.changed
            if not harvest.interrupted:  # a half-read source says nothing of its health
                self.store.record_source_result(result, self.clock(), run_id=self.run.run_id,
                                                started=self.run.started)
        self.results.append(result)
        return result

    def flush(self) -> None:
        """Validators (304s, failures) and health of the batched sources."""
        batch = self._unchanged
        if not batch:
            return
        self.store.save_fetch_results([(f.response, f.keep) for h, _ in batch for f in h.fetched],
                                      [x for h, _ in batch for x in h.failures], snapshots=False)
        self.store.record_source_results([r for h, r in batch if not h.interrupted], self.clock(),
                                         run_id=self.run.run_id, started=self.run.started)
        batch.clear()


@dataclass(slots=True)
class _Judged:
    """What health made of one new version of a page."""

    content_hash: str
    reasons: tuple[HealthReason, ...] = ()
    hold: bool = False  # kept aside: the last good version stays current
    confirmed: bool = False  # suspicious, but seen again on a later run: stored


def _judge(h: Harvest, store: Store, run: _RunContext):
    """Each new version of the harvest's pages against the article's stored version and
    the partner's baseline: {page url: _Judged}; what the pages yielded; the baseline. A
    version equal to the stored one is not judged (nothing changed)."""
    pages = [p for p in h.pages if p.article is not None]
    if not pages:
        return {}, None, None
    sid = h.source.id
    urls = {p.url: _article_url(p) for p in pages}
    versions = store.current_versions(sid, list(set(urls) | set(urls.values())))
    baseline = health.baseline_of(store.good_yields(sid), run.rules) or \
        health.baseline_of_articles(store.article_yields(sid), run.rules)
    held = store.held_versions(sid) if sid in run.held_sources else {}
    signals = []
    judged: dict[str, _Judged] = {}
    for page in pages:
        sig = page.signals or health.page_signals(b"", page.article)
        signals.append(sig)
        digest = store.version_hash(page.article)
        stored = versions.get(urls[page.url]) or versions.get(page.url)
        if stored is not None and stored[0] == digest:
            judged[page.url] = _Judged(digest)  # the stored version again (a recovery, or a re-check)
            continue
        previous = health.Version(len(stored[1]), stored[2], frozenset(map(health.normalise, stored[1])),
                                  stored[0]) if stored is not None else None
        verdict = health.judge_page(sig, previous, baseline, run.rules, url=page.url)
        if not verdict.suspicious:
            judged[page.url] = _Judged(digest)
            continue
        was = held.get(page.url)
        if was is not None and was[0] == digest and was[1] != run.run_id:
            note = HealthReason("confirmed", "the same version was seen again on a later run: it replaced the "
                                             "last good one", page.url)
            judged[page.url] = _Judged(digest, verdict.reasons + (note,), confirmed=True)
        else:
            judged[page.url] = _Judged(digest, verdict.reasons, hold=True)
    return judged, health.yields_of(signals), baseline


def _article_url(page: Page) -> str:
    """The URL an article is stored under: the target of a permanent redirect, its
    canonical URL on the same site, else the URL requested."""
    if page.response is not None and page.response.permanent_redirect:
        return page.response.final_url
    canonical = page.article.meta.canonical_url if page.article is not None else None
    return canonical if _same_site(canonical, page.url) else page.url


@dataclass(frozen=True, slots=True)
class _Stored:
    result: SourceResult
    changed: bool = False  # some article's current revision is another one
    revisions: tuple[int, ...] = ()  # revisions stored anew


def _store_harvest(h: Harvest, store: Store, now: datetime, run: _RunContext) -> _Stored:
    """Snapshots first (revisions and held pages point at them), then one transaction per
    article, then the validators of the pages whose article was stored: one write of each
    kind per source. A page's validators say "stored" (a 304 is answered from its snapshot,
    and an unchanged listing skips it), so they are written only after its article: a run
    killed in between leaves the page to be fetched again, never skipped without its
    article. A held page's validators are forgotten, so the next run reads it again."""
    errors = list(h.errors)
    pending = {p.url: p.fetched for p in h.pages if p.article is not None and p.fetched is not None}
    try:
        judged, yields, baseline = _judge(h, store, run)
    except Exception as e:  # a bug in judging must not lose the harvest: stored as before health
        log.exception("%s: could not judge the pages' health", h.source.id)
        judged, yields, baseline = {}, None, None
        errors.append(SourceError("internal", f"health: {type(e).__name__}: {e}", h.source.homepage))
    try:
        shas = store.save_fetch_results([(f.response, f.keep) for f in h.fetched], h.failures,
                                        prepared={f.response.url: f.snapshot for f in h.fetched if f.snapshot},
                                        defer=set(pending))
    except Exception as e:
        log.exception("%s: could not store the fetched responses", h.source.id)
        errors.append(SourceError("store", f"{type(e).__name__}: {e}", h.source.homepage))
        return _Stored(SourceResult(h.source.id, errors=tuple(errors), warnings=tuple(h.warnings),
                                    off_scope=len(h.off_scope), duration=h.duration))
    new_articles = new_revisions = new_mentions = seen = held = 0
    vectors: dict = {}  # claim sentences' vectors encoded for their labels, for the claims stage
    changed = False
    revisions: list[int] = []
    checked: list[str] = []
    page_reasons: list[HealthReason] = []
    for page in h.pages:
        seen += 1
        if page.article is None:
            if page.response is not None:
                checked.append(page.url)
            continue
        url = _article_url(page)
        verdict = judged.get(page.url)
        if verdict is not None and verdict.hold:
            try:
                store.hold_page(h.source.id, page.url, article_url=url, guid=page.guid,
                                snapshot_sha256=shas.get(page.url), content_hash=verdict.content_hash,
                                reasons=verdict.reasons, run_id=run.run_id, now=now)
            except Exception as e:
                log.exception("%s: could not hold %s", h.source.id, page.url)
                errors.append(SourceError("store", f"{type(e).__name__}: {e}", page.url))
            held += 1
            page_reasons.extend(verdict.reasons)
            if page.fetched is not None:
                page.fetched.keep = False  # read in full next run: the version is to be seen again
            log.warning("%s: held %s aside: %s", h.source.id, page.url,
                        "; ".join(r.message for r in verdict.reasons))
            continue
        if verdict is not None:
            page_reasons.extend(verdict.reasons)  # confirmed ones: stored, and said
        previous = page.url if page.response is not None and page.response.permanent_redirect else None
        try:
            saved = store.save_article(h.source.id, url or page.url, page.article, guid=page.guid,
                                       snapshot_sha256=shas.get(page.url), previous_url=previous,
                                       fetched_at=page.response.fetched_at if page.response else now)
        except Exception as e:  # keep the other articles of this source
            log.exception("%s: could not store %s", h.source.id, page.url)
            errors.append(SourceError("store", f"{type(e).__name__}: {e}", page.url))
            if page.fetched is not None:
                page.fetched.keep = False
                store.save_fetch_results([(page.fetched.response, False)], snapshots=False)
                pending.pop(page.url, None)
            continue
        new_articles += saved.new_article
        new_revisions += saved.new_revision and not saved.new_article
        new_mentions += len(page.article.sentences) if saved.new_revision else 0
        changed |= saved.current_changed
        if saved.new_revision:
            revisions.append(saved.revision_id)
            vectors.update(_claim_vectors(page.article, run.label_vectors))
    _save_vectors(store, vectors, h.source.id, run.label_vectors)
    if pending:
        store.save_fetch_results([(f.response, f.keep) for f in pending.values()], snapshots=False)
    store.mark_articles_checked(h.source.id, checked, now)
    page_reasons.extend(_release_held(h, store, run, judged))
    verdict = health.judge_source(errors=len(errors), pages=page_reasons, run=yields, baseline=baseline,
                                  rules=run.rules)
    return _Stored(SourceResult(h.source.id, articles_seen=seen, new_articles=new_articles,
                                new_revisions=new_revisions, errors=tuple(errors), warnings=tuple(h.warnings),
                                off_scope=len(h.off_scope), interrupted=h.interrupted, health=verdict.reasons,
                                held=held, yields=yields, new_mentions=new_mentions, duration=h.duration,
                                hint=plan.publisher_hint(h.hints)),
                   changed, tuple(revisions))


def _claim_vectors(article, recorded: RecordingEmbedder | None) -> dict:
    """{text: vector} of the article's claim sentences that the labeller encoded."""
    if recorded is None:
        return {}
    found = ((s.text, recorded.get(s.text)) for s in article.sentences if s.kind == Kind.CLAIM)
    return {t: v for t, v in found if v is not None}


def _save_vectors(store: Store, vectors: dict, source_id: str, encoder: RecordingEmbedder | None) -> None:
    """The vectors of the new claim sentences into the store's cache (the claims stage
    reads them there). Only a cache: a failure costs an encoding later, nothing else."""
    if not vectors:
        return
    try:
        store.save_embeddings({t: embedding_to_bytes(v) for t, v in vectors.items()}, embedder_name(encoder))
    except Exception:
        log.exception("%s: could not cache the sentence vectors", source_id)


def _release_held(h: Harvest, store: Store, run: _RunContext, judged: dict[str, "_Judged"]) -> list[HealthReason]:
    """Held pages of the source after this harvest. Released: those found again as a
    version that is not held (recovered, or confirmed and stored), and, when the harvest
    read every listing, those no longer listed. The others still wait: said once."""
    if h.source.id not in run.held_sources:
        return []
    held = store.held_versions(h.source.id)
    settled = [u for u in held if u in judged and not judged[u].hold]
    complete = not (h.errors or h.interrupted or h.over_budget)
    listed = {p.url for p in h.pages}
    gone = [u for u in held if complete and u not in listed]
    if settled or gone:
        store.release_held(h.source.id, settled + gone)
    waiting = [u for u in held if u not in settled and u not in gone and u not in judged]
    if not waiting:
        return []
    return [HealthReason("held", f"{len(waiting)} page(s) held aside on an earlier run still wait to be seen "
                                 f"again or accepted (syndicate sources accept {h.source.id})")]


def _nothing_to_store(h: Harvest) -> bool:
    return all(p.article is None and p.response is None for p in h.pages) and \
        not any(f.response.status == 200 for f in h.fetched)


def _result(h: Harvest) -> SourceResult:
    """A source that fetched nothing new: failed (its errors) or healthy."""
    return SourceResult(h.source.id, articles_seen=len(h.pages), errors=tuple(h.errors),
                        warnings=tuple(h.warnings), off_scope=len(h.off_scope), interrupted=h.interrupted,
                        duration=h.duration, hint=plan.publisher_hint(h.hints))


def _same_site(canonical: str | None, url: str) -> bool:
    return bool(canonical) and urlsplit(canonical).netloc == urlsplit(url).netloc


# --- 4. finish ----------------------------------------------------------------------------------

def _finish(store: Store, run_id: int, started: datetime, clock: Callable[[], datetime], sources: list[Source],
            results: list[SourceResult], changed: bool, stats: dict, stop: threading.Event,
            embedder: Embedder | None) -> RunResult:
    """Clustering (not when interrupted), the result and its record. When no article got a
    new current revision, clustering has nothing to refresh: a no-change run costs nothing
    there, whatever the size of the database."""
    interrupted = stop.is_set()
    new_claims = 0 if interrupted else clustering.cluster_new_mentions(store, clock(), embedder=embedder,
                                                                        changed=changed)
    ran = sum(not r.skipped for r in results)
    result = RunResult(sources=tuple(sorted(results, key=lambda r: r.source_id)), requests=stats["requests"],
                       not_modified=stats["not_modified"], conditional=stats["conditional"],
                       retries=stats["retries"], robots_blocked=stats["robots_blocked"], new_claims=new_claims,
                       started_at=started, finished_at=clock(), interrupted=interrupted,
                       sources_not_run=len(sources) - ran if interrupted else 0,
                       unclustered=store.count_unclustered() if interrupted else 0, bytes=stats.get("bytes", 0))
    store.finish_run(run_id, result.finished_at, result.ok and not interrupted, result.summary(),
                     status="interrupted" if interrupted else None)
    return result


# --- a run through a task queue: the submitter's phases and one worker's task ------------------

class Submission(Protocol):
    """A queued run's tasks, once submitted (`pipeline.taskqueue` implements it)."""

    def outcomes(self, stop: threading.Event) -> Iterator[SourceOutcome]:
        """Each source's outcome as its task finishes; ends when every task has (or when
        `stop` is set)."""

    def cancel(self) -> None:
        """Tasks not started yet are dropped (the run was stopped)."""


class Dispatcher(Protocol):
    def submit(self, run_id: int, sources: Sequence[Source], *, fetch_config: FetchConfig | None,
               recheck_after: timedelta, started: datetime) -> Submission: ...


def run_queued(sources: Iterable[Source], store: Store, dispatcher: Dispatcher, *,
               fetch_config: FetchConfig | None = None, now: Callable[[], datetime] | None = None,
               progress: Callable[[SourceResult], None] | None = None,
               recheck_after: timedelta = RECHECK_AFTER, stop: threading.Event | None = None,
               embedder: Embedder | None = None, force: bool = False) -> RunResult:
    """A run whose sources are harvested by task-queue workers (`harvest_source`, in other
    processes or machines), each storing its source into the same database; this process
    (the run lock's holder) records the run, waits for every task, then clusters alone.

    The phases are those of `run_sources`: `_begin` (without loading validators) and
    `_due`, the tasks in place of the harvest pool and recorder, `_finish`. Setting `stop`
    drops the tasks not started, stops waiting and records the run `interrupted`."""
    clock = now or (lambda: datetime.now(timezone.utc))
    stop = stop or threading.Event()
    sources = list(sources)
    started = clock()
    run_id, _ = _begin(store, sources, clock, stop, embedder, validators=False)
    due, not_due = _due(store, sources, started, force)
    results: list[SourceResult] = []
    for result in not_due:
        results.append(result)
        if progress:
            progress(result)
    stats: Counter = Counter()
    changed = False
    submission = dispatcher.submit(run_id, due, fetch_config=fetch_config, recheck_after=recheck_after,
                                   started=started)
    try:
        for outcome in submission.outcomes(stop):
            results.append(outcome.result)
            stats.update(outcome.stats or {})
            changed |= outcome.changed
            if progress:
                progress(outcome.result)
    finally:
        if stop.is_set():
            submission.cancel()
    counts = {k: stats.get(k, 0) for k in ("requests", "not_modified", "conditional", "retries", "robots_blocked",
                                           "bytes")}
    return _finish(store, run_id, started, clock, due, results, changed, counts, stop, embedder)


def harvest_source(source: Source, store: Store, *, run_id: int, started: datetime,
                   fetch_config: FetchConfig | None = None, recheck_after: timedelta = RECHECK_AFTER,
                   rules: health.Rules = health.RULES, embedder: Embedder | None = None) -> SourceOutcome:
    """One source's task, in a task-queue worker: harvest it (reading only the validators
    of its hosts), judge and store it as `run_sources` does (snapshots, one transaction per
    article, validators after their article, health and its part of run `run_id`), and its
    robots.txt files. Safe to run again after a worker died half-way: what was stored is
    found stored (304s answered from the snapshots, unchanged content adds no revision),
    what was not is fetched again. `embedder` labels the sentences (default: the process's
    encoder); the vectors of the new claim sentences are stored in the vector cache."""
    try:
        scope = Scope.of([source.homepage, *source.feeds, source.sitemap, source.blog_index],
                         source.allowed_hosts, allow_private=source.allow_private)
        known = store.known_urls_on_hosts(scope.hosts, scope.suffixes)
    except InvalidHost:
        known = {}  # _harvest says what is wrong with the registry entry
    robots = _RobotsMemory(store, known)
    fetcher = Fetcher(fetch_config, robots_cache=robots)
    label_vectors = RecordingEmbedder(embedder or default_embedder())  # claim vectors, stored with the articles
    run = _RunContext(run_id, started, rules, store.held_source_ids() & {source.id}, label_vectors)
    try:
        harvest = _harvest(source, fetcher, store, known, started, recheck_after, label_vectors)
        pause = max([fetcher.host_delay(f.response.final_url) for f in harvest.fetched], default=0.0)
        if _nothing_to_store(harvest) and source.id not in run.held_sources:
            store.save_fetch_results([(f.response, f.keep) for f in harvest.fetched], harvest.failures,
                                     snapshots=False)
            stored = _Stored(_result(harvest))
        else:
            stored = _store_harvest(harvest, store, datetime.now(timezone.utc), run)
        del harvest  # every page body of the source
        if not stored.result.interrupted:
            store.record_source_result(stored.result, datetime.now(timezone.utc), run_id=run_id, started=started)
        store.save_fetch_results([(r, True) for r in {r.url: r for r in robots.responses}.values()])
        stats = {k: fetcher.stats.get(k, 0) for k in ("requests", "not_modified", "conditional", "retries",
                                                      "robots_blocked", "bytes")}
        return SourceOutcome(stored.result, stored.changed, stored.revisions, stats, pause)
    finally:
        fetcher.close()


# --- reprocess: extraction again, from stored snapshots ------------------------------------------

def reprocess(store: Store, sources: Iterable[Source], *, now: datetime | None = None,
              embedder: Embedder | None = None) -> RunResult:
    """Extract again from stored snapshots, without fetching: new revisions only where the
    extraction result changed; then cluster what is new."""
    when = now or datetime.now(timezone.utc)
    by_id = {s.id: s for s in sources}
    counts: dict[str, list[int]] = {}
    errors: dict[str, list[SourceError]] = {}
    labeller = run_labeller(embedder)
    for source_id, url, guid, sha, body in store.snapshots_for_reprocess():
        src = by_id.get(source_id) or Source(id=source_id, name=source_id, homepage=url)
        c = counts.setdefault(source_id, [0, 0])
        c[0] += 1
        try:
            article = extract_article(body, url, source=src, labeller=labeller)
            saved = store.save_article(source_id, url, article, guid=guid, snapshot_sha256=sha, fetched_at=when)
            c[1] += saved.new_revision
            if saved.new_revision:
                _save_vectors(store, _claim_vectors(article, labeller.embedder), source_id, labeller.embedder)
        except (ParseError, ValueError) as e:
            errors.setdefault(source_id, []).append(SourceError("extract", str(e), url))
    new_claims = clustering.cluster_new_mentions(store, when, embedder=embedder)
    results = tuple(SourceResult(sid, articles_seen=c[0], new_revisions=c[1], errors=tuple(errors.get(sid, ())))
                    for sid, c in sorted(counts.items()))
    return RunResult(sources=results, new_claims=new_claims, started_at=when, finished_at=when)
