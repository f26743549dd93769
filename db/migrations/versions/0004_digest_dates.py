"""issue 11 - partner dates, first_seen_at, digest archive

Revisions get the partner's date (`partner_date`, from the feed's or page's updated /
published / dateModified) and where it came from (`date_source`: published, updated or
fetched, the fallback). Claims get `first_stated_at`, the partner's date of their earliest
statement, apart from `first_seen_at` (when Syndicate first stored a mention of them).

Existing rows are filled from what the database already knows: a first revision is dated
by its article's `published` when there is one, any other revision by its fetch time.

Revision ID: 0004
Revises: 0003
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_date', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('date_source', sa.String(length=20), nullable=True))
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_stated_at', sa.DateTime(timezone=True), nullable=True))
    published = sa.text("(SELECT articles.published FROM articles WHERE articles.id = revisions.article_id)")
    op.execute(sa.text(
        f"UPDATE revisions SET partner_date = COALESCE({published}, fetched_at), "
        f"date_source = CASE WHEN {published} IS NULL THEN 'fetched' ELSE 'published' END "
        "WHERE number = 1"))
    op.execute(sa.text("UPDATE revisions SET partner_date = fetched_at, date_source = 'fetched' "
                       "WHERE number > 1"))


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('first_stated_at')
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_column('date_source')
        batch_op.drop_column('partner_date')
