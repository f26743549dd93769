"""The data passed between Syndicate's stages.

Every value here is a frozen, slotted dataclass built from tuples, strings, numbers and
timezone-aware UTC datetimes. Stages take these and return these; ORM objects never leave
`pipeline.store`, HTTP responses never leave `pipeline.fetch` except as `Response`.
This module imports nothing from the rest of the package.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
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
    # How often the partner is worth fetching (`interval = "1d"` in its file): a run skips
    # it until this much time has passed since its last harvest (`plan.source_due`).
    interval: timedelta | None = None


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
    # How often the publisher says the feed is worth reading: RSS 2.0 <ttl> (minutes) and the
    # RSS 1.0 syndication module's sy:updatePeriod / sy:updateFrequency, as the feed gives them.
    ttl_minutes: int | None = None
    update_period: str | None = None  # hourly, daily, weekly, monthly, yearly
    update_frequency: int | None = None  # times per update_period


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


class HealthState(StrEnum):
    """A partner's health (`pipeline.health` decides it): `healthy`; `degraded` (it answers,
    but what it serves looks wrong: a JavaScript shell, a login or paywall, a maintenance or
    soft-404 page, a revision that drops most of an article, a sharp drop in what its pages
    yield); `failed` (errors: it could not be read); `unknown` (never run)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class HealthReason:
    """Why a partner is degraded: a short `kind` (js-shell, login-wall, paywall, maintenance,
    soft-404, revision-drop, thin-page, yield-drop, extracted-drop, structure-drop, ...),
    a sentence an editor can read, and the page concerned (None for the whole source)."""

    kind: str
    message: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Yields:
    """What a source's article pages yielded in one run (pages fetched and extracted this
    run; pages unchanged since the last run are not counted): the figures its health
    baseline is made of."""

    pages: int = 0  # article pages extracted this run (from the page, or the feed's content)
    extracted: int = 0  # of those, with at least one sentence
    structured: int = 0  # of those, with a known structure (<article>, <main>, Article markup)
    sentences: int = 0
    claims: int = 0
    words: int = 0


@dataclass(frozen=True, slots=True)
class Refresh:
    """How often a partner is worth fetching and who said so: `origin` is registry (its
    file's `interval`), ttl (RSS <ttl>), sy:updatePeriod, cache-control (max-age) or expires."""

    seconds: float
    origin: str


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source's part of a run did. `errors` non-empty means the source failed;
    `health` non-empty means it is degraded (pages `held`: their new version was kept aside
    as a snapshot and the last good one stays current); `skipped_until` set means it was not
    due (its interval has not passed) and nothing was requested."""

    source_id: str
    articles_seen: int = 0
    new_articles: int = 0
    new_revisions: int = 0
    errors: tuple[SourceError, ...] = ()
    warnings: tuple[str, ...] = ()
    off_scope: int = 0  # URLs outside the source's fetch scope, not fetched
    interrupted: bool = False  # the run was stopped during this source: the rest is for the next run
    health: tuple[HealthReason, ...] = ()
    held: int = 0  # pages whose suspicious new version was kept aside this run
    yields: Yields | None = None
    new_mentions: int = 0  # sentences of the new revisions stored
    duration: float = 0.0  # seconds the source's harvest took
    skipped_until: datetime | None = None  # not due: when it will be
    refresh: Refresh | None = None  # the interval that decided (or will decide) when it is due
    hint: Refresh | None = None  # what the partner's own feed or headers said this run

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def skipped(self) -> bool:
        return self.skipped_until is not None

    @property
    def degraded(self) -> bool:
        return bool(self.health) and not self.errors

    @property
    def state(self) -> str:
        """ok, failed, degraded, skipped or interrupted: how the run summary counts it."""
        if self.skipped:
            return "skipped"
        if self.errors:
            return "failed"
        if self.interrupted:
            return "interrupted"
        return "degraded" if self.health else "ok"


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """What one source's task did, as a worker hands it back to the run: the source's
    result, whether some article got a new current revision (clustering has work), the
    revisions stored anew (their sentences are encoded) and the fetcher's counts."""

    result: SourceResult
    changed: bool = False
    revisions: tuple[int, ...] = ()
    stats: dict = field(default_factory=dict)  # requests, not_modified, conditional, retries, robots_blocked
    pause: float = 0.0  # seconds the source's hosts ask between two requests (min_delay, Crawl-delay)


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
    bytes: int = 0  # body bytes received (decoded)

    @property
    def ok(self) -> bool:
        """Every source that ran succeeded (registry problems aside; a degraded source answered,
        so it is ok here: see `degraded`)."""
        return all(s.ok for s in self.sources)

    @property
    def failed(self) -> bool:
        """Some source failed or some partner file was bad: what makes `syndicate run` exit 1."""
        return not self.ok or bool(self.registry_problems)

    @property
    def degraded(self) -> bool:
        """Some source is degraded (and none failed: then it is `failed`): `syndicate run` exits 3."""
        return any(s.degraded for s in self.sources)

    @property
    def outcome(self) -> str:
        """interrupted, failed, degraded or ok: what the exit status of `syndicate run` says
        (130, 1, 3, 0), the first that applies."""
        if self.interrupted:
            return "interrupted"
        if self.failed:
            return "failed"
        return "degraded" if self.degraded else "ok"

    @property
    def off_scope(self) -> int:
        return sum(s.off_scope for s in self.sources)

    def summary(self) -> dict:
        """The run's counts, errors, health and warnings as plain JSON values (`syndicate run
        --json`, and the summary recorded with the run)."""
        states = [r.state for r in self.sources]
        out = dict(
            outcome=self.outcome,
            sources_ok=states.count("ok"),
            sources_failed=states.count("failed"),
            sources_degraded=states.count("degraded"),
            sources_skipped=states.count("skipped"),
            requests=self.requests, not_modified=self.not_modified, bytes=self.bytes,
            articles_seen=sum(r.articles_seen for r in self.sources),
            new_articles=sum(r.new_articles for r in self.sources),
            new_revisions=sum(r.new_revisions for r in self.sources),
            new_mentions=sum(r.new_mentions for r in self.sources),
            new_claims=self.new_claims,
            pages_held=sum(r.held for r in self.sources),
            sources_warned=sum(bool(r.warnings) for r in self.sources),
            conditional=self.conditional, retries=self.retries, robots_blocked=self.robots_blocked,
            off_scope=self.off_scope,
        )
        if self.started_at and self.finished_at:
            out["duration"] = round((self.finished_at - self.started_at).total_seconds(), 3)
        if self.interrupted:
            out.update(interrupted=True, sources_not_run=self.sources_not_run,
                       sources_interrupted=sum(r.interrupted for r in self.sources), unclustered=self.unclustered)
        out["errors"] = [dict(source=r.source_id, kind=e.kind, message=e.message, url=e.url)
                         for r in self.sources for e in r.errors]
        out["degraded"] = [dict(source=r.source_id, kind=h.kind, message=h.message, url=h.url)
                           for r in self.sources if not r.errors for h in r.health]
        out["skipped"] = [dict(source=r.source_id, next_due=_iso(r.skipped_until),
                               interval=r.refresh.seconds if r.refresh else None,
                               origin=r.refresh.origin if r.refresh else None)
                          for r in self.sources if r.skipped]
        # the first few of each source (a feed may warn once per item); all are in the result
        out["warnings"] = [dict(source=r.source_id, message=w) for r in self.sources for w in r.warnings[:5]]
        out["registry_errors"] = [dict(path=getattr(p, "path", None), message=str(p)) for p in self.registry_problems]
        return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


# --- what the store answers ---------------------------------------------------------------
# Typed rows at every face of the library API (`pipeline.core.Syndicate`): the CLI, the
# editor's desk and users' scripts read attributes, never string keys. Exports stay rows
# of named columns (dicts): they go straight to CSV, JSON Lines and Parquet.

@dataclass(frozen=True, slots=True)
class HeldPage:
    """A page whose new version looked wrong (`reasons`) and was kept aside: its raw body is
    the snapshot `snapshot_sha256`; the article's last good version stays current until the
    same version is seen on a later run (`sightings`) or an editor accepts it."""

    source_id: str
    url: str
    snapshot_sha256: str | None
    reasons: tuple[HealthReason, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    sightings: int = 1


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source as `syndicate sources` shows it: its health `state` (`HealthState`) since
    when and why, articles stored, the last run's outcome, pages held aside, when it is due."""

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
    state: str = HealthState.UNKNOWN
    reasons: tuple[HealthReason, ...] = ()  # why it is degraded (or failed: its first error)
    since: datetime | None = None  # when it entered `state`
    held: tuple[HeldPage, ...] = ()
    last_harvest: datetime | None = None  # when its last harvest started
    next_due: datetime | None = None  # when a run fetches it again (None: at every run)
    # the interval deciding when it is due (`Syndicate.source_health`: the longer of its registry
    # `interval` and the pace its listings asked for at its last harvest, `origin` says which)
    refresh: Refresh | None = None


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
    pinned_mention_id: int | None = None  # an editor chose this member's wording to lead


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
class WeekPartnerStatus:
    """A partner that failed or was degraded in a run that harvested the week (the week's
    runs and the first one after it): its worst state, the reasons of its last bad run,
    and whether the last of those runs found it healthy again."""

    site: str
    state: str  # failed or degraded
    reasons: tuple[str, ...]
    runs: int  # runs of the week in which it was in `state` (or worse)
    recovered: bool = False
    kinds: tuple[str, ...] = ()  # the reasons' kinds (js-shell, maintenance, http-404, ...)


@dataclass(frozen=True, slots=True)
class DigestWeek:
    """Everything one ISO week's digest is built from, every date the partner's where it
    gave one. `sources`: {id: name}; `partner_status`: partners failed or degraded that week."""

    start: datetime
    end: datetime
    sources: dict[str, str]
    articles: tuple[WeekArticle, ...]
    claims: tuple[WeekClaim, ...]
    changed: tuple[WeekChange, ...]
    faq: tuple[WeekFaq, ...]
    partner_status: tuple[WeekPartnerStatus, ...] = ()
    editor_note: str | None = None  # the week's note from the editor (the desk), shown first
    topic_renames: tuple["TopicRename", ...] = ()  # editors' topic renames and merges, oldest first

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


@dataclass(frozen=True, slots=True)
class TopicRename:
    """An editor's decision about topic labels, kept for every later week: a topic the
    grouping labels `label` is shown as `shown_as` (a rename), and joins a topic already
    shown so (a merge). Labels compare without case."""

    label: str
    shown_as: str
    action: str = "rename"  # rename or merge


@dataclass(frozen=True, slots=True)
class EditorDecision:
    """One editor decision as the history shows it: what (`action`, `subject`, `details`),
    which week it was taken on, who and when, and whether (and by whom) it was undone.
    `undoable`: it can be undone now (an earlier decision whose claims a later one changed
    cannot, until that one is undone)."""

    id: int
    action: str  # topic-rename, topic-merge, note, split, pin, merge, review, hide
    week: str | None
    subject: str
    details: dict
    decided_by: str
    created_at: datetime
    undone_at: datetime | None = None
    undone_by: str | None = None
    undoable: bool = True


@dataclass(frozen=True, slots=True)
class SendRecord:
    """One attempt to send a week's digest by email: `status` sent or failed (with the
    reason); `override`: sent again on purpose after an earlier send of the same week."""

    id: int
    week: str
    recipients: tuple[str, ...]
    status: str
    error: str | None
    sent_by: str
    created_at: datetime
    override: bool = False
    message_id: str | None = None
    smtp_host: str | None = None
