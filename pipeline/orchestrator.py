"""The run: wires fetch -> discover/feeds -> extract -> store -> dedupe. The only module
that knows the order of the stages; only the CLI (and tests, benchmarks) call it.

Each source is harvested in a worker thread (`harvest.Harvester`: network and extraction,
no writes); the main thread stores what each worker returns, one transaction per article, so one broken
feed, page or partner never stops the others. Every error lands in the source's report
and in its health row; `RunReport.ok` is false when any source had one.

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
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable
from urllib.parse import urlsplit

from .dedupe import (Constraints, appends_in_order, choose_canonical, cluster_claims, cluster_questions,
                     conflicting_figures, embedding_to_bytes, rebuild)
from .errors import ParseError
from .extract import extract_article
from .fetch import Fetcher, FetchConfig
from .fetch.scope import InvalidHost
from .harvest import RECHECK_AFTER, Harvest, Harvester
from .store import KnownUrl, Store
from .types import MentionInput, Response, RunReport, Source, SourceError, SourceReport

log = logging.getLogger("syndicate")
EMBEDDING_MODEL = "all-MiniLM-L6-v2"

# Sources are mostly waiting on the network: many more threads than cores pay off, and
# the per-host lock in the fetcher keeps each site at one request at a time anyway.
DEFAULT_WORKERS = 32
# After SIGINT/SIGTERM, sources still fetching get this long to hand back what they have;
# no new request starts meanwhile. A harvest still blocked on a socket after it is dropped
# (its pages are fetched again next run).
INTERRUPT_GRACE = 3.0


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


def run_sources(sources: Iterable[Source], store: Store, *, fetch_config: FetchConfig | None = None,
                now: Callable[[], datetime] | None = None, workers: int | None = None,
                progress: Callable[[str, SourceReport], None] | None = None,
                recheck_after: timedelta = RECHECK_AFTER, stop: threading.Event | None = None) -> RunReport:
    """Ingest every source once, store, cluster. Never raises for a partner's fault.

    The run is recorded as `running` when it starts. Setting `stop` (the CLI does on
    SIGINT/SIGTERM) interrupts it: no request starts any more, sources not begun are
    skipped, what was fetched is stored, clustering is left to the next run (or `digest`),
    and the run is recorded `interrupted` with its counts; `RunReport.interrupted` says so."""
    clock = now or (lambda: datetime.now(timezone.utc))
    stop = stop or threading.Event()
    sources = list(sources)
    started = clock()
    run_id = store.start_run(started)
    if store.has_unclustered() and not stop.is_set():
        cluster_new_mentions(store, clock())  # an interrupted run left these: they come first
    store.sync_sources(sources)
    known = store.all_validators()
    robots = _RobotsMemory(store, known)
    reports: list[SourceReport] = []
    n_workers = max(1, workers or DEFAULT_WORKERS)
    fetcher = Fetcher(fetch_config, robots_cache=robots)
    pool = ThreadPoolExecutor(max_workers=n_workers)
    abandoned = 0
    try:
        todo = iter(sources)
        futures: dict = {}

        def submit_next() -> None:
            src = next(todo, None) if not stop.is_set() else None
            if src is not None:
                futures[pool.submit(_harvest, src, fetcher, store, known, started, recheck_after)] = src

        # At most 2 x workers sources in flight: when storing falls behind, finished harvests
        # (every page body of a source) must not pile up in memory.
        for _ in range(2 * n_workers):
            submit_next()
        unchanged: list[tuple[Harvest, SourceReport]] = []
        give_up_at = None
        while futures:
            done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
            if stop.is_set() and give_up_at is None:
                fetcher.stop()  # every request not yet started now fails at once, kind "interrupted"
                for f in [f for f in futures if f.cancel()]:
                    futures.pop(f)  # never started
                give_up_at = time.monotonic() + INTERRUPT_GRACE
            if not done:
                if give_up_at is not None and time.monotonic() > give_up_at:
                    abandoned = len(futures)
                    log.warning("interrupted: %d source(s) still fetching were dropped", abandoned)
                    break
                continue
            fut = done.pop()
            src = futures.pop(fut)  # drop the future as soon as it is stored: it holds every body
            if fut.cancelled():
                continue
            harvest = fut.result()
            del fut, done
            submit_next()
            if _nothing_to_store(harvest):
                # Most sources, most weeks: only validators and health to write. Batched,
                # so that a run of hundreds of unchanged sources is a few transactions.
                report = _report(harvest, [])
                unchanged.append((harvest, report))
                if len(unchanged) >= UNCHANGED_BATCH:
                    _store_unchanged(unchanged, store, clock())
            else:
                report = _store_harvest(harvest, store, clock())
                if not harvest.interrupted:  # a half-read source says nothing of its health
                    store.record_source_result(report, clock())
            del harvest
            reports.append(report)
            if progress:
                progress(src.id, report)
        _store_unchanged(unchanged, store, clock())
        stats = dict(fetcher.stats)
    finally:
        # Harvests still blocked on a socket after an interruption are left behind (the CLI
        # exits without waiting for them); closing the client under them would only turn
        # their wait into errors.
        pool.shutdown(wait=not stop.is_set(), cancel_futures=True)
        if not stop.is_set():
            fetcher.close()
    robots_files = {r.url: r for r in robots.responses}  # one per host
    store.save_fetch_results([(r, True) for r in robots_files.values()])
    interrupted = stop.is_set()
    new_claims = 0 if interrupted else cluster_new_mentions(store, clock())
    reports.sort(key=lambda r: r.source_id)
    report = RunReport(sources=tuple(reports), requests=stats["requests"], not_modified=stats["not_modified"],
                       new_claims=new_claims, started_at=started, finished_at=clock(),
                       extra=(("conditional", stats["conditional"]), ("retries", stats["retries"]),
                              ("robots_blocked", stats["robots_blocked"]),
                              ("off_scope", sum(r.off_scope for r in reports))), interrupted=interrupted)
    summary = summarize(report)
    if interrupted:
        summary.update(sources_not_run=len(sources) - len(reports),
                       sources_interrupted=sum(r.interrupted for r in reports),
                       unclustered=store.count_unclustered())
    store.finish_run(run_id, report.finished_at, report.ok and not interrupted, summary,
                     status="interrupted" if interrupted else None)
    return report


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


def _store_harvest(h: Harvest, store: Store, now: datetime) -> SourceReport:
    """Snapshots first (revisions point at them), then one transaction per article, then
    the validators, kept only for what was stored: one write of each kind per source."""
    errors = list(h.errors)
    try:
        shas = store.save_fetch_results([(f.response, f.keep) for f in h.fetched], h.failures,
                                        prepared={f.response.url: f.snapshot for f in h.fetched if f.snapshot})
    except Exception as e:
        log.exception("%s: could not store the fetched responses", h.source.id)
        errors.append(SourceError("store", f"{type(e).__name__}: {e}", h.source.homepage))
        return SourceReport(h.source.id, errors=tuple(errors), warnings=tuple(h.warnings),
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
            continue
        new_articles += saved.new_article
        new_revisions += saved.new_revision and not saved.new_article
    store.mark_articles_checked(h.source.id, checked, now)
    return SourceReport(h.source.id, articles_seen=seen, new_articles=new_articles,
                        new_revisions=new_revisions, errors=tuple(errors), warnings=tuple(h.warnings),
                        off_scope=len(h.off_scope), interrupted=h.interrupted)


UNCHANGED_BATCH = 50


def _nothing_to_store(h: Harvest) -> bool:
    return all(p.article is None and p.response is None for p in h.pages) and \
        not any(f.response.status == 200 for f in h.fetched)


def _report(h: Harvest, errors: list[SourceError]) -> SourceReport:
    return SourceReport(h.source.id, articles_seen=len(h.pages), errors=tuple(h.errors) + tuple(errors),
                        warnings=tuple(h.warnings), off_scope=len(h.off_scope), interrupted=h.interrupted)


def _store_unchanged(batch: list[tuple[Harvest, SourceReport]], store: Store, now: datetime) -> None:
    """Validators (304s, failures) and health of sources that fetched nothing new."""
    if not batch:
        return
    store.save_fetch_results([(f.response, f.keep) for h, _ in batch for f in h.fetched],
                             [x for h, _ in batch for x in h.failures], snapshots=False)
    store.record_source_results([r for h, r in batch if not h.interrupted], now)
    batch.clear()


def _same_site(canonical: str | None, url: str) -> bool:
    return bool(canonical) and urlsplit(canonical).netloc == urlsplit(url).netloc


def cluster_new_mentions(store: Store, now: datetime) -> int:
    """Give every unclustered claim mention a claim (and every new FAQ entry a question),
    incrementally: stored claims are loaded, not recomputed; sentence vectors come from the
    store's cache and only new texts are encoded. Editor decisions (and the pair model fitted
    from editor answers) are constraints. When a new mention sorts before stored ones in the
    canonical order (an older article found late, a revised article), every mention is
    re-clustered instead, so that the claims are those of a rebuild (docs/dedupe.md)."""
    new = store.unclustered_mentions()
    created = 0
    if new:
        states = store.claim_states()
        old = [m for c in states for m in c.members]
        options = dict(next_claim_id=store.next_claim_id(), constraints=clustering_constraints(store),
                       pair_model=store.pair_model("claim"))
        in_order = appends_in_order(old, new)
        with _embedding_cache(store, old + new) as cache:
            if in_order:
                memberships = cluster_claims(states, new, embeddings=cache, **options)
            else:
                memberships = rebuild(states, new=new, embeddings=cache, **options)
        if in_order:
            created = store.save_memberships(memberships, now)
        else:
            known = {c.claim_id for c in states}
            store.replace_memberships(memberships, now)
            created = len({m.claim_id for m in memberships} - known)
    refresh_claims(store, now)
    questions, new_entries, next_question = store.faq_states()
    if new_entries:
        with _embedding_cache(store, [m for q in questions for m in q.members] + new_entries) as cache:
            store.save_faq_memberships(cluster_questions(
                questions, new_entries, next_id=next_question, embeddings=cache,
                constraints=Constraints.of(fixed=store.fixed_faq_memberships(),
                                           cannot_link_groups=store.faq_cannot_links())))
    return created


def rebuild_claims(store: Store, now: datetime) -> int:
    """Re-cluster every current claim mention from scratch (after new mentions are placed).
    Claims that carry on keep their ids; editor decisions hold. Returns memberships moved."""
    cluster_new_mentions(store, now)
    states = store.claim_states()
    if not states:
        return 0
    with _embedding_cache(store, [m for c in states for m in c.members]) as cache:
        memberships = rebuild(states, next_claim_id=store.next_claim_id(), embeddings=cache,
                              constraints=clustering_constraints(store), pair_model=store.pair_model("claim"))
    moved = store.replace_memberships(memberships, now)
    refresh_claims(store, now)
    return moved


@contextmanager
def _embedding_cache(store: Store, mentions: list[MentionInput]):
    """{mention id: vector} from the store; whatever the clustering encodes is saved back."""
    cache: dict = dict(store.load_embeddings(mentions, EMBEDDING_MODEL))
    known = set(cache)
    yield cache
    texts = {m.mention_id: m.text for m in mentions}
    fresh = {texts[mid]: embedding_to_bytes(vec) for mid, vec in cache.items()
             if mid not in known and mid in texts}
    if fresh:
        store.save_embeddings(fresh, EMBEDDING_MODEL)


def clustering_constraints(store: Store) -> Constraints:
    """The editor decisions every clustering run respects: fixed memberships (merge, split,
    pin) and the claims an editor kept apart."""
    return Constraints.of(fixed=store.fixed_memberships(), cannot_link_groups=store.cannot_links())


def refresh_claims(store: Store, now: datetime) -> None:
    """Canonical texts, first sources, conflicting figures and retirements after any change
    of membership."""
    store.refresh_claims(choose_canonical, now,
                         lambda state: [c.as_dict() for c in conflicting_figures(state.members)])


def reprocess(store: Store, sources: Iterable[Source], *, now: datetime | None = None) -> RunReport:
    """Extract again from stored snapshots, without fetching: new revisions only where the
    extraction result changed."""
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
    new_claims = cluster_new_mentions(store, when)
    reports = tuple(SourceReport(sid, articles_seen=c[0], new_revisions=c[1], errors=tuple(errors.get(sid, ())))
                    for sid, c in sorted(counts.items()))
    return RunReport(sources=reports, new_claims=new_claims, started_at=when, finished_at=when)


def summarize(report: RunReport) -> dict:
    return dict(
        sources_ok=sum(r.ok for r in report.sources),
        sources_failed=sum(not r.ok for r in report.sources),
        requests=report.requests, not_modified=report.not_modified,
        articles_seen=sum(r.articles_seen for r in report.sources),
        new_articles=sum(r.new_articles for r in report.sources),
        new_revisions=sum(r.new_revisions for r in report.sources),
        new_claims=report.new_claims,
        sources_warned=sum(bool(r.warnings) for r in report.sources),
        **dict(report.extra),
        **({"interrupted": True} if report.interrupted else {}),
        errors=[dict(source=r.source_id, kind=e.kind, message=e.message, url=e.url)
                for r in report.sources for e in r.errors],
        # the first few of each source (a feed may warn once per item); all are in the report
        warnings=[dict(source=r.source_id, message=w) for r in report.sources for w in r.warnings[:5]],
    )
