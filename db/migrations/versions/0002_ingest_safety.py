"""issue 9 - run lock, interrupted runs, off-scope counts, source warnings

Revision ID: 0002
Revises: 0001
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # issue9-fetch: what the last run of a source warned about, and how many URLs it
    # found outside its fetch scope (not fetched), for `syndicate sources`
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_warning_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_warning', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('last_off_scope', sa.Integer(), nullable=False, server_default='0'))

    # --- run lock and run status (issue9-ops) ---
    op.create_table('run_lock',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=100), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=True))
    op.execute("UPDATE runs SET status = CASE WHEN ok THEN 'ok' ELSE 'failed' END WHERE finished_at IS NOT NULL")


def downgrade() -> None:
    # --- run lock and run status (issue9-ops) ---
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('status')
    op.drop_table('run_lock')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('last_off_scope')
        batch_op.drop_column('last_warning')
        batch_op.drop_column('last_warning_count')
