"""One source's harvest: its feeds, sitemaps, blog index and article pages, fetched and
extracted in a worker thread. Reads what earlier runs stored (validators, snapshot bodies)
and writes nothing: the orchestrator stores what `Harvester.run` returns.

What to request is decided by `plan` (pure); whether a URL may be requested at all by the
fetcher's scope check (`fetch/scope.py`); the harvester does the fetching and records what
each URL came to: an error for that URL alone, a warning, an off-scope URL counted, pages
left for the next run when the source's time budget runs out. For the partner's health it
also measures each extracted page (`health.page_signals`) and notes the pace its listings
ask for (feed <ttl>/sy:updatePeriod, Cache-Control, Expires); the judging is the
orchestrator's, which has the stored versions to compare with.

The time budget (`--source-budget`, on the fetcher's clock) covers the source's parsing as
well as its requests: each parse of partner content (homepage, feed, sitemap, blog index,
article page) is followed by a check, and the long loops of discovery check as they go
(`discover.CHECK_EVERY`). Once it is spent, the source stops where it is: no further
request or parse, the URLs left are counted and said in one warning (or, when nothing came
of the run, a "budget" error), and the other sources, in their own threads, carry on.
robots.txt is parsed inside the fetcher, whose next request checks the same deadline.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from . import discover, health, plan
from .errors import BudgetExceeded, FetchError, OffScope, ParseError, ResourceError
from .extract import SentenceLabeller, extract_article
from .feeds import listed_links, parse_feed
from .fetch import Fetcher
from .fetch.scope import Scope
from .store import KnownUrl, Store
from .types import ExtractedArticle, Feed, FeedEntry, Refresh, Response, Source, SourceError

log = logging.getLogger("syndicate")

HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_SITEMAP_FILES = 20
MAX_ARTICLES_PER_SOURCE = 500
# An unchanged feed naming its own pace (RSS <ttl>, sy:updatePeriod / updateFrequency) is
# parsed in full, so that the pace is read as on the run that fetched it.
PACE_MARKS = (b"<ttl", b"updatePeriod", b"updateFrequency")
RECHECK_AFTER = timedelta(days=6)  # stored pages re-validated at least this often (weekly runs: every run)
REPROBE_AFTER = timedelta(days=28)  # a missing common feed path is tried again after this
INTERRUPTED = "interrupted"  # the FetchError kind of a request refused because the run is stopping


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
    signals: health.PageSignals | None = None  # what the page measures, for the partner's health


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
    hints: list[Refresh] = field(default_factory=list)  # the pace its listings ask for (ttl, max-age...)
    duration: float = 0.0  # seconds, on the fetcher's clock


@dataclass(slots=True)
class Got:
    """One GET as the harvester sees it: the response, its body (from the snapshot store
    for a 304), and whether it was unchanged."""

    response: Response
    body: bytes
    unchanged: bool
    record: Fetched


# (body, url, source, feed entry, HTTP status) -> (article, (error kind, message), the page's
# health signals when the extractor measured them too: None, and the harvester measures).
Extractor = Callable[[bytes, str, Source, "FeedEntry | None", int],
                     tuple["ExtractedArticle | None", "tuple[str, str] | None", "health.PageSignals | None"]]


def measure_page(body: bytes, article: ExtractedArticle, status: int, source_id: str) -> health.PageSignals | None:
    """`health.page_signals`, or None when measuring fails: a measuring bug must not lose
    the page, which is then judged without signals (the failure is logged). Used in the
    run's process and in the extraction processes alike."""
    try:
        return health.page_signals(body, article, status)
    except Exception:
        log.exception("%s: could not measure %s", source_id, article.url)
        return None


class Harvester:
    """Fetches one source's feeds, sitemaps and pages. Runs in a worker thread; reads the
    preloaded validator map and snapshot bodies but writes nothing. `extractor`: where
    pages are extracted (default: here; the orchestrator may hand a pool of processes)."""

    def __init__(self, source: Source, fetcher: Fetcher, store: Store, known: dict[str, KnownUrl],
                 now: datetime, recheck_after: timedelta = RECHECK_AFTER, labeller: SentenceLabeller | None = None,
                 extractor: Extractor | None = None):
        self.extractor = extractor
        self.source = source
        self.labeller = labeller  # how sentences are labelled (None: extraction's default)
        self.fetcher = fetcher
        self.store = store
        self.known = known
        self.now = now
        self.recheck_after = recheck_after
        self.h = Harvest(source)
        self.scope = Scope.of([source.homepage, *source.feeds, source.sitemap, source.blog_index],
                              source.allowed_hosts, allow_private=source.allow_private)
        self.budget = fetcher.config.source_budget
        self.deadline = fetcher.clock() + self.budget
        self.out_of_time = False  # the budget ran out: nothing more is requested or parsed

    # --- the time budget --------------------------------------------------------------------

    def check_budget(self, url: str | None = None, doing: str = "parsing") -> None:
        """Raise BudgetExceeded once the source's budget is spent (after a parse, and
        inside discovery's long loops)."""
        if self.out_of_time or self.fetcher.clock() >= self.deadline:
            self.out_of_time = True
            raise BudgetExceeded(f"the source's time budget ran out {doing}", url or self.source.homepage)

    def checker(self, url: str, doing: str):
        """A no-argument budget check for discovery's loops."""
        return lambda: self.check_budget(url, doing)

    def over_budget(self) -> None:
        """One URL is left for the next run because the budget is spent."""
        self.out_of_time = True
        self.h.over_budget += 1

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
            self.over_budget()  # said once, as a warning, at the end of the harvest
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
        src = self.source
        asked = [src.homepage, *src.feeds, src.sitemap, src.blog_index, *(r.response.final_url for r in h.fetched),
                 *(e.url for e in h.errors)]
        for host_url in {urlsplit(u).netloc: u for u in reversed(asked) if u}.values():
            note = self.fetcher.robots_note(host_url)  # robots.txt over the size limit: its start applied
            if note and note not in h.warnings:
                h.warnings.append(note)
        return h

    # --- the source -------------------------------------------------------------------------

    def run(self) -> Harvest:
        started = self.fetcher.clock()
        self._run()
        self.h.duration = self.fetcher.clock() - started
        return self.finish()

    def _run(self) -> None:
        src = self.source
        home_html = b""
        feeds = list(src.feeds)
        probing = False
        if not feeds:
            try:
                home = self.get(src.homepage, accept=HTML_ACCEPT)
                home_html = home.body
                feeds = discover.feed_links(home_html, home.response.final_url)
                self.check_budget(src.homepage, "reading the homepage")
            except ResourceError as e:
                self.error(e)
                return
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
        if not pages and not self.out_of_time:
            pages, unchanged = self.blog_index_pages(home_html)
        if not pages and not self.h.errors and not self.h.interrupted and not self.out_of_time:
            self.h.errors.append(SourceError("no-articles", "no usable feed, sitemap or blog index found",
                                             src.homepage))
        for url, lastmod in pages[:MAX_ARTICLES_PER_SOURCE]:
            self.page(url, None, None, listing_unchanged=unchanged, lastmod=lastmod)

    def feed(self, feed_url: str, *, named: bool, probing: bool):
        """(Feed, unchanged) of one feed URL, or None when it is unusable (recorded)."""
        src = self.source
        if self.out_of_time:
            self.over_budget()
            return None
        try:
            got = self.get(feed_url, accept=FEED_ACCEPT)
            feed = (self.unchanged_listing(got) if got.unchanged else None) \
                or parse_feed(got.body, got.response.final_url, dict(got.response.headers))
            self.check_budget(feed_url, "parsing the feed")
        except BudgetExceeded:
            self.over_budget()
            return None
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
        self.listing_read(got.response, feed)
        if got.response.permanent_redirect and feed_url in src.feeds:
            self.h.warnings.append(f"feed {feed_url} moved permanently to {got.response.final_url}; "
                                   f"update sources/{src.id}.toml")
        if feed.warning:
            # Recoverable: the items the parser recovered are used; the partner should fix it.
            self.h.warnings.append(f"{feed_url}: {feed.warning}")
        return feed, got.unchanged

    def listing_read(self, response: Response, feed: Feed | None = None) -> None:
        """Remember the pace a listing (feed, sitemap, blog index) asks for: its feed's
        <ttl> or sy:updatePeriod, its Cache-Control max-age or Expires."""
        for hint in (plan.feed_hint(feed.ttl_minutes, feed.update_period, feed.update_frequency) if feed else None,
                     plan.http_hint(response.header("cache-control"), response.header("expires"),
                                    response.header("date"), response.fetched_at)):
            if hint is not None:
                self.h.hints.append(hint)

    def unchanged_listing(self, got: Got) -> Feed | None:
        """An unchanged feed (304) whose every item is a stored page that needs no request
        (`plan.page_unchanged`): its items' links only, read without feedparser, which was
        most of a no-change run's time. None when any item may need a request (or the feed
        is not plain RSS 2.0 / Atom): then it is parsed in full, as when it changed."""
        if any(mark in got.body for mark in PACE_MARKS):
            return None  # the pace it asks for (listing_read) is feedparser's to read
        links = listed_links(got.body, got.response.final_url, dict(got.response.headers))
        if links is None or any(
                not plan.page_unchanged(self.known.get(u), now=self.now, recheck_after=self.recheck_after,
                                        listing_unchanged=True) for u, _ in links[:MAX_ARTICLES_PER_SOURCE]):
            return None
        return Feed(got.response.final_url, None,
                    tuple(FeedEntry(u, g, None, None, None, None, None, None) for u, g in links))

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
        candidates += (self.fetcher.robots_sitemaps(src.homepage, deadline=self.deadline, scope=self.scope)
                       + [urljoin(src.homepage, "/sitemap.xml")])
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
                    self.check_budget(url, "before reading a sitemap")
                    got = self.get(url, accept=SITEMAP_ACCEPT)
                    found, children = discover.parse_sitemap(got.body, got.response.final_url,
                                                             check=self.checker(url, "parsing a sitemap"))
                except BudgetExceeded:
                    self.over_budget()
                    return [], False
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
                self.listing_read(got.response)
                queue.extend(children)
                for entry in found:
                    entries.setdefault(entry.url, entry.lastmod)
            try:
                articles = discover.likely_articles(list(entries), src.homepage,
                                                    check=self.checker(top, "sorting a sitemap's URLs"))
            except BudgetExceeded:
                self.over_budget()
                return [], False
            if articles:
                return [(u, entries[u]) for u in articles], unchanged
        return [], False

    def blog_index_pages(self, home_html: bytes) -> tuple[list[tuple[str, None]], bool]:
        src = self.source
        index = src.blog_index
        try:
            if index is None and home_html:
                index = discover.blog_index_link(home_html, src.homepage,
                                                 check=self.checker(src.homepage, "reading the homepage"))
            if index is None:
                return [], False
            got = self.get(index, accept=HTML_ACCEPT)
            links = discover.article_links(got.body, got.response.final_url,
                                           check=self.checker(index, "reading the blog index"))
        except ResourceError as e:
            self.error(e)
            return [], False
        self.listing_read(got.response)
        return [(u, None) for u in links], got.unchanged

    def page(self, url: str | None, guid: str | None, entry: FeedEntry | None, *,
             listing_unchanged: bool = False, lastmod: datetime | None = None) -> None:
        """One article URL. Whatever goes wrong is recorded for this URL alone."""
        if self.h.interrupted:
            return  # the run is stopping: this page is left for the next run
        if self.out_of_time:
            self.over_budget()  # left for the next run, neither requested nor parsed
            return
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
            self.check_budget(url, "before extracting a page")
            article, signals = self.extract(got.body, got.response.final_url, entry, got.response.status)
            self.h.pages.append(Page(url, guid, got.response, article, got.record, signals))
            if self.fetcher.clock() >= self.deadline:
                self.out_of_time = True  # this page is kept; the next ones wait for the next run
        except (OffScope, BudgetExceeded) as e:  # a redirect off the site; no time left
            if got is not None:
                got.record.keep = False
            if isinstance(e, BudgetExceeded):
                self.over_budget()
        except ResourceError as e:
            if got is not None:
                got.record.keep = False
            if e.kind == INTERRUPTED:
                return
            if entry is not None and entry.content_html:
                # The page is unusable but the feed carries the full text: better than nothing.
                self.h.warnings.append(f"{url}: {e}; used the feed's content instead")
                content = entry.content_html.encode("utf-8")
                try:
                    article, signals = self.extract(content, url, entry)
                except ResourceError as e2:
                    self.error(e2)
                    return
                self.h.pages.append(Page(url, guid, None, article, signals=signals))
            else:
                self.error(e)

    def signals(self, body: bytes, article: ExtractedArticle, status: int = 200) -> health.PageSignals | None:
        """What the page measures for the partner's health (its markup, its extraction)."""
        return measure_page(body, article, status, self.source.id)

    def extract(self, body: bytes, url: str, entry: FeedEntry | None,
                status: int = 200) -> tuple[ExtractedArticle, health.PageSignals | None]:
        """The page's article and what it measures for the partner's health. An extractor
        in another process measures the page there too (it holds the body already), so
        this process's GIL is spared a second parse of the page."""
        if self.extractor is not None:
            article, error, signals = self.extractor(body, url, self.source, entry, status)
            if error is not None:
                raise ParseError(error[1], url, kind=error[0])
            return article, signals if signals is not None else self.signals(body, article, status)
        try:
            article = extract_article(body, url, source=self.source, feed_entry=entry, labeller=self.labeller)
        except ResourceError:
            raise
        except Exception as e:  # extraction bugs on one page must not lose the others
            log.exception("%s: extraction failed for %s", self.source.id, url)
            raise ParseError(f"extraction failed: {type(e).__name__}: {e}", url, kind="extract") from e
        return article, self.signals(body, article, status)
