"""The database as a research dataset: the views (typed, documented), the citations table,
and what dataset releases read. Full-text search (SQLite FTS5 or PostgreSQL tsvector behind
one method) and the claims list are `_reads.ReadQueries`' (SQL text that the read commands
also run without SQLAlchemy).

The views themselves are created by migration 0005 (db/migrations/versions/0005_research.py);
the Table objects below describe them to SQLAlchemy (so dates come back as UTC datetimes on
both engines) and to docs/schema.md (each column's `doc`). They live in their own MetaData:
`create_all` and Alembic's autogenerate must never try to create them as tables.
Must not: write anything but citation rows (saved with their article), or know about files.
"""
from __future__ import annotations

from typing import Iterable, Sequence
from urllib.parse import urlsplit

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, insert, select
from sqlalchemy.orm import Session

from ..types import Sentence
from ._base import StoreBase, _iso
from ._reads import _dt
from .models import ArticleRow, CitationRow, MentionRow, SourceRow, UTCDateTime

# --- citations ----------------------------------------------------------------------------------

CITATION_KINDS = ("footnote", "inline", "promotional")


def url_host(url: str | None) -> str:
    """The host of a URL, lower case, without a leading www. ('' when there is none)."""
    host = (urlsplit(url or "").hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def citation_kind(url: str | None, footnote: str | None, sentence_kind: str, own_hosts: set[str]) -> str:
    """`promotional` when the link goes to the partner's own site (its homepage's or the
    article's host: the partner pointing at its own services or posts) or the sentence is
    labelled promo; otherwise `footnote` for a resolved footnote marker, `inline` for a link
    in the text. A general signal: nothing here knows a particular partner."""
    if sentence_kind == "promo" or (url and url_host(url) in own_hosts):
        return "promotional"
    return "footnote" if footnote else "inline"


def save_citations(s: Session, revision_id: int, article_id: int, source_id: str, article_url: str,
                   sentences: Sequence[Sentence]) -> None:
    """One `citations` row per citation of the revision's sentences (just inserted)."""
    if not any(sent.citations for sent in sentences):
        return
    homepage = s.scalar(select(SourceRow.homepage).where(SourceRow.id == source_id))
    own = {url_host(homepage), url_host(article_url)} - {""}
    ids = dict(s.execute(select(MentionRow.position, MentionRow.id).where(MentionRow.revision_id == revision_id)).all())
    rows = [dict(mention_id=ids[sent.position], article_id=article_id, source_id=source_id, position=i,
                 text=c.text or "", url=c.url, host=url_host(c.url) or None, footnote=c.footnote,
                 kind=citation_kind(c.url, c.footnote, str(sent.kind), own))
            for sent in sentences if sent.position in ids for i, c in enumerate(sent.citations)]
    if rows:
        s.execute(insert(CitationRow.__table__), rows)


# --- the views, as SQLAlchemy sees them ---------------------------------------------------------

VIEWS = MetaData()


def _col(name: str, type_, doc: str) -> Column:
    return Column(name, type_, doc=doc)


_PROVENANCE = {
    "site": (String, "the partner's id (its registry file name; `sources.id`)"),
    "site_name": (String, "the partner's name, for attribution (`sources.name`)"),
    "article_id": (Integer, "`articles.id`"),
    "article_url": (Text, "the article's URL on the partner's site"),
    "article_title": (Text, "the article's title"),
    "revision_id": (Integer, "`revisions.id` of the article's current revision"),
    "revision": (Integer, "its number (1 for the first version Syndicate stored)"),
    "published": (UTCDateTime, "the partner's publication date of the article (UTC; null when it gives none)"),
    "fetched_at": (UTCDateTime, "when Syndicate stored this revision (UTC)"),
}


def _prov(*names: str) -> list[Column]:
    return [_col(n, _PROVENANCE[n][0], _PROVENANCE[n][1]) for n in names]


claim_sources = Table(
    "claim_sources", VIEWS,
    _col("claim_id", Integer, "`claims.id`"),
    _col("canonical_text", Text, "the claim's canonical text"),
    *_prov("site", "site_name", "article_id", "article_url", "article_title", "revision_id", "revision"),
    _col("mention_id", Integer, "`mentions.id` of the partner's sentence"),
    _col("position", Integer, "the sentence's place in the article (0-based, reading order)"),
    _col("sentence", Text, "the partner's own sentence, as written"),
    _col("method", String, "how the sentence joined the claim: `exact`, `near-copy`, `paraphrase`, `new`, "
                           "`carried` (same text as in the previous revision) or `editor-…`"),
    _col("score", Float, "the similarity behind that decision (1.0 for exact and editor decisions)"),
    *_prov("published", "fetched_at"),
    _col("article_first_seen_at", UTCDateTime, "when Syndicate first stored the article (UTC)"),
    info={"doc": "One row per active claim × partner sentence stating it, in the current revision of "
                 "each article: who said it, where, in which words, and when."},
)

claim_summary = Table(
    "claim_summary", VIEWS,
    _col("claim_id", Integer, "`claims.id`"),
    _col("canonical_text", Text, "the claim's canonical text"),
    _col("partners", Integer, "number of distinct partners stating it (current revisions)"),
    _col("mentions", Integer, "number of sentences stating it (current revisions)"),
    _col("first_published", UTCDateTime, "earliest partner publication date among those articles (UTC)"),
    _col("first_seen", UTCDateTime, "when Syndicate first stored a sentence of this claim, in any "
                                    "revision (UTC): use it for 'new this week'"),
    _col("last_seen", UTCDateTime, "the latest time Syndicate checked an article stating it (UTC)"),
    info={"doc": "One row per active claim: its canonical text, how many partners state it, and when it "
                 "was first and last seen."},
)

faq_answers = Table(
    "faq_answers", VIEWS,
    _col("question_id", Integer, "the question across partners (`faq_entries.question_id`; null until clustered)"),
    _col("canonical_question", Text, "the question's wording as first stored"),
    *_prov("site", "site_name", "article_id", "article_url", "article_title", "revision_id", "revision"),
    _col("faq_entry_id", Integer, "`faq_entries.id`"),
    _col("position", Integer, "the pair's place in the article's FAQ (0-based)"),
    _col("question", Text, "the partner's own wording of the question"),
    _col("answer", Text, "the partner's answer"),
    _col("origin", String, "where the pair was found: `json-ld`, `microdata`, `yoast`, `details`, `heading`"),
    *_prov("published", "fetched_at"),
    info={"doc": "One row per FAQ pair in the current revision of an article, with the question it "
                 "answers across partners: all answers to one question share `question_id`."},
)

article_changes = Table(
    "article_changes", VIEWS,
    *_prov("article_id", "site", "article_url", "article_title", "revision_id", "revision", "fetched_at"),
    _col("change", String, "`added` (in this revision, not the previous one) or `removed` (the reverse)"),
    _col("position", Integer, "the sentence's place in the revision that has it"),
    _col("kind", String, "the sentence's label (`claim`, `promo`, `question`, `heading`, `other`)"),
    _col("sentence", Text, "the sentence as written"),
    info={"doc": "One row per sentence added or removed by a revision (number 2 and later) compared "
                 "with the one before it; a first revision is not a change."},
)

VIEW_TABLES = {t.name: t for t in (claim_sources, claim_summary, faq_answers, article_changes)}


class ResearchMixin(StoreBase):
    def view_rows(self, name: str, order_by: Iterable[str] = ()) -> list[dict]:
        """Every row of a view as a dict (datetimes as UTC datetimes on both engines)."""
        view = VIEW_TABLES[name]
        with self.session() as s:
            q = select(view).order_by(*(view.c[c] for c in order_by))
            return [dict(r._mapping) for r in s.execute(q)]

    # --- for dataset releases -----------------------------------------------------------------

    def time_span(self) -> dict:
        """First and last partner publication dates and fetch times, as ISO strings."""
        from .models import RevisionRow
        with self.session() as s:
            p0, p1 = s.execute(select(func.min(ArticleRow.published), func.max(ArticleRow.published))).one()
            f0, f1 = s.execute(select(func.min(RevisionRow.fetched_at), func.max(RevisionRow.fetched_at))).one()
        conv = UTCDateTime().process_result_value
        d = self.engine.dialect
        return dict(published_first=_iso(conv(_dt(p0), d)), published_last=_iso(conv(_dt(p1), d)),
                    fetched_first=_iso(conv(_dt(f0), d)), fetched_last=_iso(conv(_dt(f1), d)))

    def claims_by_partners(self) -> dict[int, int]:
        """{number of partners: number of active claims stated by that many}."""
        with self.session() as s:
            rows = s.execute(select(claim_summary.c.partners, func.count()).group_by(claim_summary.c.partners))
            return {int(n): int(c) for n, c in rows}
