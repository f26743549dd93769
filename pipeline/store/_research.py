"""The database as a research dataset: the views (typed, documented), the citations table,
full-text search (SQLite FTS5 or PostgreSQL tsvector behind one method), and the claims list.

The views themselves are created by migration 0005 (db/migrations/versions/0005_research.py);
the Table objects below describe them to SQLAlchemy (so dates come back as UTC datetimes on
both engines) and to docs/schema.md (each column's `doc`). They live in their own MetaData:
`create_all` and Alembic's autogenerate must never try to create them as tables.
Must not: write anything but citation rows (saved with their article), or know about files.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence
from urllib.parse import urlsplit

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, and_, func, insert, literal_column, \
    select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..errors import StoreError
from ..types import ClaimSummary, Sentence
from ._base import StoreBase, _iso, _utc
from ._clean import SEARCH_CHARS
from .models import ArticleRow, CitationRow, ClaimMember, ClaimRow, FaqRow, MentionRow, SourceRow, UTCDateTime

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


# --- full-text search ---------------------------------------------------------------------------

SNIPPET_START, SNIPPET_END = "**", "**"
MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 32
SEARCH_TIMEOUT = 10.0  # seconds a search may take before it is stopped
PG_CONFIG = "syndicate_english"  # English stemming, no stop words (migration 0006)
_WORD = re.compile(r"[^\W_]+")  # what both engines' tokenizers count as a word: letters and digits
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_mentions_fts = table("mentions_fts", literal_column("rowid"))
_faq_fts = table("faq_fts", literal_column("rowid"))


@dataclass(frozen=True, slots=True)
class SearchGroup:
    """Alternatives are groups: every `include` term must match, no `exclude` term may.
    A term is a tuple of words: one word, or a phrase (its words adjacent, in order)."""
    include: tuple[tuple[str, ...], ...]
    exclude: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class SearchQuery:
    groups: tuple[SearchGroup, ...]  # any group may match (OR)


def parse_query(query: str) -> SearchQuery:
    """The search syntax, the same on both engines: words (each must appear, stemmed),
    "quoted phrases" (the words adjacent and in order), `OR` between alternatives (binding
    looser than the implicit AND: `a b OR c` is `(a b) OR c`), and `-word` or `-"a phrase"`
    to exclude. A word written with inner punctuation (`covid-19`, `don't`) is the phrase of
    its parts, as both engines' tokenizers split it. `StoreError` for a query with nothing to
    look for, an alternative with only exclusions, or one over the length limits."""
    if len(query) > MAX_QUERY_CHARS:
        raise StoreError(f"search query of {len(query):,} characters is too long: at most {MAX_QUERY_CHARS}")
    groups: list[SearchGroup] = []
    include: list[tuple[str, ...]] = []
    exclude: list[tuple[str, ...]] = []
    words = 0

    def close() -> None:
        if exclude and not include:
            raise StoreError(f"nothing to look for in {query!r} besides what to exclude: give a word "
                             "that must appear (-word only narrows a search)")
        if include:
            groups.append(SearchGroup(tuple(include), tuple(exclude)))
        include.clear()
        exclude.clear()

    for m in _TOKEN.finditer(query):
        minus, phrase, bare_minus, bare = m.groups()
        if bare == "OR" and not bare_minus:
            close()
            continue
        minus = minus if phrase is not None else bare_minus
        term = tuple(w.lower() for w in _WORD.findall(phrase if phrase is not None else bare))
        if not term:
            continue
        words += len(term)
        (exclude if minus else include).append(term)
    close()
    if words > MAX_QUERY_WORDS:
        raise StoreError(f"search query of {words} words is too long: at most {MAX_QUERY_WORDS}")
    if not groups:
        raise StoreError(f"nothing to search for in {query!r}: give at least one word")
    return SearchQuery(tuple(groups))


def fts5_query(q: SearchQuery) -> str:
    """The query as an FTS5 MATCH expression: every term quoted (a phrase for FTS5), so no
    word is ever read as FTS5 syntax."""
    def term(t: tuple[str, ...]) -> str:
        return '"' + " ".join(t) + '"'  # words are letters and digits only: nothing to escape

    parts = []
    for g in q.groups:
        expr = "(" + " AND ".join(term(t) for t in g.include) + ")"
        if g.exclude:
            expr = f"({expr} NOT ({' OR '.join(term(t) for t in g.exclude)}))"
        parts.append(expr)
    return " OR ".join(parts)


def _pg_vector(column):
    """The indexed expression (migration 0006): keep it identical, or the index is not used."""
    return func.to_tsvector(literal_column(f"'{PG_CONFIG}'::regconfig"),
                            func.left(column, literal_column(str(SEARCH_CHARS))))


def _pg_tsquery(q: SearchQuery):
    """The query as a tsquery built from phraseto_tsquery terms (bound parameters)."""
    cfg = literal_column(f"'{PG_CONFIG}'::regconfig")

    def term(t: tuple[str, ...]):
        return func.phraseto_tsquery(cfg, " ".join(t))

    def combine(fn, terms):
        out = terms[0]
        for t in terms[1:]:
            out = fn(out, t)
        return out

    groups = []
    for g in q.groups:
        expr = combine(func.tsquery_and, [term(t) for t in g.include])
        for t in g.exclude:
            expr = func.tsquery_and(expr, func.tsquery_not(term(t)))
        groups.append(expr)
    return combine(func.tsquery_or, groups)


class ResearchMixin(StoreBase):
    def search(self, query: str, *, site: str | None = None, kind: str | None = None,
               since: datetime | None = None, min_partners: int | None = None, limit: int = 50,
               timeout: float = SEARCH_TIMEOUT) -> list[dict]:
        """Sentences (and FAQ pairs, kind `faq`) of current revisions matching `query`
        (`parse_query`: words stemmed, "phrases", OR, -exclusion), best first, with a
        highlighted snippet (`**word**`), the claim a sentence belongs to and the partners
        stating that claim (for a FAQ pair: its question and the partners answering it).
        `min_partners` applies to both. A search that takes longer than `timeout` seconds is
        stopped with `StoreError`."""
        parsed = parse_query(query)
        results: list[dict] = []
        deadline = _Deadline(timeout)
        if kind != "faq":
            results += self._search_mentions(parsed, site, kind, since, min_partners, limit, deadline)
        if kind in (None, "faq"):
            results += self._search_faq(parsed, site, since, min_partners, limit, deadline)
        return results[:limit] if kind is not None else sorted(results, key=lambda r: r["rank"])[:limit]

    def _fts(self, parsed: SearchQuery):
        """(match condition, snippet, rank) for mentions on this engine."""
        if self.engine.dialect.name == "sqlite":
            return (text("mentions_fts MATCH :q").bindparams(q=fts5_query(parsed)),
                    literal_column(f"snippet(mentions_fts, 0, '{SNIPPET_START}', '{SNIPPET_END}', '…', 24)"),
                    literal_column("bm25(mentions_fts)"))
        cfg = literal_column(f"'{PG_CONFIG}'::regconfig")
        tsq = _pg_tsquery(parsed)
        vector = _pg_vector(MentionRow.text)
        options = f"StartSel={SNIPPET_START}, StopSel={SNIPPET_END}, MaxWords=35, MinWords=15"
        return (vector.op("@@")(tsq),
                func.ts_headline(cfg, func.left(MentionRow.text, literal_column(str(SEARCH_CHARS))), tsq, options),
                -func.ts_rank(vector, tsq))

    def _search_mentions(self, parsed, site, kind, since, min_partners, limit, deadline) -> list[dict]:
        match, snippet, rank = self._fts(parsed)
        partners = self.claim_partners()
        m, art = MentionRow.__table__, ArticleRow.__table__
        if self.engine.dialect.name == "sqlite":
            base = _mentions_fts.join(m, m.c.id == literal_column("mentions_fts.rowid"))
        else:
            # The matches first, on their own (MATERIALIZED): without planner statistics (a
            # fresh database, before autovacuum's ANALYZE) PostgreSQL otherwise joined first and
            # computed to_tsvector for every sentence: 2 s instead of 30 ms at 50k sentences.
            hits = select(m.c.id.label("hit_id"), rank.label("hit_rank")).where(match) \
                .cte("hits").prefix_with("MATERIALIZED")
            base = hits.join(m, m.c.id == hits.c.hit_id)
            match, rank = hits.c.hit_id.is_not(None), hits.c.hit_rank
        from_ = (base.join(art, and_(art.c.id == m.c.article_id, art.c.current_revision_id == m.c.revision_id))
                 .join(SourceRow.__table__, SourceRow.id == m.c.source_id)
                 .outerjoin(ClaimMember.__table__, ClaimMember.mention_id == m.c.id)
                 .outerjoin(ClaimRow.__table__, and_(ClaimRow.id == ClaimMember.claim_id, ClaimRow.status == "active")))
        q = (select(MentionRow.id, MentionRow.kind, MentionRow.display, snippet.label("snippet"), rank.label("rank"),
                    MentionRow.source_id, SourceRow.name, ArticleRow.url, ArticleRow.title, ArticleRow.published,
                    ClaimRow.id, ClaimRow.canonical_text)
             .select_from(from_).where(match))
        if site:
            q = q.where(MentionRow.source_id == site)
        if kind:
            q = q.where(MentionRow.kind == kind)
        if since:
            q = q.where(func.coalesce(ArticleRow.published, ArticleRow.first_seen_at) >= since)
        q = q.order_by(literal_column("rank"), MentionRow.id)
        if not min_partners:  # otherwise filtered below, after the partners are known
            q = q.limit(limit)
        out = []
        for mid, mkind, display, snip, rk, src, name, url, title, published, claim_id, claim_text in \
                self._search_rows(q, deadline):
            sites = partners.get(claim_id, []) if claim_id is not None else []
            if min_partners and len(sites) < min_partners:
                continue
            out.append(dict(type="mention", id=mid, kind=mkind, site=src, site_name=name, article_url=url,
                            article_title=title, published=_iso(published), text=display, snippet=snip,
                            claim_id=claim_id, claim_text=claim_text, claim_partners=sites, rank=float(rk)))
            if len(out) >= limit:
                break
        return out

    def _search_faq(self, parsed, site, since, min_partners, limit, deadline) -> list[dict]:
        if self.engine.dialect.name == "sqlite":
            match = text("faq_fts MATCH :fq").bindparams(fq=fts5_query(parsed))
            snippet = literal_column(f"snippet(faq_fts, -1, '{SNIPPET_START}', '{SNIPPET_END}', '…', 24)")
            rank = literal_column("bm25(faq_fts)")
        else:
            cfg = literal_column(f"'{PG_CONFIG}'::regconfig")
            tsq = _pg_tsquery(parsed)
            doc = FaqRow.question + " " + FaqRow.answer
            vector = _pg_vector(doc)
            match = vector.op("@@")(tsq)
            snippet = func.ts_headline(cfg, func.left(doc, literal_column(str(SEARCH_CHARS))), tsq,
                                       f"StartSel={SNIPPET_START}, StopSel={SNIPPET_END}, MaxWords=35, MinWords=15")
            rank = -func.ts_rank(vector, tsq)
        f, art = FaqRow.__table__, ArticleRow.__table__
        base = _faq_fts.join(f, f.c.id == literal_column("faq_fts.rowid")) \
            if self.engine.dialect.name == "sqlite" else f
        from_ = (base.join(art, art.c.current_revision_id == f.c.revision_id)
                 .join(SourceRow.__table__, SourceRow.id == art.c.source_id))
        q = (select(FaqRow.id, FaqRow.question, FaqRow.answer, FaqRow.question_id, snippet.label("snippet"),
                    rank.label("rank"), ArticleRow.source_id, SourceRow.name, ArticleRow.url, ArticleRow.title,
                    ArticleRow.published)
             .select_from(from_).where(match))
        if site:
            q = q.where(ArticleRow.source_id == site)
        if since:
            q = q.where(func.coalesce(ArticleRow.published, ArticleRow.first_seen_at) >= since)
        q = q.order_by(literal_column("rank"), FaqRow.id)
        if not min_partners:
            q = q.limit(limit)
        answering = self.question_partners()
        out = []
        for fid, question, answer, qid, snip, rk, src, name, url, title, published in self._search_rows(q, deadline):
            sites = answering.get(qid, [src]) if qid is not None else [src]
            if min_partners and len(sites) < min_partners:
                continue
            out.append(dict(type="faq", id=fid, kind="faq", site=src, site_name=name, article_url=url,
                            article_title=title, published=_iso(published), text=f"{question} {answer}",
                            snippet=snip, question_id=qid, question_partners=sites, claim_id=None,
                            claim_text=None, claim_partners=[], rank=float(rk)))
        return out[:limit]

    def _search_rows(self, q, deadline: "_Deadline") -> list:
        """Rows of a search query, stopped when the search's time is up: PostgreSQL's
        statement_timeout, SQLite's progress handler (checked every 1,000 VM steps)."""
        left = deadline.left()
        with self.session() as s:
            if self.engine.dialect.name == "postgresql":
                s.execute(text(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}"))
                raw = None
            else:
                raw = s.connection().connection.driver_connection
                raw.set_progress_handler(lambda: 1 if deadline.over() else 0, 1000)
            try:
                return s.execute(q).all()
            except DBAPIError as e:
                if deadline.over() or "statement timeout" in str(e) or "interrupted" in str(e):
                    raise StoreError(f"the search took longer than {deadline.seconds:g} s and was stopped: "
                                     "narrow it (fewer words, a phrase, --site, --kind)") from e
                raise StoreError(f"search failed: {e.orig or e}") from e
            finally:
                if raw is not None:
                    raw.set_progress_handler(None, 0)

    def _rows(self, q) -> list:
        with self.session() as s:
            return s.execute(q).all()

    # --- claims across partners ---------------------------------------------------------------

    def claim_partners(self) -> dict[int, list[str]]:
        """{claim id: sorted partner ids stating it} over current revisions (active claims)."""
        out: dict[int, set[str]] = {}
        with self.session() as s:
            for claim_id, site in s.execute(select(claim_sources.c.claim_id, claim_sources.c.site).distinct()):
                out.setdefault(claim_id, set()).add(site)
        return {k: sorted(v) for k, v in out.items()}

    def question_partners(self) -> dict[int, list[str]]:
        """{FAQ question id: sorted partner ids answering it} over current revisions."""
        out: dict[int, set[str]] = {}
        with self.session() as s:
            for qid, site in s.execute(select(faq_answers.c.question_id, faq_answers.c.site).distinct()
                                       .where(faq_answers.c.question_id.is_not(None))):
                out.setdefault(qid, set()).add(site)
        return {k: sorted(v) for k, v in out.items()}

    def claims_list(self, *, min_partners: int | None = None, site: str | None = None,
                    since: datetime | None = None) -> list[ClaimSummary]:
        """Active claims (from the `claim_summary` view) with their partners, most partners
        first. `since`: first seen by Syndicate on or after it; `site`: stated by that partner."""
        partners = self.claim_partners()
        q = select(claim_summary).order_by(claim_summary.c.partners.desc(), claim_summary.c.claim_id)
        if min_partners:
            q = q.where(claim_summary.c.partners >= min_partners)
        if since:
            q = q.where(claim_summary.c.first_seen >= since)
        out = []
        for row in self._rows(q):
            sites = partners.get(row.claim_id, [])
            if site and site not in sites:
                continue
            out.append(ClaimSummary(claim_id=row.claim_id, text=row.canonical_text, partners=row.partners,
                                    sites=tuple(sites), mentions=row.mentions,
                                    first_published=_utc(_dt(row.first_published)),
                                    first_seen=_utc(_dt(row.first_seen)), last_seen=_utc(_dt(row.last_seen))))
        return out

    def view_rows(self, name: str, order_by: Iterable[str] = ()) -> list[dict]:
        """Every row of a view as a dict (datetimes as UTC datetimes on both engines)."""
        view = VIEW_TABLES[name]
        with self.session() as s:
            q = select(view).order_by(*(view.c[c] for c in order_by))
            return [dict(r._mapping) for r in s.execute(q)]

    # --- for dataset releases -----------------------------------------------------------------

    def source_attribution(self) -> list[dict]:
        """Each partner's id, name and homepage, for attribution."""
        with self.session() as s:
            return [dict(id=r.id, name=r.name, homepage=r.homepage)
                    for r in s.scalars(select(SourceRow).order_by(SourceRow.id))]

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


def _dt(value):
    """Aggregates over dates come back as strings on SQLite."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def over(self) -> bool:
        return time.monotonic() >= self.end
