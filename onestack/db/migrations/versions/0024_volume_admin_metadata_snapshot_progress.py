"""volume: the admin metadata a volume shows (readonly), a snapshot's progress

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volume') as batch:
        batch.add_column(sa.Column('admin_metadata', sa.JSON(), nullable=True))
    with op.batch_alter_table('volume_snapshot') as batch:
        batch.add_column(sa.Column('progress', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volume_snapshot') as batch:
        batch.drop_column('progress')
    with op.batch_alter_table('volume') as batch:
        batch.drop_column('admin_metadata')
