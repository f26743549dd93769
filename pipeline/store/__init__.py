"""The database: the only module that imports SQLAlchemy.

Owns the schema (models.py, migrated by Alembic from db/migrations), one transaction per
article, upserts on natural keys, and the queries behind exports, the digest and the
claims commands. Takes and returns plain values from `pipeline.types` (and dicts for
exports); ORM objects never leave this package.
"""
from __future__ import annotations

from ._articles import ArticlesMixin
from ._base import (
    DEFAULT_DB_PATH,
    DEFAULT_DB_URL,
    MIGRATIONS,
    KnownUrl,
    SavedArticle,
    StoreBase,
    normalize_db_url,
)
from ._claims import ClaimsMixin
from ._digest import DigestMixin
from ._editor import EditorMixin
from ._lock import LockHolder, LockMixin, RunLock
from ._queries import EXPORT_COLUMNS, EXPORT_KINDS, ExportFilter, QueriesMixin
from ._research import SNIPPET_END, SNIPPET_START, ResearchMixin
from ._review import HiddenMention, ReviewMixin
from ._runs import RunsMixin

__all__ = ["Store", "ExportFilter", "EXPORT_COLUMNS", "EXPORT_KINDS", "HiddenMention", "LockHolder", "RunLock",
           "KnownUrl", "SavedArticle", "SNIPPET_START", "SNIPPET_END", "normalize_db_url", "DEFAULT_DB_URL",
           "DEFAULT_DB_PATH", "MIGRATIONS"]


class Store(LockMixin, RunsMixin, ArticlesMixin, ClaimsMixin, QueriesMixin, ResearchMixin, DigestMixin, ReviewMixin,
            EditorMixin, StoreBase):
    """A Syndicate database. `Store.open(url)` migrates it to the current schema first.

    One face over one module per table family: `_runs` (sources, health, runs), `_articles`
    (fetch records, articles, revisions, mentions), `_claims` (claims, FAQ questions,
    overrides), `_queries` (exports), `_research` (views, citations, search), `_digest` (dates,
    the digest's rows), `_review` (review answers, sentences hidden as not a claim), `_editor` (editor decisions,
    topic renames, notes, sends), `_lock` (the run lock);
    `_base` holds the engine, sessions and migrations."""
