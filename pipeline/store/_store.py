"""`Store`: the one face of the database, its table families' mixins put together."""
from __future__ import annotations

from ._articles import ArticlesMixin
from ._claims import ClaimsMixin
from ._digest import DigestMixin
from ._editor import EditorMixin
from ._lock import LockMixin
from ._queries import QueriesMixin
from ._research import ResearchMixin
from ._review import ReviewMixin
from ._runs import RunsMixin


class Store(LockMixin, RunsMixin, ArticlesMixin, ClaimsMixin, QueriesMixin, ResearchMixin, DigestMixin, ReviewMixin,
            EditorMixin):
    """A Syndicate database. `Store.open(url)` migrates it to the current schema first.

    One face over one module per table family: `_runs` (sources, health, runs), `_articles`
    (fetch records, articles, revisions, mentions), `_claims` (claims, FAQ questions,
    overrides), `_queries` (exports), `_research` (views, citations), `_digest` (dates,
    the digest's rows), `_review` (review answers, sentences hidden as not a claim), `_editor` (editor decisions,
    topic renames, notes, sends), `_lock` (the run lock);
    `_base` holds the engine, sessions and migrations, and `_reads` the read commands'
    queries (sources' health, held pages, the claims list, search), which `SqliteReader`
    also runs without SQLAlchemy."""
