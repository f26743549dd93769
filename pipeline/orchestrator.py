"""The run: wires fetch -> discover/feeds -> extract -> store -> dedupe. The only module
that knows the order of the stages; only the CLI (and tests, benchmarks) call it.

Each source is harvested in a worker thread (network and extraction, no writes); the
main thread stores what each worker returns, one transaction per article, so one broken
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from . import discover, plan
from .dedupe import (Constraints, appends_in_order, choose_canonical, cluster_claims, cluster_questions,
                     conflicting_figures, embedding_to_bytes, rebuild)
from .errors import BudgetExceeded, FetchError, OffScope, ParseError, ResourceError
from .extract import extract_article
from .feeds import parse_feed
from .fetch import Fetcher, FetchConfig
from .fetch.scope import InvalidHost, Scope
from .store import KnownUrl, Store
from .types import (ExtractedArticle, FeedEntry, MentionInput, Response, RunReport, Source, SourceError,
                    SourceReport)

log = logging.getLogger("syndicate")
EMBEDDING_MODEL = "all-MiniLM-L6-v2"

HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_SITEMAP_FILES = 20
MAX_ARTICLES_PER_SOURCE = 500
# Sources are mostly waiting on the network: many more threads than cores pay off, and
# the per-host lock in the fetcher keeps each site at one request at a time anyway.
DEFAULT_WORKERS = 32
RECHECK_AFTER = timedelta(days=6)  # stored pages re-validated at least this often (weekly runs: every run)
REPROBE_AFTER = timedelta(days=28)  # a missing common feed path is tried again after this
INTERRUPTED = "interrupted"  # the FetchError kind of a request refused because the run is stopping
# After SIGINT/SIGTERM, sources still fetching get this long to hand back what they have;
# no new request starts meanwhile. A harvest still blocked on a socket after it is dropped
# (its pages are fetched again next run).
INTERRUPT_GRACE = 3.0


@dataclass(slots=True)
class Fetched:
    """A response a worker got. keep=False: its body was not usable (not a page, not
    extractable, not stored), so its validators are forgotten and it is fetched in full
    next run."""

    response: Response
    keep: bool = True
    snapshot: tuple[str, bytes] | None = None  # (sha256, compressed body), made in the worker


@dataclass(slots=True)
class Page:
    """An article page a worker fetched (or found unchanged) and extracted."""

    url: str
    guid: str | None
    response: Response | None  # None when skipped (unchanged listing) or taken from the feed body
    article: ExtractedArticle | None  # None when unchanged since last time (304 or skipped)
    fetched: Fetched | None = None


@dataclass(slots=True)
class Harvest:
    source: Source
    pages: list[Page] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fetched: list[Fetched] = field(default_factory=list)
    failures: list[tuple[str, int, datetime]] = field(default_factory=list)  # (url, HTTP status, when)
    off_scope: list[str] = field(default_factory=list)  # URLs outside the fetch scope, not fetched
    over_budget: int = 0  # URLs left for the next run when the source's time budget ran out
    interrupted: bool = False  # the run was stopped while this source was harvested


@dataclass(slots=True)
class Got:
    """One GET as the harvester sees it: the response, its body (from the snapshot store
    for a 304), and whether it was unchanged."""

    response: Response
    body: bytes
    unchanged: bool
    record: Fetched


class _Harvester:
    """Fetches one source's feeds, sitemaps and pages. Runs in a worker thread; reads the
    preloaded validator map and snapshot bodies but writes nothing."""

    def __init__(self, source: Source, fetcher: Fetcher, store: Store, known: dict[str, KnownUrl],
                 now: datetime, recheck_after: timedelta = RECHECK_AFTER):
        self.source = source
        self.fetcher = fetcher
        self.store = store
        self.known = known
        self.now = now
        self.recheck_after = recheck_after
        self.h = Harvest(source)
        self.scope = Scope.of([source.homepage, *source.feeds, source.sitemap, source.blog_index],
                              source.allowed_hosts)
        self.budget = fetcher.config.source_budget
        self.deadline = time.monotonic() + self.budget

    # --- fetching with the stored validators ------------------------------------------------

    def get(self, url: str, *, accept: str, need_body: bool = True) -> Got:
        """A conditional GET; a 304 is answered from the stored snapshot (loaded only when
        `need_body`). Raises ResourceError; 4xx/5xx answers are remembered as failures."""
        k = self.known.get(url)
        conditional = plan.is_stored(k)
        etag, last_modified = plan.validators(k)
        try:
            resp = self.fetcher.get(url, etag=etag, last_modified=last_modified, accept=accept,
                                    scope=self.scope, deadline=self.deadline)
        except OffScope as e:
            self.h.off_scope.append(e.url or url)
            raise
        except FetchError as e:
            if e.kind == INTERRUPTED:
                self.h.interrupted = True
            if e.kind.startswith("http-") and e.kind[5:].isdigit():
                self.h.failures.append((url, int(e.kind[5:]), datetime.now(timezone.utc)))
            raise
        if resp.not_modified and not conditional:
            raise FetchError("HTTP 304 to a request without validators", url, kind="http-304")
        record = Fetched(resp)
        self.h.fetched.append(record)
        if not resp.not_modified:
            record.snapshot = Store.prepare_snapshot(resp.body)
            return Got(resp, resp.body, False, record)
        body = self.store.snapshot_body(k.snapshot_sha256) if need_body else b""
        if body is None:  # the snapshot is gone: ask again without validators
            resp = self.fetcher.get(url, accept=accept, scope=self.scope, deadline=self.deadline)
            record.response, record.snapshot = resp, Store.prepare_snapshot(resp.body)
            return Got(resp, resp.body, False, record)
        return Got(resp, body, True, record)

    def is_stored(self, url: str) -> bool:
        return plan.is_stored(self.known.get(url))

    def worth_probing(self, url: str) -> bool:
        return plan.worth_probing(self.known.get(url), now=self.now, reprobe_after=REPROBE_AFTER)

    def error(self, e: ResourceError) -> None:
        if e.kind == INTERRUPTED:  # not the partner's fault: no error on its record
            self.h.interrupted = True
            return
        if isinstance(e, BudgetExceeded):
            self.h.over_budget += 1  # said once, as a warning, at the end of the harvest
            return
        self.h.errors.append(SourceError(e.kind, e.message, e.url))
        log.warning("%s: %s", self.source.id, e)

    def finish(self) -> Harvest:
        h = self.h
        if h.over_budget:
            message = f"the source's time budget ({self.budget:g} s) ran out; {h.over_budget} URL(s) left for the next run"
            if h.pages or h.errors:
                h.warnings.append(message)
            else:  # nothing at all came of this run: that is a failure, not a note
                h.errors.append(SourceError("budget", message, self.source.homepage))
        if h.off_scope:
            shown = ", ".join(h.off_scope[:3]) + (" ..." if len(h.off_scope) > 3 else "")
            h.warnings.append(f"{len(h.off_scope)} URL(s) outside the fetch scope ({self.scope.describe()}) "
                              f"not fetched: {shown}")
        return h

    # --- the source -------------------------------------------------------------------------

    def run(self) -> Harvest:
        self._run()
        return self.finish()

    def _run(self) -> None:
        src = self.source
        home_html = b""
        feeds = list(src.feeds)
        probing = False
        if not feeds:
            try:
                home = self.get(src.homepage, accept=HTML_ACCEPT)
            except ResourceError as e:
                self.error(e)
                return
            home_html = home.body
            feeds = discover.feed_links(home_html, home.response.final_url)
            if not feeds:
                probing = True
                feeds = [u for u in discover.common_feed_urls(src.homepage) if self.worth_probing(u)]
        # Every feed the registry lists is read (a partner may list its posts and its news
        # feeds); of the feeds found by discovery, the first with items is enough.
        pages = 0
        seen: set[str] = set()
        for feed_url in feeds:
            got_feed = self.feed(feed_url, named=bool(src.feeds), probing=probing)
            if got_feed is None:
                continue
            feed, unchanged = got_feed
            if not feed.entries:
                continue  # e.g. WordPress's empty comments feed
            for entry in feed.entries:
                if pages >= MAX_ARTICLES_PER_SOURCE:
                    break
                key = entry.url or entry.guid
                if key is not None and key in seen:
                    continue  # the same item in two of the partner's feeds
                seen.add(key)
                pages += 1
                self.page(entry.url, entry.guid, entry, listing_unchanged=unchanged)
            if not src.feeds:
                return
        if src.feeds:  # the registry's feeds are all there is; their errors say what failed
            if not self.h.errors and not pages and not self.h.interrupted:
                self.h.warnings.append("the registry's feeds have no items")
            return
        pages, unchanged = self.sitemap_pages(home_html)
        if not pages:
            pages, unchanged = self.blog_index_pages(home_html)
        if not pages and not self.h.errors and not self.h.interrupted:
            self.h.errors.append(SourceError("no-articles", "no usable feed, sitemap or blog index found",
                                             src.homepage))
        for url, lastmod in pages[:MAX_ARTICLES_PER_SOURCE]:
            self.page(url, None, None, listing_unchanged=unchanged, lastmod=lastmod)

    def feed(self, feed_url: str, *, named: bool, probing: bool):
        """(Feed, unchanged) of one feed URL, or None when it is unusable (recorded)."""
        src = self.source
        try:
            got = self.get(feed_url, accept=FEED_ACCEPT)
            feed = parse_feed(got.body, got.response.final_url, dict(got.response.headers))
        except ResourceError as e:
            if named:  # a feed the registry names must work
                self.error(e)
            elif probing:
                if isinstance(e, ParseError):
                    self.forget(feed_url)
            elif not isinstance(e, OffScope):
                self.h.warnings.append(f"discovered feed unusable: {e}")
            return None
        except Exception as e:  # a parser bug on one feed must not lose the source's other feeds
            log.exception("%s: feed failed: %s", src.id, feed_url)
            self.h.errors.append(SourceError("internal", f"{type(e).__name__}: {e}", feed_url))
            return None
        if got.response.permanent_redirect and feed_url in src.feeds:
            self.h.warnings.append(f"feed {feed_url} moved permanently to {got.response.final_url}; "
                                   f"update sources/{src.id}.toml")
        if feed.warning:
            # Recoverable: the items the parser recovered are used; the partner should fix it.
            self.h.warnings.append(f"{feed_url}: {feed.warning}")
        return feed, got.unchanged

    def forget(self, url: str) -> None:
        for record in self.h.fetched:
            if record.response.url == url:
                record.keep = False

    def sitemap_pages(self, home_html: bytes) -> tuple[list[tuple[str, datetime | None]], bool]:
        """Article URLs (with <lastmod>) from the first sitemap candidate that lists any:
        the registry's, <link rel="sitemap">, robots.txt's, /sitemap.xml. Indexes are
        followed. `unchanged` is true when every sitemap file read was a 304."""
        src = self.source
        candidates = [src.sitemap] if src.sitemap else []
        if home_html:
            candidates += discover.sitemap_links(home_html, src.homepage)
        candidates += self.fetcher.robots_sitemaps(src.homepage) + [urljoin(src.homepage, "/sitemap.xml")]
        read = 0
        for top in dict.fromkeys(candidates):
            entries: dict[str, datetime | None] = {}
            unchanged = True
            queue, seen = [top], set()
            while queue and read < MAX_SITEMAP_FILES:
                url = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                read += 1
                try:
                    got = self.get(url, accept=SITEMAP_ACCEPT)
                    found, children = discover.parse_sitemap(got.body, got.response.final_url)
                except ResourceError as e:
                    if url == src.sitemap:
                        self.error(e)
                    elif isinstance(e, ParseError):
                        self.forget(url)
                    continue
                except Exception as e:  # a parser bug on one sitemap must not lose the source
                    log.exception("%s: sitemap failed: %s", src.id, url)
                    self.h.errors.append(SourceError("internal", f"{type(e).__name__}: {e}", url))
                    continue
                unchanged = unchanged and got.unchanged
                queue.extend(children)
                for entry in found:
                    entries.setdefault(entry.url, entry.lastmod)
            articles = discover.likely_articles(list(entries), src.homepage)
            if articles:
                return [(u, entries[u]) for u in articles], unchanged
        return [], False

    def blog_index_pages(self, home_html: bytes) -> tuple[list[tuple[str, None]], bool]:
        src = self.source
        index = src.blog_index
        if index is None and home_html:
            index = discover.blog_index_link(home_html, src.homepage)
        if index is None:
            return [], False
        try:
            got = self.get(index, accept=HTML_ACCEPT)
        except ResourceError as e:
            self.error(e)
            return [], False
        return [(u, None) for u in discover.article_links(got.body, got.response.final_url)], got.unchanged

    def page(self, url: str | None, guid: str | None, entry: FeedEntry | None, *,
             listing_unchanged: bool = False, lastmod: datetime | None = None) -> None:
        """One article URL. Whatever goes wrong is recorded for this URL alone."""
        if self.h.interrupted:
            return  # the run is stopping: this page is left for the next run
        if url is None:
            if entry is not None:
                self.h.warnings.append(f"feed item {entry.title!r} has no usable link; skipped")
            return
        try:
            # Before anything else: an off-scope URL is neither fetched nor stored, not
            # even with the feed's own copy of its content.
            self.fetcher.check_scope(url, self.scope)
        except OffScope:
            self.h.off_scope.append(url)
            return
        except ResourceError as e:
            self.error(e)
            return
        try:
            self._page(url, guid, entry, listing_unchanged, lastmod)
        except Exception as e:  # a bug on one URL must not lose the source's other items
            log.exception("%s: unexpected failure on %s", self.source.id, url)
            self.h.errors.append(SourceError("internal", f"{type(e).__name__}: {e}", url))

    def _page(self, url: str, guid: str | None, entry: FeedEntry | None, listing_unchanged: bool,
              lastmod: datetime | None) -> None:
        stored = self.is_stored(url)
        if plan.page_unchanged(self.known.get(url), now=self.now, recheck_after=self.recheck_after,
                               listing_unchanged=listing_unchanged, lastmod=lastmod):
            self.h.pages.append(Page(url, guid, None, None))  # a 304 upstream costs nothing further
            return
        got = None
        try:
            got = self.get(url, accept=HTML_ACCEPT, need_body=not stored)
            if got.unchanged and stored:
                self.h.pages.append(Page(url, guid, got.response, None, got.record))
                return
            ctype = got.response.content_type
            if ctype and ctype not in HTML_TYPES:
                raise FetchError(f"expected an HTML page, got {ctype}", url, kind="not-html")
            if not got.body.strip():
                raise ParseError("empty response where an article page was expected", url, kind="empty")
            article = self.extract(got.body, got.response.final_url, entry)
            self.h.pages.append(Page(url, guid, got.response, article, got.record))
        except (OffScope, BudgetExceeded) as e:  # a redirect off the site; no time left
            if got is not None:
                got.record.keep = False
            if isinstance(e, BudgetExceeded):
                self.h.over_budget += 1
        except ResourceError as e:
            if got is not None:
                got.record.keep = False
            if e.kind == INTERRUPTED:
                return
            if entry is not None and entry.content_html:
                # The page is unusable but the feed carries the full text: better than nothing.
                self.h.warnings.append(f"{url}: {e}; used the feed's content instead")
                try:
                    article = self.extract(entry.content_html.encode("utf-8"), url, entry)
                except ResourceError as e2:
                    self.error(e2)
                    return
                self.h.pages.append(Page(url, guid, None, article))
            else:
                self.error(e)

    def extract(self, body: bytes, url: str, entry: FeedEntry | None) -> ExtractedArticle:
        try:
            return extract_article(body, url, source=self.source, feed_entry=entry)
        except ResourceError:
            raise
        except Exception as e:  # extraction bugs on one page must not lose the others
            log.exception("%s: extraction failed for %s", self.source.id, url)
            raise ParseError(f"extraction failed: {type(e).__name__}: {e}", url, kind="extract") from e


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
        summary.update(sources_not_run=len(sources) - len(reports), unclustered=store.count_unclustered())
    store.finish_run(run_id, report.finished_at, report.ok and not interrupted, summary,
                     status="interrupted" if interrupted else None)
    return report


def _harvest(source: Source, fetcher: Fetcher, store: Store, known: dict[str, KnownUrl], now: datetime,
             recheck_after: timedelta) -> Harvest:
    try:
        harvester = _Harvester(source, fetcher, store, known, now, recheck_after)
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
                        off_scope=len(h.off_scope))


UNCHANGED_BATCH = 50


def _nothing_to_store(h: Harvest) -> bool:
    return all(p.article is None and p.response is None for p in h.pages) and \
        not any(f.response.status == 200 for f in h.fetched)


def _report(h: Harvest, errors: list[SourceError]) -> SourceReport:
    return SourceReport(h.source.id, articles_seen=len(h.pages), errors=tuple(h.errors) + tuple(errors),
                        warnings=tuple(h.warnings), off_scope=len(h.off_scope))


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
        errors=[dict(source=r.source_id, kind=e.kind, message=e.message, url=e.url)
                for r in report.sources for e in r.errors],
    )
