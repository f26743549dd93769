"""The models (pipeline/store/models.py) and the Alembic chain (db/migrations/) describe the
same schema, on SQLite and on PostgreSQL: autogenerate finds nothing to do after `upgrade
head`. Full-text search objects (not models) are left out the way db/migrations/env.py does."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pipeline.store import Store
from pipeline.store.models import Base


def _include_name(name, type_, parent_names) -> bool:
    if type_ == "table" and name and "_fts" in name:
        return False
    return not (type_ == "index" and name and name.endswith("_tsv"))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_models_match_the_migrations(engine, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}" if engine == "sqlite" else request.getfixturevalue("pg_url")
    store = Store.open(url)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _include_name, "compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    store.close()
    assert diffs == [], "models.py and db/migrations disagree; write or fix a migration"


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_research_migration_backfills_existing_data(engine, request, tmp_path):
    """0005 on a database that already has articles: down to 0004 (no views, citations or
    provenance columns), up again; the backfilled rows equal those the store wrote itself."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from pipeline.store import MIGRATIONS

    import research_data as rd

    url = f"sqlite:///{tmp_path / 'b.sqlite'}" if engine == "sqlite" else request.getfixturevalue("pg_url")
    store = rd.build(url)
    exports = {what: list(store.export(what)) for what in ("mentions", "citations", "claims", "faq")}
    def views_now():
        return {name: sorted(map(repr, store.view_rows(name))) for name in ("claim_summary", "article_changes")}

    views = views_now()
    search = store.search("walking")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    insp = inspect(store.engine)
    assert "citations" not in insp.get_table_names() and "claim_summary" not in insp.get_view_names()
    if engine == "sqlite":
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM mentions WHERE article_id IS NOT NULL")).scalar() == 0
    store.migrate()
    assert {what: list(store.export(what)) for what in exports} == exports
    assert views_now() == views
    assert store.search("walking") == search
    store.close()
