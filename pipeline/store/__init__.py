"""The database: the only module that imports SQLAlchemy.

Owns the schema (models.py, migrated by Alembic from db/migrations), one transaction per
article, upserts on natural keys, and the queries behind exports, the digest and the
claims commands. Takes and returns plain values from `pipeline.types` (and dicts for
exports); ORM objects never leave this package.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..dedupe import ClaimState
from ..dedupe.normalize import normalize_for_match
from ..errors import StoreError
from ..types import ExtractedArticle, Kind, Membership, MentionInput, Response, Source, SourceReport
from .models import (ArticleRow, ClaimMember, ClaimRow, EmbeddingRow, FaqRow, HttpValidator,
                     MentionRow, Override, RevisionRow, RunRow, Snapshot, SourceRow)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = PROJECT_ROOT / "db" / "migrations"
DEFAULT_DB_PATH = PROJECT_ROOT / "db" / "syndicate.sqlite"
DEFAULT_DB_URL = f"sqlite:///{DEFAULT_DB_PATH}"
SNAPSHOT_HEADERS = ("content-type", "etag", "last-modified", "content-encoding", "date")


@dataclass(frozen=True, slots=True)
class KnownUrl:
    """What the last fetch of a URL said: validators for a conditional GET, the snapshot
    behind them (None when the body was not kept or the URL failed), status and when."""

    etag: str | None
    last_modified: str | None
    snapshot_sha256: str | None
    status: int | None
    checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SavedArticle:
    article_id: int
    revision_id: int
    new_article: bool
    new_revision: bool


def normalize_db_url(url: str) -> str:
    """Accept plain file paths and postgres:// URLs; use psycopg 3 for PostgreSQL."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Store:
    """A Syndicate database. `Store.open(url)` migrates it to the current schema first."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> "Store":
        url = normalize_db_url(url or DEFAULT_DB_URL)
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError) as e:
            raise StoreError(f"cannot open database {url!r}: {e}") from e
        if engine.dialect.name == "sqlite":
            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: commits stay atomic and the file consistent; only a power cut
                # can lose the last transactions. One fsync per article would cost more.
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as e:
            raise StoreError(f"cannot migrate the database: {e}") from e

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    # --- sources and health -------------------------------------------------------------

    def sync_sources(self, sources: Sequence[Source]) -> None:
        with self.session() as s:
            for src in sources:
                row = s.get(SourceRow, src.id)
                if row is None:
                    s.add(SourceRow(id=src.id, name=src.name, homepage=src.homepage, consecutive_failures=0))
                else:
                    row.name, row.homepage = src.name, src.homepage

    def record_source_result(self, report: SourceReport, now: datetime) -> None:
        self.record_source_results([report], now)

    def record_source_results(self, reports: Sequence[SourceReport], now: datetime) -> None:
        """Health of several sources in one transaction."""
        with self.session() as s:
            for report in reports:
                self._record_source_result(s, report, now)

    @staticmethod
    def _record_source_result(s: Session, report: SourceReport, now: datetime) -> None:
        row = s.get(SourceRow, report.source_id)
        if row is None:
            return
        row.last_run_at = now
        if report.ok:
            row.last_success_at = now
            row.consecutive_failures = 0
        else:
            err = report.errors[0]
            row.last_error_at = now
            row.last_error_kind, row.last_error_message, row.last_error_url = err.kind, err.message, err.url
            row.consecutive_failures = (row.consecutive_failures or 0) + 1

    def source_health(self) -> list[dict]:
        with self.session() as s:
            counts = dict(s.execute(select(ArticleRow.source_id, func.count()).group_by(ArticleRow.source_id)).all())
            return [dict(id=r.id, name=r.name, homepage=r.homepage, articles=counts.get(r.id, 0),
                         last_run=_iso(r.last_run_at), last_success=_iso(r.last_success_at),
                         last_error_kind=r.last_error_kind, last_error_message=r.last_error_message,
                         last_error_url=r.last_error_url, last_error_at=_iso(r.last_error_at),
                         consecutive_failures=r.consecutive_failures or 0)
                    for r in s.scalars(select(SourceRow).order_by(SourceRow.id))]

    # --- HTTP validators and snapshots ----------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        with self.session() as s:
            row = s.get(HttpValidator, url)
            return (row.etag, row.last_modified) if row else (None, None)

    def all_validators(self) -> dict[str, "KnownUrl"]:
        """{url: KnownUrl} for every URL fetched (or found missing) before: one query, so a
        run of hundreds of sources reads its validators once."""
        with self.session() as s:
            rows = s.execute(select(HttpValidator.url, HttpValidator.etag, HttpValidator.last_modified,
                                    HttpValidator.snapshot_sha256, HttpValidator.status,
                                    HttpValidator.checked_at)).all()
            return {r[0]: KnownUrl(*r[1:]) for r in rows}

    @staticmethod
    def prepare_snapshot(body: bytes) -> tuple[str, bytes]:
        """(sha256, compressed body): CPU work a fetching thread can do (zlib and hashlib
        release the GIL) before handing the snapshot to `save_fetch_results`."""
        return hashlib.sha256(body).hexdigest(), zlib.compress(body, 6)

    def save_fetch_results(self, fetched: Sequence[tuple[Response, bool]],
                           failures: Sequence[tuple[str, int, datetime]] = (),
                           *, snapshots: bool = True,
                           prepared: dict[str, tuple[str, bytes]] | None = None) -> dict[str, str]:
        """Store the snapshots and validators of one source's fetches in one transaction;
        returns {requested url: snapshot sha}.

        `fetched` is (response, keep): keep=False forgets the URL's validators (the work
        the body was for failed), so the next run fetches it in full. `failures` are
        (url, HTTP status, when) of 4xx/5xx answers, remembered so that discovery does
        not probe a missing feed path every run. snapshots=False saves validators only
        (their snapshots were saved by an earlier call)."""
        shas: dict[str, str] = {}
        with self.session() as s:
            if snapshots:
                new_shas: set[str] = set()
                for resp, keep in fetched:
                    if resp.status != 200 or not keep:
                        continue
                    ready = (prepared or {}).get(resp.url)
                    digest = ready[0] if ready else hashlib.sha256(resp.body).hexdigest()
                    shas[resp.url] = digest
                    if digest in new_shas or s.get(Snapshot, digest) is not None:
                        continue
                    new_shas.add(digest)
                    s.add(Snapshot(sha256=digest, url=resp.final_url, status=resp.status,
                                   content_type=resp.header("content-type"),
                                   headers={k: v for k, v in resp.headers if k in SNAPSHOT_HEADERS},
                                   fetched_at=resp.fetched_at, size=len(resp.body),
                                   body=ready[1] if ready else zlib.compress(resp.body, 6)))
                s.flush()
            else:
                shas = {resp.url: hashlib.sha256(resp.body).hexdigest()
                        for resp, keep in fetched if resp.status == 200 and keep}
            urls = {resp.url for resp, _ in fetched} | {u for u, _, _ in failures}
            rows = {r.url: r for r in s.scalars(select(HttpValidator).where(HttpValidator.url.in_(urls)))} \
                if urls else {}
            for resp, keep in fetched:
                row = rows.get(resp.url)
                if row is None:
                    row = rows[resp.url] = HttpValidator(url=resp.url)
                    s.add(row)
                if resp.status == 200 or not keep:
                    row.etag = resp.header("etag") if keep else None
                    row.last_modified = resp.header("last-modified") if keep else None
                    row.snapshot_sha256 = shas.get(resp.url) if keep else None
                row.final_url, row.status, row.checked_at = resp.final_url, resp.status, resp.fetched_at
            for url, status, when in failures:
                row = rows.get(url)
                if row is None:
                    row = rows[url] = HttpValidator(url=url)
                    s.add(row)
                row.etag = row.last_modified = row.snapshot_sha256 = None
                row.final_url, row.status, row.checked_at = url, status, when
        return shas

    def mark_articles_checked(self, source_id: str, urls: Sequence[str], when: datetime) -> None:
        """Articles whose page answered 304: fetched (conditionally) at `when`, unchanged."""
        if not urls:
            return
        with self.session() as s:
            s.execute(update(ArticleRow).where(ArticleRow.source_id == source_id, ArticleRow.url.in_(list(urls)))
                      .values(last_fetched_at=when))

    def snapshot_body(self, sha256: str) -> bytes | None:
        with self.session() as s:
            row = s.get(Snapshot, sha256)
            return zlib.decompress(row.body) if row else None

    def snapshots_for_reprocess(self) -> Iterator[tuple[str, str, str, str | None, bytes]]:
        """(source_id, article url, guid, snapshot sha, body) of every article's newest
        snapshot, one body in memory at a time (a corpus of years does not fit at once)."""
        with self.session() as s:
            rows = s.execute(
                select(ArticleRow.source_id, ArticleRow.url, ArticleRow.guid, RevisionRow.snapshot_sha256)
                .join(RevisionRow, RevisionRow.id == ArticleRow.current_revision_id)
                .where(RevisionRow.snapshot_sha256.is_not(None))
                .order_by(ArticleRow.id)).all()
        for source_id, url, guid, sha in rows:
            body = self.snapshot_body(sha)
            if body is not None:
                yield source_id, url, guid, sha, body

    # --- articles, revisions, mentions ------------------------------------------------------

    def save_article(self, source_id: str, url: str, article: ExtractedArticle, *, guid: str | None,
                     snapshot_sha256: str | None, fetched_at: datetime,
                     previous_url: str | None = None) -> SavedArticle:
        """Store an extracted article in one transaction. A new revision only when the
        extracted content changed; claim mentions whose text the previous revision had
        keep their claim (method "carried")."""
        content_hash = _content_hash(article)
        meta = article.meta
        with self.session() as s:
            row = s.scalar(select(ArticleRow).where(ArticleRow.source_id == source_id, ArticleRow.url == url))
            if row is None and previous_url and previous_url != url:
                # a permanent redirect: the article moved, it is not a new one
                row = s.scalar(select(ArticleRow).where(ArticleRow.source_id == source_id,
                                                        ArticleRow.url == previous_url))
                if row is not None:
                    row.url = url
            new_article = row is None
            if row is None:
                row = ArticleRow(source_id=source_id, url=url, first_seen_at=fetched_at, last_fetched_at=fetched_at)
                s.add(row)
            row.guid = guid or row.guid
            row.canonical_url = meta.canonical_url or row.canonical_url
            row.title = meta.title or row.title
            row.author = meta.author or row.author
            row.published = meta.published or row.published
            row.updated = meta.updated or row.updated
            row.language = meta.language or row.language
            row.last_fetched_at = fetched_at
            s.flush()
            existing = s.scalar(select(RevisionRow).where(RevisionRow.article_id == row.id,
                                                          RevisionRow.content_hash == content_hash))
            if existing is not None:
                if row.current_revision_id != existing.id:  # content went back to an older version
                    row.current_revision_id = existing.id
                return SavedArticle(row.id, existing.id, new_article, False)
            previous_id = row.current_revision_id
            number = (s.scalar(select(func.max(RevisionRow.number)).where(RevisionRow.article_id == row.id)) or 0) + 1
            rev = RevisionRow(article_id=row.id, number=number, content_hash=content_hash,
                              snapshot_sha256=snapshot_sha256, fetched_at=fetched_at,
                              title=meta.title, text=article.text)
            s.add(rev)
            s.flush()
            # Core bulk inserts: one statement per table instead of an ORM round trip per
            # sentence (an article has ~50; the ORM path made storing slower than extracting).
            if article.sentences:
                s.execute(insert(MentionRow), [
                    dict(revision_id=rev.id, position=sent.position, text=sent.text, display=sent.display,
                         kind=str(sent.kind), section=sent.section, label=sent.label, block=sent.block,
                         citations=[{"text": c.text, "url": c.url, "footnote": c.footnote}
                                    for c in sent.citations])
                    for sent in article.sentences])
            if article.faq:
                s.execute(insert(FaqRow), [
                    dict(revision_id=rev.id, position=i, question=pair.question, answer=pair.answer,
                         origin=pair.origin)
                    for i, pair in enumerate(article.faq)])
            if previous_id is not None:
                mentions = s.execute(select(MentionRow.id, MentionRow.kind, MentionRow.text)
                                     .where(MentionRow.revision_id == rev.id)).all()
                self._carry_memberships(s, previous_id, mentions, fetched_at)
                self._carry_questions(s, previous_id, rev.id)
            row.current_revision_id = rev.id
            return SavedArticle(row.id, rev.id, new_article, True)

    @staticmethod
    def _carry_memberships(s: Session, previous_revision: int, mentions: Sequence,
                           now: datetime) -> None:
        """`mentions`: the new revision's (id, kind, text) rows."""
        old = s.execute(select(MentionRow.text, ClaimMember.claim_id)
                        .join(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                        .where(MentionRow.revision_id == previous_revision)).all()
        by_text = {normalize_for_match(t): c for t, c in old}
        for m in mentions:
            if m.kind == Kind.CLAIM and (claim := by_text.get(normalize_for_match(m.text))) is not None:
                s.add(ClaimMember(mention_id=m.id, claim_id=claim, method="carried", score=1.0, decided_at=now))

    @staticmethod
    def _carry_questions(s: Session, previous_revision: int, revision: int) -> None:
        old = {normalize_for_match(q): (qid, method, score) for q, qid, method, score in s.execute(
            select(FaqRow.question, FaqRow.question_id, FaqRow.method, FaqRow.score)
            .where(FaqRow.revision_id == previous_revision, FaqRow.question_id.is_not(None)))}
        for row in s.scalars(select(FaqRow).where(FaqRow.revision_id == revision)):
            if (hit := old.get(normalize_for_match(row.question))) is not None:
                row.question_id, row.method, row.score = hit[0], "carried", 1.0

    # --- FAQ questions across sites --------------------------------------------------------------

    def _current_faq(self):
        return (select(FaqRow.id, ArticleRow.source_id, FaqRow.question, ArticleRow.published,
                       ArticleRow.first_seen_at, FaqRow.question_id)
                .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id))

    def faq_states(self) -> tuple[list[ClaimState], list[MentionInput], int]:
        """(questions with their current entries, entries without a question, next id)."""
        groups: dict[int, list[MentionInput]] = {}
        new: list[MentionInput] = []
        with self.session() as s:
            for fid, site, question, pub, seen, qid in s.execute(self._current_faq().order_by(FaqRow.id)):
                m = MentionInput(fid, site, question, pub or seen)
                (new.append(m) if qid is None else groups.setdefault(qid, []).append(m))
            next_id = (s.scalar(select(func.max(FaqRow.question_id))) or 0) + 1
        return [ClaimState(q, tuple(ms)) for q, ms in sorted(groups.items())], new, next_id

    def save_faq_memberships(self, memberships: Sequence[Membership]) -> None:
        with self.session() as s:
            for m in memberships:
                s.execute(update(FaqRow).where(FaqRow.id == m.mention_id)
                          .values(question_id=m.claim_id, method=m.method, score=float(m.score)))

    # --- claims -------------------------------------------------------------------------------

    def _current_claim_mentions(self):
        return (select(MentionRow.id, ArticleRow.source_id, MentionRow.text, ArticleRow.published,
                       ArticleRow.first_seen_at)
                .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                .where(MentionRow.kind == Kind.CLAIM.value))

    def unclustered_mentions(self) -> list[MentionInput]:
        with self.session() as s:
            q = self._current_claim_mentions().outerjoin(ClaimMember, ClaimMember.mention_id == MentionRow.id) \
                .where(ClaimMember.mention_id.is_(None)).order_by(MentionRow.id)
            return [MentionInput(mid, site, text, pub or seen) for mid, site, text, pub, seen in s.execute(q)]

    def claim_states(self) -> list[ClaimState]:
        """Every active claim with its current members."""
        with self.session() as s:
            q = self._current_claim_mentions().add_columns(ClaimMember.claim_id) \
                .join(ClaimMember, ClaimMember.mention_id == MentionRow.id).order_by(MentionRow.id)
            members: dict[int, list[MentionInput]] = {}
            for mid, site, text, pub, seen, claim_id in s.execute(q):
                members.setdefault(claim_id, []).append(MentionInput(mid, site, text, pub or seen))
            pins = dict(s.execute(select(ClaimRow.id, ClaimRow.pinned_mention_id)
                                  .where(ClaimRow.status == "active")).all())
            return [ClaimState(cid, tuple(ms), pins.get(cid)) for cid, ms in sorted(members.items())
                    if cid in pins]

    def load_embeddings(self, mentions: Sequence[MentionInput], model: str) -> dict[int, bytes]:
        """Cached sentence vectors of these mentions, by mention id (looked up by text hash)."""
        by_hash: dict[str, list[int]] = {}
        for m in mentions:
            by_hash.setdefault(_text_hash(m.text), []).append(m.mention_id)
        out: dict[int, bytes] = {}
        hashes = list(by_hash)
        with self.session() as s:
            for i in range(0, len(hashes), 500):
                for h, vec in s.execute(select(EmbeddingRow.text_sha256, EmbeddingRow.vector)
                                        .where(EmbeddingRow.model == model,
                                               EmbeddingRow.text_sha256.in_(hashes[i:i + 500]))):
                    for mid in by_hash[h]:
                        out[mid] = vec
        return out

    def save_embeddings(self, vectors: dict[str, bytes], model: str) -> None:
        """Store vectors by text: {text: vector bytes}."""
        with self.session() as s:
            known = set()
            hashes = {_text_hash(t): v for t, v in vectors.items()}
            keys = list(hashes)
            for i in range(0, len(keys), 500):
                known.update(s.scalars(select(EmbeddingRow.text_sha256).where(
                    EmbeddingRow.model == model, EmbeddingRow.text_sha256.in_(keys[i:i + 500]))))
            s.add_all(EmbeddingRow(text_sha256=h, model=model, vector=v) for h, v in hashes.items() if h not in known)

    def fixed_memberships(self) -> dict[int, int]:
        """Memberships an editor decided (merge, split, pin): no clustering may move them."""
        with self.session() as s:
            return dict(s.execute(select(ClaimMember.mention_id, ClaimMember.claim_id)
                                  .where(ClaimMember.method.like("editor%"))).all())

    def replace_memberships(self, memberships: Sequence[Membership], now: datetime) -> int:
        """After a rebuild: store the memberships that changed (editor ones never do).
        Returns how many moved."""
        moved = 0
        with self.session() as s:
            current = {m.mention_id: (m.claim_id, m.method) for m in s.scalars(select(ClaimMember))}
            known = set(s.scalars(select(ClaimRow.id)))
            for m in memberships:
                old = current.get(m.mention_id)
                if old is not None and (old[1].startswith("editor") or old[0] == m.claim_id):
                    continue
                if m.claim_id not in known:
                    s.add(ClaimRow(id=m.claim_id, status="active", canonical_text="", created_at=now, updated_at=now))
                    known.add(m.claim_id)
                s.merge(ClaimMember(mention_id=m.mention_id, claim_id=m.claim_id, method=m.method,
                                    score=float(m.score), decided_at=now))
                moved += 1
        return moved

    def next_claim_id(self) -> int:
        with self.session() as s:
            return (s.scalar(select(func.max(ClaimRow.id))) or 0) + 1

    def save_memberships(self, memberships: Sequence[Membership], now: datetime) -> int:
        """Store clustering decisions; creates the claims they name. Returns new claims."""
        created = 0
        with self.session() as s:
            known = set(s.scalars(select(ClaimRow.id)))
            for m in memberships:
                if m.claim_id not in known:
                    s.add(ClaimRow(id=m.claim_id, status="active", canonical_text="", created_at=now, updated_at=now))
                    known.add(m.claim_id)
                    created += 1
                s.merge(ClaimMember(mention_id=m.mention_id, claim_id=m.claim_id, method=m.method,
                                    score=float(m.score), decided_at=now))
        return created

    def refresh_claims(self, canonical_of, now: datetime) -> None:
        """Recompute canonical text and first source; retire claims with no current member."""
        states = {c.claim_id: c for c in self.claim_states()}
        with self.session() as s:
            for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active")):
                state = states.get(row.id)
                if state is None:
                    row.status, row.updated_at = "retired", now
                    continue
                mention_id = canonical_of(state)
                text = next(m.text for m in state.members if m.mention_id == mention_id)
                first = min(state.members, key=lambda m: (m.seen_at or now, m.mention_id))
                if (row.canonical_mention_id, row.canonical_text, row.first_source_id) != (mention_id, text, first.site):
                    row.canonical_mention_id, row.canonical_text = mention_id, text
                    row.first_source_id, row.first_seen_at, row.updated_at = first.site, first.seen_at, now

    def claim_detail(self, claim_id: int) -> dict | None:
        """A claim with every current member and how each was decided."""
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None:
                return None
            q = (select(MentionRow, ClaimMember, ArticleRow.source_id, ArticleRow.url, RevisionRow.number)
                 .join(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                 .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .where(ClaimMember.claim_id == claim_id).order_by(ArticleRow.source_id, MentionRow.position))
            members = [dict(mention_id=m.id, site=site, article_url=url, revision=rev, position=m.position,
                            section=m.section, text=m.text, method=cm.method, score=round(cm.score, 4))
                       for m, cm, site, url, rev in s.execute(q)]
            overrides = [dict(action=o.action, claim_id=o.claim_id, other_claim_id=o.other_claim_id,
                              mention_ids=o.mention_ids, created_at=_iso(o.created_at))
                         for o in s.scalars(select(Override).where(
                             (Override.claim_id == claim_id) | (Override.other_claim_id == claim_id))
                             .order_by(Override.id))]
            return dict(claim_id=row.id, status=row.status, merged_into=row.merged_into,
                        text=row.canonical_text, canonical_mention_id=row.canonical_mention_id,
                        pinned_mention_id=row.pinned_mention_id, first_site=row.first_source_id,
                        first_seen=_iso(row.first_seen_at), sites=sorted({m["site"] for m in members}),
                        members=members, overrides=overrides)

    def merge_claims(self, keep: int, other: int, now: datetime) -> None:
        """Editor override: every member of `other` joins `keep`; `other` is closed as merged."""
        if keep == other:
            raise StoreError("cannot merge a claim with itself")
        with self.session() as s:
            a, b = s.get(ClaimRow, keep), s.get(ClaimRow, other)
            for cid, row in ((keep, a), (other, b)):
                if row is None or row.status != "active":
                    raise StoreError(f"claim {cid} does not exist or is not active")
            s.execute(update(ClaimMember).where(ClaimMember.claim_id == other)
                      .values(claim_id=keep, method="editor-merge", score=1.0, decided_at=now))
            b.status, b.merged_into, b.updated_at = "merged", keep, now
            s.add(Override(action="merge", claim_id=keep, other_claim_id=other, mention_ids=[], created_at=now))

    def split_claim(self, claim_id: int, mention_ids: Sequence[int], now: datetime) -> int:
        """Editor override: the given members leave `claim_id` for a new claim; returns its id."""
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None or row.status != "active":
                raise StoreError(f"claim {claim_id} does not exist or is not active")
            members = set(s.scalars(select(ClaimMember.mention_id).where(ClaimMember.claim_id == claim_id)))
            missing = sorted(set(mention_ids) - members)
            if missing:
                raise StoreError(f"mention(s) {', '.join(map(str, missing))} are not members of claim {claim_id}")
            if set(mention_ids) == members:
                raise StoreError("a split must leave at least one mention in the claim")
            new_id = (s.scalar(select(func.max(ClaimRow.id))) or 0) + 1
            s.add(ClaimRow(id=new_id, status="active", canonical_text="", created_at=now, updated_at=now))
            s.flush()
            s.execute(update(ClaimMember).where(ClaimMember.mention_id.in_(list(mention_ids)))
                      .values(claim_id=new_id, method="editor-split", score=1.0, decided_at=now))
            s.add(Override(action="split", claim_id=claim_id, other_claim_id=new_id,
                           mention_ids=sorted(mention_ids), created_at=now))
            return new_id

    def pin_claim(self, claim_id: int, mention_id: int | None, now: datetime) -> int:
        """Editor override: fix the claim's canonical text to a member mention's text, and
        fix every current member in the claim (no later run moves them)."""
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None or row.status != "active":
                raise StoreError(f"claim {claim_id} does not exist or is not active")
            members = set(s.scalars(select(ClaimMember.mention_id).where(ClaimMember.claim_id == claim_id)))
            mention_id = mention_id if mention_id is not None else row.canonical_mention_id
            if mention_id not in members:
                raise StoreError(f"mention {mention_id} is not a member of claim {claim_id}")
            row.pinned_mention_id, row.updated_at = mention_id, now
            s.execute(update(ClaimMember).where(ClaimMember.claim_id == claim_id,
                                                ClaimMember.method.not_like("editor%"))
                      .values(method="editor-pin", decided_at=now))
            s.add(Override(action="pin", claim_id=claim_id, other_claim_id=None, mention_ids=[mention_id],
                           created_at=now))
            return mention_id

    # --- exports ------------------------------------------------------------------------------------

    def export_mentions(self) -> Iterator[dict]:
        with self.session() as s:
            q = (select(ArticleRow.source_id, ArticleRow.url, RevisionRow.number, MentionRow, ClaimMember.claim_id)
                 .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .outerjoin(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                 .order_by(ArticleRow.source_id, ArticleRow.url, MentionRow.position))
            for site, url, rev, m, claim_id in s.execute(q):
                yield dict(site=site, article_url=url, revision=rev, position=m.position, text=m.text,
                           display=m.display, kind=m.kind, section=m.section, label=m.label,
                           citations=[{"text": c["text"], "url": c.get("url")} for c in m.citations or []],
                           claim_id=claim_id if m.kind == Kind.CLAIM.value else None, mention_id=m.id)

    def export_claims(self) -> Iterator[dict]:
        states = {c.claim_id: c for c in self.claim_states()}
        with self.session() as s:
            for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active").order_by(ClaimRow.id)):
                state = states.get(row.id)
                if state is None:
                    continue
                sites = sorted({m.site for m in state.members})
                yield dict(claim_id=row.id, text=row.canonical_text, sites=sites,
                           mentions=len(state.members), first_site=row.first_source_id,
                           first_seen=_iso(row.first_seen_at))

    def export_faq(self) -> Iterator[dict]:
        with self.session() as s:
            q = (select(ArticleRow.source_id, ArticleRow.url, FaqRow)
                 .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .order_by(ArticleRow.source_id, ArticleRow.url, FaqRow.position))
            for site, url, f in s.execute(q):
                yield dict(site=site, article_url=url, question=f.question, answer=f.answer,
                           faq_id=f.question_id if f.question_id is not None else f.id)

    def export_articles(self) -> Iterator[dict]:
        with self.session() as s:
            counts = dict(s.execute(select(RevisionRow.article_id, func.count()).group_by(RevisionRow.article_id)).all())
            for a in s.scalars(select(ArticleRow).order_by(ArticleRow.source_id, ArticleRow.url)):
                yield dict(site=a.source_id, url=a.url, title=a.title, author=a.author,
                           published=_iso(a.published), updated=_iso(a.updated),
                           revisions=counts.get(a.id, 0), last_fetched=_iso(a.last_fetched_at))

    # --- runs ---------------------------------------------------------------------------------------

    def record_run(self, started: datetime, finished: datetime, ok: bool, summary: dict) -> None:
        with self.session() as s:
            s.add(RunRow(started_at=started, finished_at=finished, ok=ok, summary=summary))

    def counts(self) -> dict[str, int]:
        with self.session() as s:
            return {
                "sources": s.scalar(select(func.count()).select_from(SourceRow)),
                "articles": s.scalar(select(func.count()).select_from(ArticleRow)),
                "revisions": s.scalar(select(func.count()).select_from(RevisionRow)),
                "mentions": s.scalar(select(func.count()).select_from(MentionRow)),
                "claims": s.scalar(select(func.count()).select_from(ClaimRow).where(ClaimRow.status == "active")),
                "faq": s.scalar(select(func.count()).select_from(FaqRow)),
                "snapshots": s.scalar(select(func.count()).select_from(Snapshot)),
            }

    def table_counts(self) -> dict[str, int]:
        """Rows in every table: what a re-run must leave unchanged."""
        from .models import Base
        with self.session() as s:
            return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                    if t.name != "runs"}

    # --- the digest -----------------------------------------------------------------------------

    def digest_data(self, start: datetime, end: datetime) -> dict:
        """Articles first seen or published in [start, end), their claims (with every site
        stating each, also outside the week), their FAQ, and revisions made in the week."""
        states = {c.claim_id: c for c in self.claim_states()}
        with self.session() as s:
            sources = {r.id: r.name for r in s.scalars(select(SourceRow))}
            articles = list(s.scalars(select(ArticleRow).where(
                func.coalesce(ArticleRow.published, ArticleRow.first_seen_at) >= start,
                func.coalesce(ArticleRow.published, ArticleRow.first_seen_at) < end)
                .order_by(ArticleRow.published, ArticleRow.id)))
            art_by_id = {a.id: a for a in s.scalars(select(ArticleRow))}
            mention_article = dict(s.execute(
                select(MentionRow.id, RevisionRow.article_id)
                .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                .where(MentionRow.kind == Kind.CLAIM.value)).all())
            week_ids = {a.id for a in articles}
            claims = []
            for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active").order_by(ClaimRow.id)):
                state = states.get(row.id)
                if state is None:
                    continue
                arts = {mention_article[m.mention_id] for m in state.members if m.mention_id in mention_article}
                if not arts & week_ids:
                    continue
                attributions = []
                for aid in sorted(arts, key=lambda i: (art_by_id[i].source_id, i)):
                    a = art_by_id[aid]
                    attributions.append(dict(site=a.source_id, site_name=sources.get(a.source_id, a.source_id),
                                             url=a.url, title=a.title))
                claims.append(dict(claim_id=row.id, text=row.canonical_text, attributions=attributions,
                                   sites=sorted({x["site"] for x in attributions}), mentions=len(state.members)))
            claims.sort(key=lambda c: (-len(c["sites"]), -c["mentions"], c["claim_id"]))
            faq_rows = s.execute(select(ArticleRow.source_id, ArticleRow.url, FaqRow)
                                 .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                                 .where(ArticleRow.id.in_(week_ids) if week_ids else False)
                                 .order_by(FaqRow.question_id, FaqRow.id)).all()
            faq: dict[int, dict] = {}
            for site, url, f in faq_rows:
                key = f.question_id if f.question_id is not None else -f.id
                entry = faq.setdefault(key, dict(question=f.question, answers=[]))
                entry["answers"].append(dict(site=site, site_name=sources.get(site, site), url=url, answer=f.answer))
            changed = []
            revs = s.execute(select(RevisionRow, ArticleRow).join(ArticleRow, ArticleRow.id == RevisionRow.article_id)
                             .where(RevisionRow.number > 1, RevisionRow.fetched_at >= start,
                                    RevisionRow.fetched_at < end)).all()
            for rev, art in revs:
                changed.append(dict(site=art.source_id, site_name=sources.get(art.source_id), url=art.url,
                                    title=art.title, revision=rev.number,
                                    **self._revision_diff(s, art.id, rev.number)))
            return dict(
                articles=[dict(site=a.source_id, site_name=sources.get(a.source_id, a.source_id), url=a.url,
                               title=a.title, author=a.author, published=a.published) for a in articles],
                claims=claims, faq=list(faq.values()), changed=changed)

    def _revision_diff(self, s: Session, article_id: int, number: int) -> dict:
        def sentences(n: int) -> list[str]:
            return list(s.scalars(select(MentionRow.text).join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                                  .where(RevisionRow.article_id == article_id, RevisionRow.number == n)
                                  .order_by(MentionRow.position)))
        old, new = sentences(number - 1), sentences(number)
        return dict(added=[t for t in new if t not in old], removed=[t for t in old if t not in new])



def _content_hash(article: ExtractedArticle) -> str:
    payload = json.dumps([[(x.text, str(x.kind), x.section) for x in article.sentences],
                          [(f.question, f.answer) for f in article.faq]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


__all__ = ["Store", "SavedArticle", "KnownUrl", "DEFAULT_DB_URL", "normalize_db_url", "StoreError"]
