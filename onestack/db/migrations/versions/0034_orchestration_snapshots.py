"""orchestration: stack snapshots

Revision ID: 0034
Revises: 0033
"""
from alembic import op

from onestack.db.migrations.columns import create_table, foreign_key, json, string, string_id, text, timestamp

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table('orchestration_snapshot', string_id(36), string('stack_id', 36), string('name', 255, nullable=True),
                 string('status', 16), text('status_reason'), json('data'), timestamp('created_at'),
                 foreign_key('stack_id', 'orchestration_stack.id', ondelete='CASCADE'), indexes=['stack_id'])


def downgrade() -> None:
    op.drop_table('orchestration_snapshot')
