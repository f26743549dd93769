"""The queries behind the read commands (`syndicate sources`, `claims list`, `search`), each
written once as SQL text with :named parameters, and what opening a database needs before
SQLAlchemy: the database URL's normal form and the newest migration's revision.

`ReadQueries` holds the queries and turns their rows into typed values; it needs one
method from whatever runs them, `_read_rows(sql, params, deadline)`. `Store` runs them
through SQLAlchemy on both engines (`_base.StoreBase._read_rows`); `SqliteReader` runs the
same text through the standard library's `sqlite3`, for an SQLite file whose schema is
current, so that these commands start without importing SQLAlchemy or declaring the models
(issue 20: a read command under 0.3 s; tests/test_read_speed.py).

Rows come back raw on both paths (no column types): times are parsed here (SQLite stores
them as text, in SQLAlchemy's `YYYY-MM-DD HH:MM:SS.ffffff`, UTC), JSON columns are decoded
when the driver hands over text, and a time given as a parameter is written the way
SQLAlchemy stores it, so that SQLite compares text with text.

Must not: import SQLAlchemy, write anything.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import StoreError
from ..package_data import folder
from ..types import ClaimSummary, HealthReason, HealthState, HeldPage, Refresh, SourceHealth
from ._clean import SEARCH_CHARS

MIGRATIONS = folder("migrations")  # db/migrations/ in the repository, inside the package once installed
DEFAULT_DB_PATH = Path("db") / "syndicate.sqlite"  # relative to the current folder
DEFAULT_DB_URL = str(DEFAULT_DB_PATH)
BUSY_TIMEOUT = 10.0  # seconds a statement waits for another connection's write lock (the store's busy_timeout)


def normalize_db_url(url: str) -> str:
    """Accept plain file paths and postgres:// URLs; use psycopg 3 for PostgreSQL."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


_HEAD: list[str | None] = []


def head_revision() -> str | None:
    """The revision of the newest migration, read from the scripts' `revision =` and
    `down_revision =` lines without importing them (Alembic's ScriptDirectory imports every
    script, most of a read command's start-up). None unless there is exactly one head; then
    the open asks Alembic."""
    if not _HEAD:
        revisions, parents = set(), set()
        for script in (MIGRATIONS / "versions").glob("*.py"):
            text = script.read_text(encoding="utf-8")
            rev = re.search(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, re.M)
            down = re.search(r"^down_revision\s*(?::[^=]*)?=\s*(.*)$", text, re.M)
            if rev is None or down is None:
                _HEAD.append(None)
                return None
            revisions.add(rev.group(1))
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
        heads = revisions - parents
        _HEAD.append(heads.pop() if len(heads) == 1 else None)
    return _HEAD[0]


# --- stored values as Python values -------------------------------------------------------------

def _utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite gives it back naive)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


def _dt(value):
    """A time as the driver gives it back without column types: text on SQLite (columns and
    aggregates over them alike), a datetime on PostgreSQL."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _time(value) -> datetime | None:
    return _utc(_dt(value))


def _json(value):
    """A JSON column: decoded by psycopg, text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def _time_param(dialect: str, value: datetime) -> datetime | str:
    """A time to compare with a stored one: UTC text as SQLAlchemy stores it on SQLite."""
    value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else value


def typed_reasons(stored: list | None) -> tuple[HealthReason, ...]:
    return tuple(HealthReason(str(r.get("kind", "")), str(r.get("message", "")), r.get("url"))
                 for r in stored or () if isinstance(r, dict))


# --- full-text search: the query language ---------------------------------------------------------

SNIPPET_START, SNIPPET_END = "**", "**"
MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 32
SEARCH_TIMEOUT = 10.0  # seconds a search may take before it is stopped
PG_CONFIG = "syndicate_english"  # English stemming, no stop words (migration 0006)
_WORD = re.compile(r"[^\W_]+")  # what both engines' tokenizers count as a word: letters and digits
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


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


_PG_CFG = f"'{PG_CONFIG}'::regconfig"


def pg_vector(expr: str) -> str:
    """The indexed expression (migration 0006): keep it identical, or the index is not used."""
    return f"to_tsvector({_PG_CFG}, left({expr}, {SEARCH_CHARS}))"


def pg_tsquery(q: SearchQuery, params: dict) -> str:
    """The query as a tsquery built from phraseto_tsquery terms, whose text goes into
    `params` (bound parameters :t0, :t1 ...)."""
    def term(t: tuple[str, ...]) -> str:
        name = f"t{len(params)}"
        params[name] = " ".join(t)
        return f"phraseto_tsquery({_PG_CFG}, :{name})"

    def combine(fn: str, terms: list[str]) -> str:
        out = terms[0]
        for t in terms[1:]:
            out = f"{fn}({out}, {t})"
        return out

    groups = []
    for g in q.groups:
        expr = combine("tsquery_and", [term(t) for t in g.include])
        for t in g.exclude:
            expr = f"tsquery_and({expr}, tsquery_not({term(t)}))"
        groups.append(expr)
    return combine("tsquery_or", groups)


class Deadline:
    """When a search must stop: PostgreSQL's statement_timeout, SQLite's progress handler."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def over(self) -> bool:
        return time.monotonic() >= self.end

    def failed(self, error: BaseException, detail: object) -> StoreError:
        """The error of a search that the driver stopped, or that failed otherwise."""
        if self.over() or "statement timeout" in str(error) or "interrupted" in str(error):
            return StoreError(f"the search took longer than {self.seconds:g} s and was stopped: "
                              "narrow it (fewer words, a phrase, --site, --kind)")
        return StoreError(f"search failed: {detail}")


_HEADLINE = f"StartSel={SNIPPET_START}, StopSel={SNIPPET_END}, MaxWords=35, MinWords=15"


# --- the queries ----------------------------------------------------------------------------------

class ReadQueries:
    """The read commands' queries; a subclass runs SQL text: `_read_rows` and `_read_dialect`."""

    _read_dialect: str  # "sqlite" or "postgresql"

    def _read_rows(self, sql: str, params: dict | None = None, deadline: Deadline | None = None) -> list:
        """The rows (tuples) of `sql` with its :named `params`; with a `deadline` (a search),
        stopped when the time is up, raising `deadline.failed(...)`."""
        raise NotImplementedError

    # --- sources and their health ---------------------------------------------------------------

    def held_pages(self, source_id: str | None = None) -> list[HeldPage]:
        where = " WHERE source_id = :source_id" if source_id is not None else ""
        rows = self._read_rows("SELECT source_id, url, snapshot_sha256, reasons, first_seen_at, last_seen_at, sightings "
                               f"FROM held_pages{where} ORDER BY source_id, url", {"source_id": source_id})
        return [HeldPage(src, url, sha, typed_reasons(_json(reasons)), _time(first), _time(last), sightings or 1)
                for src, url, sha, reasons, first, last, sightings in rows]

    def source_health(self) -> list[SourceHealth]:
        """Every source's health (`next_due` is left to the caller, who knows the registry's
        intervals: see `Syndicate.source_health`)."""
        held: dict[str, list[HeldPage]] = {}
        for page in self.held_pages():
            held.setdefault(page.source_id, []).append(page)
        counts = dict(self._read_rows("SELECT source_id, count(*) FROM articles GROUP BY source_id"))
        rows = self._read_rows(
            "SELECT id, name, homepage, last_run_at, last_success_at, last_error_kind, last_error_message, "
            "last_error_url, last_error_at, consecutive_failures, last_warning_count, last_warning, last_off_scope, "
            "state, state_reasons, state_since, harvested_at, hint_seconds, hint_origin FROM sources ORDER BY id")
        return [SourceHealth(id=sid, name=name, homepage=homepage, articles=counts.get(sid, 0),
                             last_run=_time(last_run), last_success=_time(last_success),
                             last_error_kind=error_kind, last_error_message=error_message,
                             last_error_url=error_url, last_error_at=_time(error_at),
                             consecutive_failures=failures or 0, warnings=warnings or 0, last_warning=last_warning,
                             off_scope=off_scope or 0, state=state or HealthState.UNKNOWN.value,
                             reasons=typed_reasons(_json(reasons)), since=_time(since),
                             held=tuple(held.get(sid, ())), last_harvest=_time(harvested),
                             refresh=Refresh(hint_seconds, hint_origin or "?") if hint_seconds is not None else None)
                for (sid, name, homepage, last_run, last_success, error_kind, error_message, error_url, error_at,
                     failures, warnings, last_warning, off_scope, state, reasons, since, harvested, hint_seconds,
                     hint_origin) in rows]

    def source_attribution(self) -> list[dict]:
        """Each partner's id, name and homepage, for attribution."""
        return [dict(id=sid, name=name, homepage=homepage)
                for sid, name, homepage in self._read_rows("SELECT id, name, homepage FROM sources ORDER BY id")]

    # --- claims across partners -------------------------------------------------------------------

    def claim_partners(self) -> dict[int, list[str]]:
        """{claim id: sorted partner ids stating it} over current revisions (active claims)."""
        out: dict[int, set[str]] = {}
        for claim_id, site in self._read_rows("SELECT DISTINCT claim_id, site FROM claim_sources"):
            out.setdefault(claim_id, set()).add(site)
        return {k: sorted(v) for k, v in out.items()}

    def question_partners(self) -> dict[int, list[str]]:
        """{FAQ question id: sorted partner ids answering it} over current revisions."""
        out: dict[int, set[str]] = {}
        for qid, site in self._read_rows("SELECT DISTINCT question_id, site FROM faq_answers "
                                         "WHERE question_id IS NOT NULL"):
            out.setdefault(qid, set()).add(site)
        return {k: sorted(v) for k, v in out.items()}

    def claims_list(self, *, min_partners: int | None = None, site: str | None = None,
                    since: datetime | None = None) -> list[ClaimSummary]:
        """Active claims (from the `claim_summary` view) with their partners, most partners
        first. `since`: first seen by Syndicate on or after it; `site`: stated by that partner."""
        partners = self.claim_partners()
        where, params = [], {}
        if min_partners:
            where.append("partners >= :min_partners")
            params["min_partners"] = min_partners
        if since:
            where.append("first_seen >= :since")
            params["since"] = _time_param(self._read_dialect, since)
        rows = self._read_rows("SELECT claim_id, canonical_text, partners, mentions, first_published, first_seen, "
                               "last_seen FROM claim_summary" + (" WHERE " + " AND ".join(where) if where else "")
                               + " ORDER BY partners DESC, claim_id", params)
        out = []
        for claim_id, text, count, mentions, first_published, first_seen, last_seen in rows:
            sites = partners.get(claim_id, [])
            if site and site not in sites:
                continue
            out.append(ClaimSummary(claim_id=claim_id, text=text, partners=count, sites=tuple(sites),
                                    mentions=mentions, first_published=_time(first_published),
                                    first_seen=_time(first_seen), last_seen=_time(last_seen)))
        return out

    # --- full-text search -------------------------------------------------------------------------

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
        deadline = Deadline(timeout)
        if kind != "faq":
            results += self._search_mentions(parsed, site, kind, since, min_partners, limit, deadline)
        if kind in (None, "faq"):
            results += self._search_faq(parsed, site, since, min_partners, limit, deadline)
        return results[:limit] if kind is not None else sorted(results, key=lambda r: r["rank"])[:limit]

    def _filters(self, where: list[str], params: dict, site_column: str, site: str | None, since: datetime | None,
                 limit: int | None) -> tuple[str, str]:
        """The WHERE clause, the order and the limit shared by both searches."""
        if site:
            where.append(f"{site_column} = :site")
            params["site"] = site
        if since:
            where.append("coalesce(articles.published, articles.first_seen_at) >= :since")
            params["since"] = _time_param(self._read_dialect, since)
        tail = ""
        if limit is not None:
            tail = " LIMIT :limit"
            params["limit"] = limit
        return (" WHERE " + " AND ".join(where) if where else ""), tail

    def _search_mentions(self, parsed, site, kind, since, min_partners, limit, deadline) -> list[dict]:
        partners = self.claim_partners()
        params: dict = {}
        where: list[str] = []
        if self._read_dialect == "sqlite":
            head = ""
            snippet, rank, base = _fts5_match("mentions_fts", "mentions", 0, parsed, where, params)
        else:
            # The matches first, on their own (MATERIALIZED): without planner statistics (a
            # fresh database, before autovacuum's ANALYZE) PostgreSQL otherwise joined first and
            # computed to_tsvector for every sentence: 2 s instead of 30 ms at 50k sentences.
            tsq = pg_tsquery(parsed, params)
            vector = pg_vector("mentions.text")
            head = (f"WITH hits AS MATERIALIZED (SELECT mentions.id AS hit_id, -ts_rank({vector}, {tsq}) AS hit_rank "
                    f"FROM mentions WHERE {vector} @@ {tsq}) ")
            snippet = f"ts_headline({_PG_CFG}, left(mentions.text, {SEARCH_CHARS}), {tsq}, :headline)"
            params["headline"] = _HEADLINE
            rank = "hits.hit_rank"
            base = "hits JOIN mentions ON mentions.id = hits.hit_id"
        if kind:
            where.append("mentions.kind = :kind")
            params["kind"] = kind
        # with min_partners, the limit applies below, once the partners are known
        clause, tail = self._filters(where, params, "mentions.source_id", site, since,
                                     None if min_partners else limit)
        sql = (f"{head}SELECT mentions.id, mentions.kind, mentions.display, {snippet} AS snippet, {rank} AS rank, "
               "mentions.source_id, sources.name, articles.url, articles.title, articles.published, claims.id, "
               f"claims.canonical_text FROM {base} "
               "JOIN articles ON articles.id = mentions.article_id AND articles.current_revision_id = mentions.revision_id "
               "JOIN sources ON sources.id = mentions.source_id "
               "LEFT OUTER JOIN claim_members ON claim_members.mention_id = mentions.id "
               "LEFT OUTER JOIN claims ON claims.id = claim_members.claim_id AND claims.status = 'active'"
               f"{clause} ORDER BY rank, mentions.id{tail}")
        out = []
        for mid, mkind, display, snip, rk, src, name, url, title, published, claim_id, claim_text in \
                self._read_rows(sql, params, deadline):
            sites = partners.get(claim_id, []) if claim_id is not None else []
            if min_partners and len(sites) < min_partners:
                continue
            out.append(dict(type="mention", id=mid, kind=mkind, site=src, site_name=name, article_url=url,
                            article_title=title, published=_iso(_time(published)), text=display, snippet=snip,
                            claim_id=claim_id, claim_text=claim_text, claim_partners=sites, rank=float(rk)))
            if len(out) >= limit:
                break
        return out

    def _search_faq(self, parsed, site, since, min_partners, limit, deadline) -> list[dict]:
        params: dict = {}
        where: list[str] = []
        if self._read_dialect == "sqlite":
            snippet, rank, base = _fts5_match("faq_fts", "faq_entries", -1, parsed, where, params)
        else:
            tsq = pg_tsquery(parsed, params)
            doc = "faq_entries.question || ' ' || faq_entries.answer"
            vector = pg_vector(doc)
            snippet = f"ts_headline({_PG_CFG}, left({doc}, {SEARCH_CHARS}), {tsq}, :headline)"
            params["headline"] = _HEADLINE
            rank = f"-ts_rank({vector}, {tsq})"
            base = "faq_entries"
            where.append(f"{vector} @@ {tsq}")
        clause, tail = self._filters(where, params, "articles.source_id", site, since,
                                     None if min_partners else limit)
        sql = (f"SELECT faq_entries.id, faq_entries.question, faq_entries.answer, faq_entries.question_id, "
               f"{snippet} AS snippet, {rank} AS rank, articles.source_id, sources.name, articles.url, "
               f"articles.title, articles.published FROM {base} "
               "JOIN articles ON articles.current_revision_id = faq_entries.revision_id "
               f"JOIN sources ON sources.id = articles.source_id{clause} ORDER BY rank, faq_entries.id{tail}")
        answering = self.question_partners()
        out = []
        for fid, question, answer, qid, snip, rk, src, name, url, title, published in \
                self._read_rows(sql, params, deadline):
            sites = answering.get(qid, [src]) if qid is not None else [src]
            if min_partners and len(sites) < min_partners:
                continue
            out.append(dict(type="faq", id=fid, kind="faq", site=src, site_name=name, article_url=url,
                            article_title=title, published=_iso(_time(published)), text=f"{question} {answer}",
                            snippet=snip, question_id=qid, question_partners=sites, claim_id=None,
                            claim_text=None, claim_partners=[], rank=float(rk)))
        return out[:limit]


def _fts5_match(fts: str, table: str, column: int, parsed, where: list[str], params: dict) -> tuple[str, str, str]:
    """SQLite: match the query against the FTS5 index `fts` of `table` (its rowid is the row's
    id), adding the condition to `where`; returns the snippet (of index column `column`, -1:
    the best), rank and FROM expressions."""
    where.append(f"{fts} MATCH :q")
    params["q"] = fts5_query(parsed)
    return (f"snippet({fts}, {column}, '{SNIPPET_START}', '{SNIPPET_END}', '…', 24)", f"bm25({fts})",
            f"{fts} JOIN {table} ON {table}.id = {fts}.rowid")


# --- the same queries without SQLAlchemy ----------------------------------------------------------

class SqliteReader(ReadQueries):
    """The read queries on an SQLite file through `sqlite3`, one connection per query (so
    that threads may share a reader). Only for a database whose schema is current:
    `SqliteReader.open` says None otherwise, and the caller opens the `Store` (which
    migrates it, or says why it cannot)."""

    _read_dialect = "sqlite"

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def open(cls, path: Path | None) -> "SqliteReader | None":
        """A reader on `path`, or None when it is not an existing SQLite file with Syndicate's
        current schema (missing, not a database, no schema, an older or newer revision)."""
        if path is None or str(path) == ":memory:" or not path.is_file():
            return None
        reader = cls(path)
        try:
            rows = reader._read_rows("SELECT version_num FROM alembic_version")
        except StoreError:  # not a database, or no schema: the store says so, as it always has
            return None
        head = head_revision()
        return reader if head is not None and rows and rows[0][0] == head else None

    def _read_rows(self, sql: str, params: dict | None = None, deadline: Deadline | None = None) -> list:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
        try:
            if deadline is not None:
                conn.set_progress_handler(lambda: 1 if deadline.over() else 0, 1000)
            try:
                return conn.execute(sql, params or {}).fetchall()
            except sqlite3.Error as e:
                if deadline is None:
                    raise StoreError(f"cannot read the database {self.path}: {e}") from e
                raise deadline.failed(e, e) from e
        finally:
            conn.close()


__all__ = ["ReadQueries", "SqliteReader", "normalize_db_url", "head_revision", "parse_query", "fts5_query",
           "SearchQuery", "SearchGroup", "Deadline", "SNIPPET_START", "SNIPPET_END", "DEFAULT_DB_URL",
           "DEFAULT_DB_PATH", "MIGRATIONS"]
