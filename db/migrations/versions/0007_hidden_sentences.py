"""issue 16 - "not a claim": sentences an editor hid from the claims

- `hidden_sentences`: an editor's decision that a partner's sentence is not a claim
  (`syndicate claims hide`, or the answer "not a claim" in `syndicate claims review`), with
  who decided and when, and who undid it (`claims unhide`) and when. Mentions of that
  partner with that text are labelled `hidden` (a new value of `mentions.kind`, set by the
  store, never by extraction) and belong to no claim.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hidden_sentences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=True),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name='fk_hidden_sentences_source_id'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_hidden_sentences_source_id', 'hidden_sentences', ['source_id'], unique=False)


def downgrade() -> None:
    # the hidden mentions become claims again (extraction labelled them so), then unclustered
    op.execute("UPDATE mentions SET kind = 'claim' WHERE kind = 'hidden'")
    op.drop_index('ix_hidden_sentences_source_id', table_name='hidden_sentences')
    op.drop_table('hidden_sentences')
