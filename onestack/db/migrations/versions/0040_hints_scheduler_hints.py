"""compute: the scheduler hints a server was created with, read again by every later scheduling

Revision ID: 0040
Revises: 0039
"""
import sqlalchemy as sa
from alembic import op

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance') as batch:
        batch.add_column(sa.Column('scheduler_hints', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_instance') as batch:
        batch.drop_column('scheduler_hints')
