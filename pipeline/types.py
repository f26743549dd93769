"""The data passed between Syndicate's stages.

Every value here is a frozen, slotted dataclass built from tuples, strings, numbers and
timezone-aware UTC datetimes. Stages take these and return these; ORM objects never leave
`pipeline.store`, HTTP responses never leave `pipeline.fetch` except as `Response`.
This module imports nothing from the rest of the package.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


# --- the partner registry -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Source:
    """One partner, as read from `sources/<id>.toml`. The file name is the id."""

    id: str
    name: str
    homepage: str
    feeds: tuple[str, ...] = ()
    sitemap: str | None = None
    blog_index: str | None = None
    # Per-partner extraction overrides: CSS selectors, e.g. ("content", "article .post-body").
    selectors: tuple[tuple[str, str], ...] = ()
    # Extra words that name the partner (brand spellings), used to spot promotion.
    aliases: tuple[str, ...] = ()
    # Hosts beyond those of the URLs above that the partner's fetches may reach (a CDN, a
    # blog on a subdomain; "*.example.org" for every subdomain). See pipeline/fetch/scope.py.
    allowed_hosts: tuple[str, ...] = ()


# --- fetching ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Response:
    """A finished HTTP exchange. `body` is empty for a 304."""

    url: str  # what was asked for
    final_url: str  # after redirects
    status: int
    headers: tuple[tuple[str, str], ...]  # lower-cased names, the ones that matter
    body: bytes
    fetched_at: datetime
    permanent_redirect: bool = False  # a 301/308 on the way: the stored URL should change

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


# --- feeds and discovery ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of an RSS/Atom feed, links already resolved and checked (http/https only)."""

    url: str | None
    guid: str | None
    title: str | None
    author: str | None
    published: datetime | None
    updated: datetime | None
    summary_html: str | None
    content_html: str | None  # None when the feed carries only a summary
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Feed:
    url: str
    title: str | None
    entries: tuple[FeedEntry, ...]
    warning: str | None = None  # feedparser's bozo exception, when it still gave entries


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None


# --- extraction -----------------------------------------------------------------------------

class Kind(StrEnum):
    """What a sentence is, for the digest and the claim stage."""

    CLAIM = "claim"
    PROMO = "promo"
    QUESTION = "question"
    HEADING = "heading"
    OTHER = "other"
    # Never given by extraction: an editor said "not a claim" (`syndicate claims hide`, or
    # that answer in the review); the store sets it and `claims unhide` sets `claim` again.
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Citation:
    """A reference a sentence carries: a resolved footnote or an inline link."""

    text: str
    url: str | None = None
    footnote: str | None = None  # the footnote marker ("1"), None for an inline link


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence (or heading) of the article body, in reading order."""

    position: int  # 0-based, in reading order over the whole article
    text: str  # normalized (Unicode NFC, straight spacing, footnote markers removed)
    display: str  # as the partner wrote it, for display
    kind: Kind
    section: str | None = None  # the heading above it
    label: str | None = None  # a list item's leading label such as "Tolerance"
    block: str = "p"  # the HTML block it came from: p, li, h2, h3, blockquote, td...
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class FaqPair:
    question: str
    answer: str
    position: int = 0
    origin: str = "markup"  # json-ld, microdata, yoast, details, heading


@dataclass(frozen=True, slots=True)
class Footnote:
    marker: str
    text: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    canonical_url: str | None = None
    language: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """What extraction makes of one page: pure data, no HTML left in it."""

    url: str
    meta: ArticleMeta
    text: str  # the main text, paragraphs separated by blank lines
    sentences: tuple[Sentence, ...]
    faq: tuple[FaqPair, ...] = ()
    footnotes: tuple[Footnote, ...] = ()


# --- deduplication ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MentionInput:
    """A claim mention as the clustering stage sees it."""

    mention_id: int
    site: str
    text: str
    seen_at: datetime | None = None
    # where the sentence stands in the canonical clustering order (see dedupe.order_key):
    # the partner's publication date, then site, article URL and sentence position
    published: datetime | None = None
    url: str = ""
    position: int = 0


@dataclass(frozen=True, slots=True)
class Membership:
    """The decision that a mention belongs to a claim, and why."""

    mention_id: int
    claim_id: int
    method: str  # exact, near-copy, paraphrase, new, editor
    score: float = 1.0


# --- the run ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SourceError:
    kind: str  # a short tag: http-404, timeout, not-a-feed, too-large, robots, ...
    message: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one source's part of a run did. `errors` non-empty means the source failed."""

    source_id: str
    articles_seen: int = 0
    new_articles: int = 0
    new_revisions: int = 0
    errors: tuple[SourceError, ...] = ()
    warnings: tuple[str, ...] = ()
    off_scope: int = 0  # URLs outside the source's fetch scope, not fetched
    interrupted: bool = False  # the run was stopped during this source: the rest is for the next run

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class RunReport:
    sources: tuple[SourceReport, ...]
    requests: int = 0
    not_modified: int = 0
    new_claims: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    extra: tuple[tuple[str, int], ...] = field(default=())
    interrupted: bool = False  # stopped by SIGINT/SIGTERM: some sources not (fully) fetched

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources)
