"""issue 18 - partner health and per-source fetch intervals

- `sources`: the partner's health state (healthy, degraded, failed), since when and why;
  when its last harvest started and the pace its listings asked for (feed <ttl>,
  sy:updatePeriod, Cache-Control max-age, Expires), so a run skips a source not due.
- `source_runs`: each source's part of each run, its verdict and what its pages yielded:
  the partner's baseline is made of its recent healthy rows.
- `held_pages`: a page whose new version looked wrong (a JavaScript shell, a login wall,
  a maintenance or soft-404 page, a revision dropping most of the article), kept aside as
  a snapshot until seen again on a later run or accepted by an editor.

Existing sources start with no state (`unknown`) and no interval: every source is due at
the first run after the upgrade, which records their state.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('state_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('state_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('harvested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hint_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('hint_origin', sa.String(length=40), nullable=True))

    op.create_table('source_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('extracted', sa.Integer(), nullable=False),
    sa.Column('structured', sa.Integer(), nullable=False),
    sa.Column('sentences', sa.Integer(), nullable=False),
    sa.Column('claims', sa.Integer(), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name='fk_source_runs_run_id'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name='fk_source_runs_source_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'source_id', name='uq_source_runs_run_source')
    )
    op.create_index('ix_source_runs_run_id', 'source_runs', ['run_id'], unique=False)
    op.create_index('ix_source_runs_source_id', 'source_runs', ['source_id'], unique=False)

    op.create_table('held_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('article_url', sa.Text(), nullable=True),
    sa.Column('guid', sa.Text(), nullable=True),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('sightings', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_sha256'], ['snapshots.sha256'], name='fk_held_pages_snapshot'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name='fk_held_pages_source_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'url', name='uq_held_pages_source_url')
    )
    op.create_index('ix_held_pages_source_id', 'held_pages', ['source_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_held_pages_source_id', table_name='held_pages')
    op.drop_table('held_pages')
    op.drop_index('ix_source_runs_source_id', table_name='source_runs')
    op.drop_index('ix_source_runs_run_id', table_name='source_runs')
    op.drop_table('source_runs')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of `sources`
    # would drop the table that articles and mentions refer to, which SQLite refuses.
    for column in ('hint_origin', 'hint_seconds', 'harvested_at', 'state_reasons', 'state_since', 'state'):
        op.execute(f'ALTER TABLE sources DROP COLUMN {column}')
