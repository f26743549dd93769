"""issue 8 - review answers, pair model, canonical order, conflicts

Revision ID: 0003
Revises: 0002
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # clustering engine (issue8-engine): conflicting figures per claim, learned pair models
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conflicts', sa.JSON(), nullable=True))
    op.create_table('pair_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('model', sa.JSON(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pair_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_models_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pair_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_models_kind'))
    op.drop_table('pair_models')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('conflicts')
