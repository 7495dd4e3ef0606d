"""volume: the backend a volume's and a snapshot's data live on (file or Ceph RBD)

Revision ID: 0027
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the file backend, where every volume made before this revision lives.
    with op.batch_alter_table('volume') as batch:
        batch.add_column(sa.Column('backend', sa.String(length=64), nullable=True))
    with op.batch_alter_table('volume_snapshot') as batch:
        batch.add_column(sa.Column('backend', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volume_snapshot') as batch:
        batch.drop_column('backend')
    with op.batch_alter_table('volume') as batch:
        batch.drop_column('backend')
