"""issue 20 - an index on articles.current_revision_id; validators by host

- `articles.current_revision_id` is indexed. Every query over current sentences
  (unclustered mentions, claim states, the digest, exports, search) joins
  `articles.current_revision_id = revisions.id`; without an index SQLite planned that join
  as a scan of every article for each sentence: counting the unclustered mentions at the
  start of a run took 100 s at 200 sources x 20 articles, growing with the square of the
  corpus. With it the join is a lookup on both engines.
- `http_validators.host` (indexed): the URL's host name, lower case and without port,
  backfilled from the URL. A task-queue worker reads the validators of one source's hosts
  (`Store.known_urls_on_hosts`) instead of every URL ever fetched.

Revision ID: 0010
Revises: 0009
"""
from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 1000


def _host(url: str) -> str | None:  # pipeline/store/_articles.url_host as of this revision
    try:
        return (urlsplit(url).hostname or None) if url else None
    except ValueError:
        return None


def upgrade() -> None:
    op.create_index("ix_articles_current_revision_id", "articles", ["current_revision_id"])
    with op.batch_alter_table("http_validators") as batch:
        batch.add_column(sa.Column("host", sa.String(300), nullable=True))
    op.create_index("ix_http_validators_host", "http_validators", ["host"])
    conn = op.get_bind()
    table = sa.table("http_validators", sa.column("url", sa.String), sa.column("host", sa.String))
    urls = [r[0] for r in conn.execute(sa.select(table.c.url))]
    for i in range(0, len(urls), BATCH):
        rows = [{"u": u, "h": h} for u in urls[i:i + BATCH] if (h := _host(u))]
        if rows:
            conn.execute(table.update().where(table.c.url == sa.bindparam("u")).values(host=sa.bindparam("h")),
                         rows)


def downgrade() -> None:
    op.drop_index("ix_http_validators_host", table_name="http_validators")
    with op.batch_alter_table("http_validators") as batch:
        batch.drop_column("host")
    op.drop_index("ix_articles_current_revision_id", table_name="articles")
