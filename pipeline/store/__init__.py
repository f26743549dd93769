"""The database: the only package that imports SQLAlchemy.

Owns the schema (models.py, migrated by Alembic from db/migrations), one transaction per
article, upserts on natural keys, and the queries behind exports, the digest and the
claims commands. Takes and returns plain values from `pipeline.types` (and dicts for
exports); ORM objects never leave this package.

Its names are imported on first use: `Store` (and what comes with SQLAlchemy) only when
asked for, so that a read command that can go without it (`SqliteReader`, `_reads.py`)
never imports SQLAlchemy.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._reads import (DEFAULT_DB_PATH, DEFAULT_DB_URL, MIGRATIONS, SNIPPET_END, SNIPPET_START, ReadQueries,
                     SqliteReader, normalize_db_url)

if TYPE_CHECKING:
    from ._base import KnownUrl, SavedArticle
    from ._lock import LockHolder, RunLock
    from ._queries import EXPORT_COLUMNS, EXPORT_KINDS, ExportFilter
    from ._review import HiddenMention
    from ._store import Store

_LAZY = {"Store": "_store", "ExportFilter": "_queries", "EXPORT_COLUMNS": "_queries", "EXPORT_KINDS": "_queries",
         "HiddenMention": "_review", "LockHolder": "_lock", "RunLock": "_lock", "KnownUrl": "_base",
         "SavedArticle": "_base"}

__all__ = ["Store", "ExportFilter", "EXPORT_COLUMNS", "EXPORT_KINDS", "HiddenMention", "LockHolder", "RunLock",
           "KnownUrl", "SavedArticle", "SNIPPET_START", "SNIPPET_END", "normalize_db_url", "DEFAULT_DB_URL",
           "DEFAULT_DB_PATH", "MIGRATIONS", "ReadQueries", "SqliteReader"]


def __getattr__(name: str):
    """The names that need SQLAlchemy, imported on first use."""
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
