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


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('last_off_scope')
        batch_op.drop_column('last_warning')
        batch_op.drop_column('last_warning_count')
