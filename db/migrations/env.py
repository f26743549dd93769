"""Alembic environment: migrations run on the connection `Store.migrate` hands over,
or, from the alembic command line, on the URL in SYNDICATE_DB (default: the SQLite file)."""
from alembic import context
from sqlalchemy import create_engine

from pipeline.store import DEFAULT_DB_URL, normalize_db_url
from pipeline.store.models import Base

config = context.config
target_metadata = Base.metadata


def _include_name(name, type_, parent_names) -> bool:
    # Full-text search (migration 0005) is not in the models: SQLite's FTS5 tables
    # (mentions_fts, faq_fts and their shadow tables) and PostgreSQL's tsvector indexes
    # (ix_*_tsv). Autogenerate must not propose dropping them.
    if type_ == "table" and name and "_fts" in name:
        return False
    return not (type_ == "index" and name and name.endswith("_tsv"))


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", include_name=_include_name)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    import os
    engine = create_engine(normalize_db_url(os.environ.get("SYNDICATE_DB") or DEFAULT_DB_URL))
    with engine.begin() as conn:
        run(conn)
