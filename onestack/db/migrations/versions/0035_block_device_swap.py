"""compute: a volume swap under way on a block device (the new volume and its attachment)

Revision ID: 0035
Revises: 0034
"""
import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_block_device') as batch:
        batch.add_column(sa.Column('swap_volume_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('swap_attachment_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_block_device') as batch:
        batch.drop_column('swap_attachment_id')
        batch.drop_column('swap_volume_id')
