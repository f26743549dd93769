"""The run, in phases: the only module that knows the order of the stages (fetch ->
discover/feeds -> extract -> store -> dedupe). Only the library API (`pipeline.core`)
calls it; it takes no lock and installs no signal handler (the API owns both).

A run, as `run_sources` composes it (after reader's `_update`: each phase its own piece):

1. `_begin`: the run is recorded as `running`; mentions an interrupted run left unclustered
   are clustered first; the registry is synced; every stored validator is loaded.
2. `_HarvestPool`: each source is harvested in a worker thread (`harvest.Harvester`:
   network and extraction, no writes), at most 2 x workers sources in flight; when the stop
   event is set, no request starts any more and what comes back within a grace period is
   kept.
3. `_Recorder`: the main thread stores what each harvest returns, one transaction per
   article, so one broken feed, page or partner never stops the others; sources that
   fetched nothing new are written in batches.
4. `_finish`: robots.txt snapshots, clustering (skipped when interrupted: the next run or
   the digest does it), the `RunResult`, the run's record.

Incremental by construction: every URL is fetched with the validators of its last fetch,
and a 304 is answered from the stored snapshot. When a feed, sitemap or blog index is
unchanged (304), the articles it lists that are already stored are not requested at all;
only those never stored successfully are (a page's validators are kept only once its
article is stored, so a failure is retried next run). Pages are re-validated anyway once
their last check is older than `recheck_after`.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from . import clustering
from .dedupe import Embedder
from .errors import ParseError
from .extract import extract_article
from .fetch import Fetcher, FetchConfig
from .fetch.scope import InvalidHost
from .harvest import RECHECK_AFTER, Harvest, Harvester
from .store import KnownUrl, Store
from .types import Response, RunResult, Source, SourceError, SourceResult

log = logging.getLogger("syndicate")

# Sources are mostly waiting on the network: many more threads than cores pay off, and
# the per-host lock in the fetcher keeps each site at one request at a time anyway.
DEFAULT_WORKERS = 32
# After a stop, sources still fetching get this long to hand back what they have; no new
# request starts meanwhile. A harvest still blocked on a socket after it is dropped (its
# pages are fetched again next run).
INTERRUPT_GRACE = 3.0
UNCHANGED_BATCH = 50  # sources that fetched nothing new, written in one transaction


def run_sources(sources: Iterable[Source], store: Store, *, fetch_config: FetchConfig | None = None,
                now: Callable[[], datetime] | None = None, workers: int | None = None,
                progress: Callable[[SourceResult], None] | None = None,
                recheck_after: timedelta = RECHECK_AFTER, stop: threading.Event | None = None,
                embedder: Embedder | None = None) -> RunResult:
    """Ingest every source once, store, cluster. Never raises for a partner's fault.

    Setting `stop` interrupts the run: no request starts any more, sources not begun are
    skipped, what was fetched is stored, clustering is left to the next run (or the
    digest), and the run is recorded `interrupted` with its counts."""
    clock = now or (lambda: datetime.now(timezone.utc))
    stop = stop or threading.Event()
    sources = list(sources)
    started = clock()
    run_id, known = _begin(store, sources, clock, stop, embedder)
    robots = _RobotsMemory(store, known)
    fetcher = Fetcher(fetch_config, robots_cache=robots)
    pool = _HarvestPool(fetcher, store, known, started, recheck_after, stop, workers)
    recorder = _Recorder(store, clock)
    try:
        for harvest in pool.harvests(sources):
            result = recorder.add(harvest)
            del harvest  # it holds every page body of the source
            if progress:
                progress(result)
        recorder.flush()
        stats = dict(fetcher.stats)
    finally:
        pool.close()
        # Harvests still blocked on a socket after an interruption are left behind (the CLI
        # exits without waiting for them); closing the client under them would only turn
        # their wait into errors.
        if not stop.is_set():
            fetcher.close()
    return _finish(store, run_id, started, clock, sources, recorder.results, robots, stats, stop, embedder)


# --- 1. begin ----------------------------------------------------------------------------------

def _begin(store: Store, sources: list[Source], clock: Callable[[], datetime], stop: threading.Event,
           embedder: Embedder | None) -> tuple[int, dict[str, KnownUrl]]:
    """Record the run as `running`, cluster what an interrupted run left (it comes first),
    sync the registry, load every stored validator."""
    run_id = store.start_run(clock())
    if store.has_unclustered() and not stop.is_set():
        clustering.cluster_new_mentions(store, clock(), embedder=embedder)
    store.sync_sources(sources)
    return run_id, store.all_validators()


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
                 recheck_after: timedelta, stop: threading.Event, workers: int | None):
        self.fetcher, self.store, self.known = fetcher, store, known
        self.started, self.recheck_after, self.stop = started, recheck_after, stop
        self.workers = max(1, workers or DEFAULT_WORKERS)
        self.pool = ThreadPoolExecutor(max_workers=self.workers)
        self.abandoned = 0  # sources still fetching when the grace period after a stop ran out

    def harvests(self, sources: Iterable[Source]) -> Iterator[Harvest]:
        todo = iter(sources)
        futures: dict[Future, Source] = {}

        def submit_next() -> None:
            src = next(todo, None) if not self.stop.is_set() else None
            if src is not None:
                futures[self.pool.submit(_harvest, src, self.fetcher, self.store, self.known, self.started,
                                         self.recheck_after)] = src

        # At most 2 x workers sources in flight: when storing falls behind, finished harvests
        # (every page body of a source) must not pile up in memory.
        for _ in range(2 * self.workers):
            submit_next()
        give_up_at = None
        while futures:
            done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
            if self.stop.is_set() and give_up_at is None:
                self.fetcher.stop()  # every request not yet started now fails at once, kind "interrupted"
                for f in [f for f in futures if f.cancel()]:
                    futures.pop(f)  # never started
                give_up_at = time.monotonic() + INTERRUPT_GRACE
            if not done:
                if give_up_at is not None and time.monotonic() > give_up_at:
                    self.abandoned = len(futures)
                    log.warning("interrupted: %d source(s) still fetching were dropped", self.abandoned)
                    return
                continue
            fut = done.pop()
            futures.pop(fut)  # drop the future as soon as it is handed on: it holds every body
            if fut.cancelled():
                continue
            harvest = fut.result()
            del fut, done
            submit_next()
            yield harvest

    def close(self) -> None:
        self.pool.shutdown(wait=not self.stop.is_set(), cancel_futures=True)


def _harvest(source: Source, fetcher: Fetcher, store: Store, known: dict[str, KnownUrl], now: datetime,
             recheck_after: timedelta) -> Harvest:
    try:
        harvester = Harvester(source, fetcher, store, known, now, recheck_after)
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

class _Recorder:
    """Stores each harvest as it comes back and records the source's health; sources that
    fetched nothing new (most sources, most weeks: only validators and health to write) are
    batched, so that a run of hundreds of unchanged sources is a few transactions."""

    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self.store, self.clock = store, clock
        self.results: list[SourceResult] = []
        self._unchanged: list[tuple[Harvest, SourceResult]] = []

    def add(self, harvest: Harvest) -> SourceResult:
        if _nothing_to_store(harvest):
            result = _result(harvest)
            self._unchanged.append((harvest, result))
            if len(self._unchanged) >= UNCHANGED_BATCH:
                self.flush()
        else:
            result = _store_harvest(harvest, self.store, self.clock())
            if not harvest.interrupted:  # a half-read source says nothing of its health
                self.store.record_source_result(result, self.clock())
        self.results.append(result)
        return result

    def flush(self) -> None:
        """Validators (304s, failures) and health of the batched sources."""
        batch = self._unchanged
        if not batch:
            return
        self.store.save_fetch_results([(f.response, f.keep) for h, _ in batch for f in h.fetched],
                                      [x for h, _ in batch for x in h.failures], snapshots=False)
        self.store.record_source_results([r for h, r in batch if not h.interrupted], self.clock())
        batch.clear()


def _store_harvest(h: Harvest, store: Store, now: datetime) -> SourceResult:
    """Snapshots first (revisions point at them), then one transaction per article, then
    the validators of the pages whose article was stored: one write of each kind per
    source. A page's validators say "stored" (a 304 is answered from its snapshot, and an
    unchanged listing skips it), so they are written only after its article: a run killed
    in between leaves the page to be fetched again, never skipped without its article."""
    errors = list(h.errors)
    pending = {p.url: p.fetched for p in h.pages if p.article is not None and p.fetched is not None}
    try:
        shas = store.save_fetch_results([(f.response, f.keep) for f in h.fetched], h.failures,
                                        prepared={f.response.url: f.snapshot for f in h.fetched if f.snapshot},
                                        defer=set(pending))
    except Exception as e:
        log.exception("%s: could not store the fetched responses", h.source.id)
        errors.append(SourceError("store", f"{type(e).__name__}: {e}", h.source.homepage))
        return SourceResult(h.source.id, errors=tuple(errors), warnings=tuple(h.warnings),
                            off_scope=len(h.off_scope))
    new_articles = new_revisions = seen = 0
    checked: list[str] = []
    for page in h.pages:
        seen += 1
        if page.article is None:
            if page.response is not None:
                checked.append(page.url)
            continue
        url = page.article.meta.canonical_url if _same_site(page.article.meta.canonical_url, page.url) else page.url
        previous = None
        if page.response is not None and page.response.permanent_redirect:
            url, previous = page.response.final_url, page.url
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
    if pending:
        store.save_fetch_results([(f.response, f.keep) for f in pending.values()], snapshots=False)
    store.mark_articles_checked(h.source.id, checked, now)
    return SourceResult(h.source.id, articles_seen=seen, new_articles=new_articles,
                        new_revisions=new_revisions, errors=tuple(errors), warnings=tuple(h.warnings),
                        off_scope=len(h.off_scope), interrupted=h.interrupted)


def _nothing_to_store(h: Harvest) -> bool:
    return all(p.article is None and p.response is None for p in h.pages) and \
        not any(f.response.status == 200 for f in h.fetched)


def _result(h: Harvest) -> SourceResult:
    return SourceResult(h.source.id, articles_seen=len(h.pages), errors=tuple(h.errors),
                        warnings=tuple(h.warnings), off_scope=len(h.off_scope), interrupted=h.interrupted)


def _same_site(canonical: str | None, url: str) -> bool:
    return bool(canonical) and urlsplit(canonical).netloc == urlsplit(url).netloc


# --- 4. finish ----------------------------------------------------------------------------------

def _finish(store: Store, run_id: int, started: datetime, clock: Callable[[], datetime], sources: list[Source],
            results: list[SourceResult], robots: _RobotsMemory, stats: dict, stop: threading.Event,
            embedder: Embedder | None) -> RunResult:
    """robots.txt snapshots, clustering (not when interrupted), the result and its record."""
    robots_files = {r.url: r for r in robots.responses}  # one per host
    store.save_fetch_results([(r, True) for r in robots_files.values()])
    interrupted = stop.is_set()
    new_claims = 0 if interrupted else clustering.cluster_new_mentions(store, clock(), embedder=embedder)
    result = RunResult(sources=tuple(sorted(results, key=lambda r: r.source_id)), requests=stats["requests"],
                       not_modified=stats["not_modified"], conditional=stats["conditional"],
                       retries=stats["retries"], robots_blocked=stats["robots_blocked"], new_claims=new_claims,
                       started_at=started, finished_at=clock(), interrupted=interrupted,
                       sources_not_run=len(sources) - len(results) if interrupted else 0,
                       unclustered=store.count_unclustered() if interrupted else 0)
    store.finish_run(run_id, result.finished_at, result.ok and not interrupted, result.summary(),
                     status="interrupted" if interrupted else None)
    return result


# --- reprocess: extraction again, from stored snapshots ------------------------------------------

def reprocess(store: Store, sources: Iterable[Source], *, now: datetime | None = None,
              embedder: Embedder | None = None) -> RunResult:
    """Extract again from stored snapshots, without fetching: new revisions only where the
    extraction result changed; then cluster what is new."""
    when = now or datetime.now(timezone.utc)
    by_id = {s.id: s for s in sources}
    counts: dict[str, list[int]] = {}
    errors: dict[str, list[SourceError]] = {}
    for source_id, url, guid, sha, body in store.snapshots_for_reprocess():
        src = by_id.get(source_id) or Source(id=source_id, name=source_id, homepage=url)
        c = counts.setdefault(source_id, [0, 0])
        c[0] += 1
        try:
            article = extract_article(body, url, source=src)
            saved = store.save_article(source_id, url, article, guid=guid, snapshot_sha256=sha, fetched_at=when)
            c[1] += saved.new_revision
        except (ParseError, ValueError) as e:
            errors.setdefault(source_id, []).append(SourceError("extract", str(e), url))
    new_claims = clustering.cluster_new_mentions(store, when, embedder=embedder)
    results = tuple(SourceResult(sid, articles_seen=c[0], new_revisions=c[1], errors=tuple(errors.get(sid, ())))
                    for sid, c in sorted(counts.items()))
    return RunResult(sources=results, new_claims=new_claims, started_at=when, finished_at=when)
