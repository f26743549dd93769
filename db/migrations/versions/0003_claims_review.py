"""issue 8 - review answers, pair model, canonical order, conflicts

- `review_answers`: every answer of `syndicate claims review` (both sides' mentions, the
  verdict, the evidence and probability when asked); "no" answers are cannot-links that
  every later run respects, and the pair model is refitted from these rows.
- `pair_models` (shared with the engine): the pair model refitted from the answers, per
  kind (`claim`, `question`); the latest is the one runs use.

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
    # review queue (issue8-review): every editor answer, with its evidence
    op.create_table('review_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('left_claim_id', sa.Integer(), nullable=False),
    sa.Column('right_claim_id', sa.Integer(), nullable=False),
    sa.Column('left_mention_ids', sa.JSON(), nullable=False),
    sa.Column('right_mention_ids', sa.JSON(), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('p_same', sa.Float(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_review_answers_kind', 'review_answers', ['kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_answers_kind', table_name='review_answers')
    op.drop_table('review_answers')
    with op.batch_alter_table('pair_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_models_kind'))
    op.drop_table('pair_models')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('conflicts')
