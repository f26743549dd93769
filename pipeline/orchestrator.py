"""The run: wires fetch -> discover/feeds -> extract -> store -> dedupe. The only module
that knows the order of the stages; only the CLI (and tests, benchmarks) call it.

Each source is harvested in a worker thread (network and extraction, no writes); the
main thread stores what each worker returns, one transaction per article, so one broken
feed, page or partner never stops the others. Every error lands in the source's report
and in its health row; `RunReport.ok` is false when any source had one.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from . import discover
from .dedupe import choose_canonical, cluster_claims, cluster_questions
from .errors import FetchError, ParseError, ResourceError
from .extract import extract_article
from .feeds import parse_feed
from .fetch import Fetcher, FetchConfig
from .store import Store
from .types import (ExtractedArticle, FeedEntry, Response, RunReport, Source, SourceError,
                    SourceReport)

log = logging.getLogger("syndicate")

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_SITEMAP_FILES = 20
MAX_ARTICLES_PER_SOURCE = 500


@dataclass(slots=True)
class Page:
    """An article page a worker fetched (or found unchanged) and extracted."""

    url: str
    guid: str | None
    response: Response | None  # None when it came from the feed body only
    article: ExtractedArticle | None  # None when unchanged since last time (304)
    snapshot_sha: str | None = None


@dataclass(slots=True)
class Harvest:
    source: Source
    pages: list[Page] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fetched: list[tuple[Response, bool]] = field(default_factory=list)  # (response, keep snapshot)


class _Harvester:
    """Fetches one source's feeds, sitemaps and pages. Runs in a worker thread; reads the
    validator map and snapshot bodies but writes nothing."""

    def __init__(self, source: Source, fetcher: Fetcher, store: Store, validators: dict):
        self.source = source
        self.fetcher = fetcher
        self.store = store
        self.validators = validators
        self.h = Harvest(source)

    # a GET that answers a 304 from the stored snapshot
    def get(self, url: str, *, accept: str = "*/*") -> tuple[Response, bytes, bool]:
        etag, lm, sha = self.validators.get(url, (None, None, None))
        cached = self.store.snapshot_body(sha) if sha else None
        if cached is None:
            etag = lm = None
        resp = self.fetcher.get(url, etag=etag, last_modified=lm, accept=accept)
        self.h.fetched.append((resp, True))
        if resp.not_modified:
            return resp, cached or b"", True
        return resp, resp.body, False

    def error(self, e: ResourceError) -> None:
        self.h.errors.append(SourceError(e.kind, e.message, e.url))
        log.warning("%s: %s", self.source.id, e)

    def run(self) -> Harvest:
        src = self.source
        entries: list[FeedEntry] = []
        urls: list[str] = []
        feeds = list(src.feeds)
        home_html = b""
        if not feeds:
            try:
                _, home_html, _ = self.get(src.homepage, accept="text/html")
            except ResourceError as e:
                self.error(e)
                return self.h
            feeds = discover.feed_links(home_html, src.homepage)
        feed_ok = False
        for feed_url in feeds:
            try:
                resp, body, _ = self.get(feed_url, accept="application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5")
                feed = parse_feed(body, resp.final_url, dict(resp.headers))
            except ResourceError as e:
                if src.feeds:  # a feed the registry names must work
                    self.error(e)
                else:
                    self.h.warnings.append(f"discovered feed unusable: {e}")
                continue
            if feed.warning:
                self.h.warnings.append(f"{feed_url}: {feed.warning}")
            if not feed.entries:
                continue  # e.g. WordPress's empty comments feed
            entries.extend(feed.entries)
            feed_ok = True
            break
        if not feed_ok:
            urls = self.sitemap_urls(home_html)
            if not urls:
                urls = self.blog_index_urls(home_html)
            if not urls and not self.h.errors:
                self.h.errors.append(SourceError("no-articles", "no usable feed, sitemap or blog index found",
                                                 src.homepage))
        for entry in entries[:MAX_ARTICLES_PER_SOURCE]:
            self.page(entry.url, entry.guid, entry)
        for url in urls[:MAX_ARTICLES_PER_SOURCE]:
            self.page(url, None, None)
        return self.h

    def sitemap_urls(self, home_html: bytes) -> list[str]:
        src = self.source
        candidates = [src.sitemap] if src.sitemap else []
        if home_html:
            candidates += discover.sitemap_links(home_html, src.homepage)
        robots = self.fetcher.robots_sitemaps(src.homepage)
        candidates += robots + [urljoin(src.homepage, "/sitemap.xml")]
        pages: list[str] = []
        seen: set[str] = set()
        queue = list(dict.fromkeys(candidates))
        while queue and len(seen) < MAX_SITEMAP_FILES:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            try:
                resp, body, _ = self.get(url, accept="application/xml, text/xml")
                entries, children = discover.parse_sitemap(body, resp.final_url)
            except ResourceError as e:
                if url == src.sitemap:
                    self.error(e)
                continue
            queue.extend(children)
            pages.extend(e.url for e in entries)
            if pages:
                break
        return discover.likely_articles(pages, src.homepage)

    def blog_index_urls(self, home_html: bytes) -> list[str]:
        src = self.source
        index = src.blog_index
        if index is None and home_html:
            index = discover.blog_index_link(home_html, src.homepage)
        if index is None:
            return []
        try:
            resp, body, _ = self.get(index, accept="text/html")
        except ResourceError as e:
            self.error(e)
            return []
        return discover.article_links(body, resp.final_url)

    def page(self, url: str | None, guid: str | None, entry: FeedEntry | None) -> None:
        if url is None:
            if entry is not None and entry.content_html:
                self.h.warnings.append(f"feed item {entry.title!r} has no usable link; skipped")
            return
        try:
            resp, body, unchanged = self.get(url, accept="text/html,application/xhtml+xml")
            if not unchanged and resp.content_type and resp.content_type not in HTML_TYPES:
                raise FetchError(f"expected an HTML page, got {resp.content_type}", url, kind="not-html")
            if unchanged and self.known(url):
                self.h.pages.append(Page(url, guid, resp, None))
                return
            article = extract_article(body, resp.final_url, source=self.source, feed_entry=entry)
            self.h.pages.append(Page(url, guid, resp, article))
        except ResourceError as e:
            if entry is not None and entry.content_html:
                # The page is down but the feed carries the full text: better than nothing.
                self.h.warnings.append(f"{url}: {e}; used the feed's content instead")
                article = extract_article(entry.content_html, url, source=self.source, feed_entry=entry)
                self.h.pages.append(Page(url, guid, None, article))
            else:
                self.error(e)

    def known(self, url: str) -> bool:
        return url in self.validators


def run_sources(sources: Iterable[Source], store: Store, *, fetch_config: FetchConfig | None = None,
                now: Callable[[], datetime] | None = None, workers: int = 8,
                progress: Callable[[str, SourceReport], None] | None = None) -> RunReport:
    """Ingest every source once, store, cluster. Never raises for a partner's fault."""
    clock = now or (lambda: datetime.now(timezone.utc))
    sources = list(sources)
    started = clock()
    store.sync_sources(sources)
    validators = store.all_validators()
    reports: list[SourceReport] = []
    with Fetcher(fetch_config) as fetcher, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_harvest, src, fetcher, store, validators): src for src in sources}
        for fut in as_completed(futures):
            src = futures[fut]
            harvest = fut.result()
            report = _store_harvest(harvest, store, clock())
            store.record_source_result(report, clock())
            reports.append(report)
            if progress:
                progress(src.id, report)
        stats = dict(fetcher.stats)
    new_claims = cluster_new_mentions(store, clock())
    reports.sort(key=lambda r: r.source_id)
    report = RunReport(sources=tuple(reports), requests=stats["requests"], not_modified=stats["not_modified"],
                       new_claims=new_claims, started_at=started, finished_at=clock())
    store.record_run(started, report.finished_at, report.ok, summarize(report))
    return report


def _harvest(source: Source, fetcher: Fetcher, store: Store, validators: dict) -> Harvest:
    try:
        return _Harvester(source, fetcher, store, validators).run()
    except Exception as e:  # a bug on one partner's data must not take the run down
        log.exception("%s: unexpected failure", source.id)
        h = Harvest(source)
        h.errors.append(SourceError("internal", f"{type(e).__name__}: {e}", source.homepage))
        return h


def _store_harvest(h: Harvest, store: Store, now: datetime) -> SourceReport:
    shas: dict[str, str] = {}
    for resp, keep in h.fetched:
        if resp.status == 200 and keep:
            shas[resp.url] = store.save_snapshot(resp)
        store.save_validators(resp, shas.get(resp.url))
    new_articles = new_revisions = seen = 0
    errors = list(h.errors)
    for page in h.pages:
        seen += 1
        if page.article is None:
            continue
        url = page.article.meta.canonical_url if _same_site(page.article.meta.canonical_url, page.url) else page.url
        if page.response is not None and page.response.permanent_redirect:
            url = page.response.final_url
        try:
            saved = store.save_article(h.source.id, url or page.url, page.article, guid=page.guid,
                                       snapshot_sha256=shas.get(page.url),
                                       fetched_at=page.response.fetched_at if page.response else now)
        except Exception as e:  # keep the other articles of this source
            log.exception("%s: could not store %s", h.source.id, page.url)
            errors.append(SourceError("store", f"{type(e).__name__}: {e}", page.url))
            continue
        new_articles += saved.new_article
        new_revisions += saved.new_revision and not saved.new_article
    return SourceReport(h.source.id, articles_seen=seen, new_articles=new_articles,
                        new_revisions=new_revisions, errors=tuple(errors), warnings=tuple(h.warnings))


def _same_site(canonical: str | None, url: str) -> bool:
    return bool(canonical) and urlsplit(canonical).netloc == urlsplit(url).netloc


def cluster_new_mentions(store: Store, now: datetime) -> int:
    """Give every unclustered claim mention a claim; refresh canonical texts."""
    new = store.unclustered_mentions()
    created = 0
    if new:
        memberships = cluster_claims(store.claim_states(), new, next_claim_id=store.next_claim_id())
        created = store.save_memberships(memberships, now)
    refresh_claims(store, now)
    questions, new_entries, next_question = store.faq_states()
    if new_entries:
        store.save_faq_memberships(cluster_questions(questions, new_entries, next_id=next_question))
    return created


def refresh_claims(store: Store, now: datetime) -> None:
    """Canonical texts, first sources and retirements after any change of membership."""
    store.refresh_claims(choose_canonical, now)


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
        errors=[dict(source=r.source_id, kind=e.kind, message=e.message, url=e.url)
                for r in report.sources for e in r.errors],
    )
