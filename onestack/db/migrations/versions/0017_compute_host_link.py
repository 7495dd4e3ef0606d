"""compute: where each host's process answers other processes' calls for its guests, and its secret

Revision ID: 0017
Revises: 0016
"""
from alembic import op

from onestack.db.migrations.columns import string

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.add_column(string('link_url', 255, nullable=True))
        batch_op.add_column(string('link_secret', 64, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.drop_column('link_secret')
        batch_op.drop_column('link_url')
