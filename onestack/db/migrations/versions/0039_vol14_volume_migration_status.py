"""volume: Cinder's migration_status of a volume moved between backends

Revision ID: 0039
Revises: 0038
"""
import sqlalchemy as sa
from alembic import op

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume') as batch:
        batch.add_column(sa.Column('migration_status', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volume') as batch:
        batch.drop_column('migration_status')
