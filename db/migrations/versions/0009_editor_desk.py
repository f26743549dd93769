"""issue 19 - the editor's desk: editor decisions with who and when, and sends per week

- `editor_decisions`: every decision an editor takes in `syndicate desk` or with the CLI
  (topic renames and merges, the week's note, splits, pins, merges, review answers, hidden
  sentences), with who and when, what undoing it restores, and who undid it and when.
- `digest_sends`: every attempt to email a week's digest (sent or failed, and why), so a
  second send of the same week needs an explicit override.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('editor_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('undo', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_editor_decisions_action', 'editor_decisions', ['action'], unique=False)
    op.create_index('ix_editor_decisions_week', 'editor_decisions', ['week'], unique=False)
    op.create_table('digest_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('smtp_host', sa.String(length=300), nullable=True),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('override', sa.Boolean(), nullable=False),
    sa.Column('sent_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_digest_sends_week', 'digest_sends', ['week'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_digest_sends_week', table_name='digest_sends')
    op.drop_table('digest_sends')
    op.drop_index('ix_editor_decisions_week', table_name='editor_decisions')
    op.drop_index('ix_editor_decisions_action', table_name='editor_decisions')
    op.drop_table('editor_decisions')
