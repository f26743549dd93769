"""The data passed between Syndicate's stages.

Every value here is a frozen, slotted dataclass built from tuples, strings, numbers and
timezone-aware UTC datetimes. Stages take these and return these; ORM objects never leave
`pipeline.store`, HTTP responses never leave `pipeline.fetch` except as `Response`.
This module imports nothing from the rest of the package.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Callable


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
    # The partner's hosts may resolve to private, loopback or link-local addresses (a
    # partner inside our own network). Off by default: see pipeline/fetch/_address.py.
    allow_private: bool = False


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
class SourceResult:
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
class RunResult:
    """What a run (or a reprocess) did: one `SourceResult` per source, sorted by id, and the
    run's counts. `registry_problems` are the partner files that could not be read (each a
    `ConfigError` naming its file); their partners were not run."""

    sources: tuple[SourceResult, ...]
    requests: int = 0
    not_modified: int = 0
    conditional: int = 0  # requests that carried validators
    retries: int = 0
    robots_blocked: int = 0
    new_claims: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    interrupted: bool = False  # stopped (SIGINT/SIGTERM, `Syndicate.stop()`): some sources not (fully) fetched
    sources_not_run: int = 0  # interrupted before they started
    unclustered: int = 0  # claim mentions and FAQ entries an interrupted run left for the next one
    registry_problems: tuple[Exception, ...] = ()

    @property
    def ok(self) -> bool:
        """Every source that ran succeeded (registry problems aside)."""
        return all(s.ok for s in self.sources)

    @property
    def failed(self) -> bool:
        """Some source failed or some partner file was bad: what makes `syndicate run` exit 1."""
        return not self.ok or bool(self.registry_problems)

    @property
    def off_scope(self) -> int:
        return sum(s.off_scope for s in self.sources)

    def summary(self) -> dict:
        """The run's counts, errors and warnings as plain JSON values (`syndicate run --json`,
        and the summary recorded with the run)."""
        out = dict(
            sources_ok=sum(r.ok for r in self.sources),
            sources_failed=sum(not r.ok for r in self.sources),
            requests=self.requests, not_modified=self.not_modified,
            articles_seen=sum(r.articles_seen for r in self.sources),
            new_articles=sum(r.new_articles for r in self.sources),
            new_revisions=sum(r.new_revisions for r in self.sources),
            new_claims=self.new_claims,
            sources_warned=sum(bool(r.warnings) for r in self.sources),
            conditional=self.conditional, retries=self.retries, robots_blocked=self.robots_blocked,
            off_scope=self.off_scope,
        )
        if self.interrupted:
            out.update(interrupted=True, sources_not_run=self.sources_not_run,
                       sources_interrupted=sum(r.interrupted for r in self.sources), unclustered=self.unclustered)
        out["errors"] = [dict(source=r.source_id, kind=e.kind, message=e.message, url=e.url)
                         for r in self.sources for e in r.errors]
        # the first few of each source (a feed may warn once per item); all are in the result
        out["warnings"] = [dict(source=r.source_id, message=w) for r in self.sources for w in r.warnings[:5]]
        out["registry_errors"] = [dict(path=getattr(p, "path", None), message=str(p)) for p in self.registry_problems]
        return out


# --- what the store answers ---------------------------------------------------------------
# Typed rows at every face of the library API (`pipeline.core.Syndicate`): the CLI, the
# editor's desk and users' scripts read attributes, never string keys. Exports stay rows
# of named columns (dicts): they go straight to CSV, JSON Lines and Parquet.

@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source as `syndicate sources` shows it: articles stored, the last run's outcome."""

    id: str
    name: str
    homepage: str
    articles: int = 0
    last_run: datetime | None = None
    last_success: datetime | None = None
    last_error_kind: str | None = None
    last_error_message: str | None = None
    last_error_url: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    warnings: int = 0  # of the last run
    last_warning: str | None = None
    off_scope: int = 0  # URLs of the last run outside the source's fetch scope


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One recorded run (the `runs` table): `status` is running, ok, failed, interrupted or
    abandoned; `summary` is `RunResult.summary()` as stored."""

    id: int
    started: datetime | None
    finished: datetime | None
    ok: bool | None
    status: str
    summary: dict


@dataclass(frozen=True, slots=True)
class Counts:
    """Rows of the main tables (claims: the active ones)."""

    sources: int = 0
    articles: int = 0
    revisions: int = 0
    mentions: int = 0
    claims: int = 0
    faq: int = 0
    snapshots: int = 0


@dataclass(frozen=True, slots=True)
class FigureStatement:
    mention_id: int
    site: str
    figure: str  # as the partner wrote it


@dataclass(frozen=True, slots=True)
class FigureConflict:
    """A kind of figure (year, percent, duration, a counted noun) a claim's members state
    differently, and what each says (from the claims engine, `dedupe.conflicts`)."""

    kind: str
    statements: tuple[FigureStatement, ...]

    @staticmethod
    def from_stored(stored: list | None) -> tuple["FigureConflict", ...]:
        """From the JSON kept with a claim ([{kind, statements: [{mention_id, site, figure}]}])."""
        return tuple(FigureConflict(str(c.get("kind", "figure")),
                                    tuple(FigureStatement(x.get("mention_id"), x.get("site"), str(x.get("figure")))
                                          for x in c.get("statements", ())))
                     for c in stored or ())


@dataclass(frozen=True, slots=True)
class ClaimMemberDetail:
    """A current member of a claim: the partner's own sentence, and how it joined."""

    mention_id: int
    site: str
    article_url: str
    revision: int
    position: int
    section: str | None
    text: str
    method: str  # exact, near-copy, paraphrase, new, carried, editor-merge, ...
    score: float


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """An editor decision on a claim (merge, split, pin, cannot-link)."""

    action: str
    claim_id: int
    other_claim_id: int | None
    mention_ids: tuple
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimDetail:
    """`syndicate claims show`: a claim with every current member and the editor decisions."""

    claim_id: int
    status: str  # active, merged, retired
    merged_into: int | None
    text: str
    canonical_site: str | None
    canonical_mention_id: int | None
    conflicts: tuple[FigureConflict, ...]
    pinned_mention_id: int | None
    first_site: str | None
    first_seen: datetime | None
    sites: tuple[str, ...]
    members: tuple[ClaimMemberDetail, ...]
    overrides: tuple[OverrideRecord, ...]


@dataclass(frozen=True, slots=True)
class ClaimSummary:
    """`syndicate claims list`: an active claim with the partners stating it."""

    claim_id: int
    text: str
    partners: int
    sites: tuple[str, ...]
    mentions: int
    first_published: datetime | None
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A full-text search result: a partner's sentence (`type` mention) or FAQ pair (`type`
    faq), with a snippet (matched words between the store's SNIPPET_START/END marks), its
    article, and the claim (or canonical question) with the partners stating (answering) it.
    Lower `rank` is better."""

    type: str
    id: int
    kind: str  # the sentence's label, or faq
    site: str
    site_name: str
    article_url: str
    article_title: str | None
    published: str | None  # ISO 8601
    text: str
    snippet: str
    rank: float
    claim_id: int | None = None
    claim_text: str | None = None
    claim_partners: tuple[str, ...] = ()
    question_id: int | None = None
    question_partners: tuple[str, ...] = ()

    @staticmethod
    def from_row(row: dict) -> "SearchHit":
        """From the store's search row (a dict of these fields)."""
        return SearchHit(**{**row, "claim_partners": tuple(row.get("claim_partners") or ()),
                            "question_partners": tuple(row.get("question_partners") or ())})


# --- the digest's rows (`Store.digest_week`; `pipeline.publish` builds the digest from them)

@dataclass(frozen=True, slots=True)
class WeekArticle:
    """An article dated in the week (published, else first seen)."""

    article_id: int
    site: str
    url: str
    title: str | None
    author: str | None
    date: datetime
    date_source: str  # published or fetched


@dataclass(frozen=True, slots=True)
class StatedCitation:
    """A reference a stated sentence carries (a footnote or an inline link)."""

    text: str | None
    url: str | None
    footnote: str | None = None


@dataclass(frozen=True, slots=True)
class WeekStatement:
    """One partner's current sentence of a claim, dated by the partner's earliest statement."""

    mention_id: int
    site: str
    url: str
    title: str | None
    text: str
    section: str | None
    label: str | None
    citations: tuple[StatedCitation, ...]
    stated_at: datetime | None
    date_source: str


@dataclass(frozen=True, slots=True)
class WeekClaim:
    """A claim some partner stated in the week, with every current statement."""

    claim_id: int
    text: str
    first_seen_at: datetime | None
    first_stated_at: datetime | None
    statements: tuple[WeekStatement, ...]
    canonical_mention_id: int | None = None
    conflicts: tuple[FigureConflict, ...] = ()


@dataclass(frozen=True, slots=True)
class WeekChange:
    """A revision after an article's first, dated in the week: claim sentences added and
    removed, and how many other sentences changed."""

    site: str
    url: str
    title: str | None
    revision: int
    date: datetime
    date_source: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    other_changes: int = 0


@dataclass(frozen=True, slots=True)
class WeekFaq:
    """An FAQ entry of one of the week's articles, with its canonical question id."""

    question_id: int | None
    question: str
    answer: str
    site: str
    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class DigestWeek:
    """Everything one ISO week's digest is built from, every date the partner's where it
    gave one. `sources`: {id: name}."""

    start: datetime
    end: datetime
    sources: dict[str, str]
    articles: tuple[WeekArticle, ...]
    claims: tuple[WeekClaim, ...]
    changed: tuple[WeekChange, ...]
    faq: tuple[WeekFaq, ...]

    def with_urls(self, link: "Callable[[str], str]") -> "DigestWeek":
        """The same week with every partner URL passed through `link` (the demo points its
        digest at the partner pages it keeps beside it)."""
        return replace(
            self,
            articles=tuple(replace(a, url=link(a.url)) for a in self.articles),
            claims=tuple(replace(c, statements=tuple(replace(st, url=link(st.url)) for st in c.statements))
                         for c in self.claims),
            changed=tuple(replace(ch, url=link(ch.url)) for ch in self.changed),
            faq=tuple(replace(f, url=link(f.url)) for f in self.faq))
