"""The engine, sessions and migrations every part of the store shares, plus small helpers."""
from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import MissingDatabase, StoreError
from ..types import ExtractedArticle
# _iso and _utc: the table families' modules import them from here
from ._reads import (DEFAULT_DB_URL, MIGRATIONS, Deadline, ReadQueries, _iso, _utc, head_revision,  # noqa: F401
                     normalize_db_url)

MIGRATION_LOCK_KEY = 0x53594E44  # "SYND": PostgreSQL advisory lock key serialising migrations
SNAPSHOT_HEADERS = ("content-type", "etag", "last-modified", "content-encoding", "date")
# How SQLite and PostgreSQL say that the disk under the database is full.
_DISK_FULL = ("database or disk is full", "No space left on device", "could not extend file", "quota exceeded")


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
    current_changed: bool = False  # the article's current revision is another one (new, or an older one again)


class StoreBase(ReadQueries):
    """Engine, sessions and migrations; the table families are mixins in the sibling modules
    (and the read commands' queries, `_reads.ReadQueries`, which it runs through SQLAlchemy)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._outer = threading.local()  # the session of a `transaction()` in progress, per thread

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True, create: bool = True) -> "StoreBase":
        """Open (and migrate) a database. `create=False` is for commands that only read an
        existing database: a missing SQLite file, or a database without Syndicate's schema,
        is refused with `MissingDatabase` instead of being created empty."""
        url = normalize_db_url(url or DEFAULT_DB_URL)
        sqlite_path = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
        if sqlite_path is not None and str(sqlite_path) != ":memory:":
            if not create and not sqlite_path.is_file():
                raise MissingDatabase(f"no Syndicate database at {sqlite_path}")
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError) as e:
            raise StoreError(f"cannot open database {url!r}: {e}") from e
        if engine.dialect.name == "sqlite":
            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                # first, so that switching a fresh file to WAL waits for a concurrent opener
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: commits stay atomic and the file consistent; only a power cut
                # can lose the last transactions. One fsync per article would cost more.
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()
        store = cls(engine)
        has_schema, revision = store._schema_revision()
        if not create and not has_schema:
            engine.dispose()
            raise MissingDatabase(f"no Syndicate database at {_display_url(engine)}")
        # The schema is current (every open but the first after an upgrade): one SELECT, and
        # neither Alembic nor the migration scripts are imported, so read commands start fast.
        if migrate and (revision is None or revision != head_revision()):
            store.migrate()
        return store

    def _schema_revision(self) -> tuple[bool, str | None]:
        """(whether the database has Syndicate's schema, its Alembic revision): one query."""
        try:
            with self.engine.connect() as conn:
                try:
                    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
                except DBAPIError:
                    return False, None  # no such table
                return True, (row[0] if row else None)
        except SQLAlchemyError as e:
            raise StoreError(f"cannot open database {_display_url(self.engine)}: {e}") from e

    def migrate(self) -> None:
        """Upgrade to the newest schema, in one transaction that holds a database-wide lock,
        so that processes starting together on a fresh database migrate one after the
        other (the second finds the schema current) instead of racing to create the same
        tables: BEGIN IMMEDIATE on SQLite (whose DDL otherwise runs outside any
        transaction), a transaction-level advisory lock on PostgreSQL."""
        from alembic import command
        from alembic.config import Config

        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            # Already current (every open but the first): no lock, so readers never write.
            with self.engine.connect() as conn:
                if MigrationContext.configure(conn).get_current_revision() == \
                        ScriptDirectory.from_config(cfg).get_current_head():
                    return
            with self.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=120000")
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=10000")
        except SQLAlchemyError as e:
            raise StoreError(f"cannot migrate the database: {e}") from e

    @property
    def display_url(self) -> str:
        """The database's URL without its password, or the SQLite file's path."""
        return _display_url(self.engine)

    @property
    def is_shared(self) -> bool:
        """A server database (PostgreSQL) that processes on several machines can write."""
        return self.engine.dialect.name != "sqlite"

    @property
    def _read_dialect(self) -> str:
        return self.engine.dialect.name

    def _read_rows(self, sql: str, params: dict | None = None, deadline: Deadline | None = None) -> list:
        """Rows of one of `ReadQueries`' SQL texts. With a `deadline` (a search), stopped when
        its time is up: PostgreSQL's statement_timeout, SQLite's progress handler (checked
        every 1,000 VM steps)."""
        with self.session() as s:
            raw = None
            if deadline is not None and self.engine.dialect.name == "postgresql":
                s.execute(text(f"SET LOCAL statement_timeout = {max(1, int(deadline.left() * 1000))}"))
            elif deadline is not None:
                raw = s.connection().connection.driver_connection
                raw.set_progress_handler(lambda: 1 if deadline.over() else 0, 1000)
            try:
                return s.execute(text(sql), params or {}).all()
            except DBAPIError as e:
                if deadline is None:
                    raise
                raise deadline.failed(e, e.orig or e) from e
            finally:
                if raw is not None:
                    raw.set_progress_handler(None, 0)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in its own transaction; inside `transaction()`, that transaction's."""
        outer = getattr(self._outer, "session", None)
        if outer is not None:
            yield outer
            return
        try:
            with self._session() as s, s.begin():
                yield s
        except OperationalError as e:
            if any(sign in str(e.orig) for sign in _DISK_FULL):
                raise StoreError(f"the database's disk is full ({_display_url(self.engine)}): {e.orig}; "
                                 "nothing of this transaction was stored") from e
            raise

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction around several store calls (on this thread): all of them are
        committed together at the end, or none when an exception leaves the block. An
        editor's answer and its effect (merge, cannot-link, hide) go through one."""
        if getattr(self._outer, "session", None) is not None:
            yield self._outer.session
            return
        with self._session() as s, s.begin():
            self._outer.session = s
            try:
                yield s
            finally:
                self._outer.session = None


def url_host(url: str) -> str | None:
    """A URL's host name, lower case, without port (`http_validators.host`)."""
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def insert_ignoring(s: Session, table):
    """INSERT ... ON CONFLICT DO NOTHING on either engine: for rows that concurrent
    writers (task-queue workers) may insert at the same moment with the same key."""
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(table).on_conflict_do_nothing()


def _display_url(engine: Engine) -> str:
    """The database's URL without its password, or the SQLite file's path."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _content_hash(article: ExtractedArticle) -> str:
    payload = json.dumps([[(x.text, str(x.kind), x.section) for x in article.sentences],
                          [(f.question, f.answer) for f in article.faq]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
