"""SQLAlchemy 2.0 typed models: the schema (documented for researchers in docs/schema.md).

Every schema change gets an Alembic migration under db/migrations. Natural keys carry
unique constraints so re-running a stage can upsert instead of duplicating.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass UTC-aware values")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class SourceRow(Base):
    """A partner and its health."""

    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    homepage: Mapped[str] = mapped_column(Text)
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error_kind: Mapped[str | None] = mapped_column(String(60))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    last_error_url: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # the last run's warnings (count, first one) and URLs outside the fetch scope it skipped
    last_warning_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_warning: Mapped[str | None] = mapped_column(Text)
    last_off_scope: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # partner health (pipeline/health.py; migration 0007)
    state: Mapped[str | None] = mapped_column(String(20), doc=(
        "`healthy`, `degraded` (it answers, but a page looked wrong: see `state_reasons`) or `failed`, "
        "as of its last run; null before its first"))
    state_since: Mapped[datetime | None] = mapped_column(doc="when the source entered `state`")
    state_reasons: Mapped[list | None] = mapped_column(JSON, default=list, doc=(
        "why it is degraded (or failed): `[{kind, message, url}]`, kind e.g. `js-shell`, `login-wall`, "
        "`paywall`, `maintenance`, `soft-404`, `revision-drop`, `thin-page`, `yield-drop`"))
    harvested_at: Mapped[datetime | None] = mapped_column(doc=(
        "when its last harvest started (a run that skipped it, not due, leaves it)"))
    hint_seconds: Mapped[float | None] = mapped_column(Float, doc=(
        "the pace its listings asked for at the last harvest, in seconds (feed `<ttl>`, `sy:updatePeriod`, "
        "`Cache-Control: max-age`, `Expires`; at most 7 days)"))
    hint_origin: Mapped[str | None] = mapped_column(String(40), doc=(
        "where `hint_seconds` came from: `ttl`, `sy:updatePeriod`, `cache-control` or `expires`"))


class HttpValidator(Base):
    """What the last fetch of a URL said, for conditional GET next time."""

    __tablename__ = "http_validators"
    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None]
    checked_at: Mapped[datetime | None]
    # the body behind these validators, so a 304 can be answered from the snapshot store
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    # the URL's host name (lower case, no port): a queued worker reads the validators of one
    # source's hosts instead of every URL ever fetched
    host: Mapped[str | None] = mapped_column(String(300), index=True)


class Snapshot(Base):
    """A raw body as fetched, stored once per content hash (zlib-compressed)."""

    __tablename__ = "snapshots"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    content_type: Mapped[str | None] = mapped_column(String(200))
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime]
    size: Mapped[int]
    body: Mapped[bytes] = mapped_column(LargeBinary)


class ArticleRow(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("source_id", "url", name="uq_articles_source_url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    guid: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None]
    updated: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(20))
    first_seen_at: Mapped[datetime]
    last_fetched_at: Mapped[datetime]
    # indexed: every "current sentences" query joins on it (without, SQLite scanned every
    # article for each sentence, and a no-change run took minutes at 200 sources)
    current_revision_id: Mapped[int | None] = mapped_column(Integer, index=True)
    revisions: Mapped[list["RevisionRow"]] = relationship(back_populates="article",
                                                          order_by="RevisionRow.number")


class RevisionRow(Base):
    """One version of an article's extracted content; old ones are kept."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("article_id", "content_hash", name="uq_revisions_article_hash"),
                      UniqueConstraint("article_id", "number", name="uq_revisions_article_number"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    snapshot_sha256: Mapped[str | None] = mapped_column(ForeignKey("snapshots.sha256"))
    fetched_at: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # the partner's date of this version (published for the first, updated/dateModified for
    # later ones) and where it came from: "published", "updated", or "fetched" (no partner date)
    partner_date: Mapped[datetime | None]
    date_source: Mapped[str | None] = mapped_column(String(20))
    article: Mapped[ArticleRow] = relationship(back_populates="revisions")


class MentionRow(Base):
    """A sentence of a revision, labelled; claim mentions get a ClaimMember row."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("revision_id", "position", name="uq_mentions_revision_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    display: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    section: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    block: Mapped[str] = mapped_column(String(20), default="p")
    citations: Mapped[list] = mapped_column(JSON, default=list)
    # provenance without joins (migration 0005): the article and partner of the revision
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", name="fk_mentions_article_id"), index=True)
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("sources.id", name="fk_mentions_source_id"), index=True)


class CitationRow(Base):
    """A reference a sentence carries, one row each (the same as `mentions.citations`):
    kind `footnote`, `inline`, or `promotional` (a link to the partner's own site, or any
    link in a sentence labelled promo)."""

    __tablename__ = "citations"
    __table_args__ = (UniqueConstraint("mention_id", "position", name="uq_citations_mention_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(300))
    footnote: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), index=True)


class ClaimRow(Base):
    """A canonical claim. Ids are never reused: a claim without members is retired."""

    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)  # active, retired, merged
    merged_into: Mapped[int | None] = mapped_column(Integer)
    canonical_mention_id: Mapped[int | None] = mapped_column(Integer)
    canonical_text: Mapped[str] = mapped_column(Text, default="")
    pinned_mention_id: Mapped[int | None] = mapped_column(Integer)
    first_source_id: Mapped[str | None] = mapped_column(String(100))
    first_seen_at: Mapped[datetime | None]  # when Syndicate first stored a mention of it
    first_stated_at: Mapped[datetime | None]  # the partner's date of its earliest statement
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    conflicts: Mapped[list | None] = mapped_column(JSON, default=None, doc=(
        "members stating other figures for the same thing (a duration, year, percentage or count): "
        "`[{kind, statements: [{mention_id, site, figure}]}]`; null when they agree"))


class ClaimMember(Base):
    """Why a mention belongs to a claim: the method and score of the decision."""

    __tablename__ = "claim_members"
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    score: Mapped[float] = mapped_column(Float, default=1.0)
    decided_at: Mapped[datetime]


class FaqRow(Base):
    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("revision_id", "position", name="uq_faq_revision_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    position: Mapped[int]
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(30))
    question_id: Mapped[int | None] = mapped_column(Integer, index=True)
    method: Mapped[str | None] = mapped_column(String(30))
    score: Mapped[float | None] = mapped_column(Float)


class Override(Base):
    """An editor's decision (merge, split, pin), replayed by every later run and rebuild."""

    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    claim_id: Mapped[int]
    other_claim_id: Mapped[int | None]
    mention_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class ReviewAnswer(Base):
    """An editor's answer in `syndicate claims review`: do these two claims (or FAQ
    questions) say the same thing? "yes" merged them; "no" keeps their mentions apart in
    every later run (a cannot-link); the pair model is refitted from these rows."""

    __tablename__ = "review_answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the answer's id, in the order given")
    kind: Mapped[str] = mapped_column(String(10), index=True,
                                      doc="`claim` (claims) or `faq` (FAQ questions)")
    left_claim_id: Mapped[int] = mapped_column(Integer, doc="one side: its claim (or FAQ question) id when asked")
    right_claim_id: Mapped[int] = mapped_column(Integer, doc="the other side's id when asked")
    left_mention_ids: Mapped[list] = mapped_column(JSON, default=list,
                                                   doc="the mentions (or FAQ entries) of one side when asked")
    right_mention_ids: Mapped[list] = mapped_column(JSON, default=list, doc="those of the other side")
    verdict: Mapped[str] = mapped_column(String(10), doc=(
        "`yes`, `no`, `skip`, or `not-claim` (the left mentions were hidden as not a claim; "
        "the right side is empty)"))
    p_same: Mapped[float | None] = mapped_column(Float, doc="the model's probability that they were the same, when asked")
    evidence: Mapped[dict] = mapped_column(JSON, default=dict,
                                           doc="the pair evidence when asked: `{feature name: value}`")
    created_at: Mapped[datetime] = mapped_column(doc="when the answer was given")


class HiddenSentence(Base):
    """An editor's decision that a sentence is not a claim (`claims hide`, or "not a claim"
    in `claims review`): every current and later mention of this partner with this exact
    text is labelled `hidden` and belongs to no claim, in every run and rebuild. Undone by
    `claims unhide` (the row is kept, with who undid it and when)."""

    __tablename__ = "hidden_sentences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the decision's id, in the order taken")
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", name="fk_hidden_sentences_source_id"),
                                           index=True, doc="the partner whose sentence it is (`sources.id`)")
    text: Mapped[str] = mapped_column(Text, doc="the sentence as stored (`mentions.text`); every mention "
                                                "of this partner with this text is hidden")
    mention_id: Mapped[int | None] = mapped_column(Integer, doc="the mention the editor was shown (`mentions.id`)")
    claim_id: Mapped[int | None] = mapped_column(Integer, doc="the claim it belonged to when hidden")
    origin: Mapped[str] = mapped_column(String(20), doc="`review` (an answer in `claims review`) or `command` "
                                                        "(`claims hide`)")
    decided_by: Mapped[str] = mapped_column(String(200), doc="who decided (`--by`, or the login name)")
    created_at: Mapped[datetime] = mapped_column(doc="when it was hidden")
    undone_at: Mapped[datetime | None] = mapped_column(doc="when `claims unhide` undid it (null while it holds)")
    undone_by: Mapped[str | None] = mapped_column(String(200), doc="who undid it")


class PairModelRow(Base):
    """A learned pair model (dedupe.features.PairModel as JSON: names, weights, bias,
    threshold), fitted by the review queue from editor answers. The latest of a kind is the
    one clustering uses."""

    __tablename__ = "pair_models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the model's id (the latest of a kind is used)")
    kind: Mapped[str] = mapped_column(String(20), index=True, doc="`claim` or `question`")
    model: Mapped[dict] = mapped_column(JSON, doc=(
        "`{names, weights, bias, threshold}`: logistic weights over the named pair features "
        "(`pipeline/dedupe/features.py`); automatic merges need probability >= threshold"))
    answers: Mapped[int] = mapped_column(Integer, default=0, doc="how many editor answers it was fitted on")
    created_at: Mapped[datetime] = mapped_column(doc="when it was fitted")


class EmbeddingRow(Base):
    """Sentence vectors cached by text hash, so incremental runs never re-encode the corpus."""

    __tablename__ = "embeddings"
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class EditorDecisionRow(Base):
    """An editor's decision taken in the desk or with the CLI (topic renames and merges, the
    week's note, claim splits, pins and merges, review answers, sentences hidden), with who
    and when; undone decisions are kept, with who undid them and when."""

    __tablename__ = "editor_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the decision's id, in the order taken")
    action: Mapped[str] = mapped_column(String(30), index=True, doc=(
        "`topic-rename`, `topic-merge`, `note`, `split`, `pin`, `merge`, `review` or `hide`"))
    week: Mapped[str | None] = mapped_column(String(10), index=True,
                                             doc="the ISO week it was taken on (`2026-W47`), when it concerns one")
    subject: Mapped[str] = mapped_column(Text, doc="what it is about, in words (`claim 12`, `topic Sleep`)")
    details: Mapped[dict] = mapped_column(JSON, default=dict, doc=(
        "what was decided (`{label, shown_as}`, `{text}`, `{claim_id, mention_ids}`, `{verdict, question}` ...)"))
    undo: Mapped[dict] = mapped_column(JSON, default=dict, doc=(
        "what undoing it restores: the claims and memberships it changed as they were, the rows it added"))
    decided_by: Mapped[str] = mapped_column(String(200), doc="who took it (the desk's editor, or the CLI's user)")
    created_at: Mapped[datetime] = mapped_column(doc="when")
    undone_at: Mapped[datetime | None] = mapped_column(doc="when it was undone (null: in force)")
    undone_by: Mapped[str | None] = mapped_column(String(200), doc="who undid it")


class DigestSendRow(Base):
    """Each attempt to email a week's digest: a second send of a sent week needs an
    explicit override, and a failed one says why."""

    __tablename__ = "digest_sends"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the attempt's id")
    week: Mapped[str] = mapped_column(String(10), index=True, doc="the ISO week sent (`2026-W47`)")
    recipients: Mapped[list] = mapped_column(JSON, default=list, doc="the addresses it was sent to")
    status: Mapped[str] = mapped_column(String(10), doc="`sent` or `failed`")
    error: Mapped[str | None] = mapped_column(Text, doc="why it failed (null when sent)")
    smtp_host: Mapped[str | None] = mapped_column(String(300), doc="the SMTP server's host")
    message_id: Mapped[str | None] = mapped_column(String(300), doc="the message's Message-ID")
    content_hash: Mapped[str | None] = mapped_column(String(64), doc="SHA-256 of what the digest said")
    override: Mapped[bool] = mapped_column(Boolean, default=False, doc="sent again on purpose after a send")
    sent_by: Mapped[str] = mapped_column(String(200), doc="who sent it")
    created_at: Mapped[datetime] = mapped_column(doc="when")


class RunRow(Base):
    """One `syndicate run`, recorded when it starts. status: running, ok, failed,
    interrupted (SIGINT/SIGTERM; its counts in summary), abandoned (its process died: found
    by the next run that took over its lock)."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None] = mapped_column(Boolean)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str | None] = mapped_column(String(20))


class SourceRunRow(Base):
    """One source's part of one run: its health verdict and what its pages yielded (the
    partner's baseline is made of its recent healthy rows)."""

    __tablename__ = "source_runs"
    __table_args__ = (UniqueConstraint("run_id", "source_id", name="uq_source_runs_run_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the row's id, in the order recorded")
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", name="fk_source_runs_run_id"), index=True,
                                        doc="the run (`runs.id`)")
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", name="fk_source_runs_source_id"), index=True,
                                           doc="the partner")
    started_at: Mapped[datetime] = mapped_column(doc="when the run started")
    state: Mapped[str] = mapped_column(String(20), doc="`healthy`, `degraded` or `failed` in this run")
    reasons: Mapped[list] = mapped_column(JSON, default=list, doc=(
        "why it was degraded (health reasons) or failed (its errors): `[{kind, message, url}]`"))
    pages: Mapped[int] = mapped_column(Integer, default=0, doc="article pages extracted this run (changed ones)")
    extracted: Mapped[int] = mapped_column(Integer, default=0, doc="of those, with at least one sentence")
    structured: Mapped[int] = mapped_column(Integer, default=0, doc=(
        "of those, with a known structure (`<article>`, `<main>`, Article markup)"))
    sentences: Mapped[int] = mapped_column(Integer, default=0, doc="sentences extracted from those pages")
    claims: Mapped[int] = mapped_column(Integer, default=0, doc="of which labelled claims")
    words: Mapped[int] = mapped_column(Integer, default=0, doc="words of their main text")
    held: Mapped[int] = mapped_column(Integer, default=0, doc="pages whose new version was held aside")
    duration: Mapped[float] = mapped_column(Float, default=0.0, doc="seconds its harvest took")


class HeldPageRow(Base):
    """A page whose new version looked wrong, kept aside: its raw body is a snapshot; the
    article's last good version stays current until the same version is seen on a later
    run or an editor accepts it (`syndicate sources accept`)."""

    __tablename__ = "held_pages"
    __table_args__ = (UniqueConstraint("source_id", "url", name="uq_held_pages_source_url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="the held page's id")
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", name="fk_held_pages_source_id"), index=True,
                                           doc="the partner")
    url: Mapped[str] = mapped_column(String(2000), doc="the page as requested")
    article_url: Mapped[str | None] = mapped_column(Text, doc="the URL its article is stored under")
    guid: Mapped[str | None] = mapped_column(Text, doc="the feed item's guid, if any")
    snapshot_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("snapshots.sha256", name="fk_held_pages_snapshot"), doc=(
            "the raw body held (`snapshots.sha256`); null when the version came from the feed's content"))
    content_hash: Mapped[str] = mapped_column(String(64), doc="the extracted version's hash (a revision's would be)")
    reasons: Mapped[list] = mapped_column(JSON, default=list, doc="why it was held: `[{kind, message, url}]`")
    first_seen_at: Mapped[datetime] = mapped_column(doc="when this version was first seen")
    last_seen_at: Mapped[datetime] = mapped_column(doc="when it was last seen")
    first_run_id: Mapped[int | None] = mapped_column(Integer, doc="the run that first saw it")
    sightings: Mapped[int] = mapped_column(Integer, default=1, doc="runs that saw this version")


class RunLockRow(Base):
    """The run lock: at most one row per lock name, held by one process that refreshes
    heartbeat_at. A holder whose process is gone (same host, pid dead) or whose heartbeat
    is stale is taken over; `token` makes the take-over and the release exact."""

    __tablename__ = "run_lock"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    run_id: Mapped[int | None]


Index("ix_articles_published", ArticleRow.published)
