"""compute: volumes given to instances (block device mappings)

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'compute_block_device',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_uuid', sa.String(length=36), nullable=False),
        sa.Column('volume_id', sa.String(length=36), nullable=True),
        sa.Column('attachment_id', sa.String(length=36), nullable=True),
        sa.Column('device_name', sa.String(length=255), nullable=False),
        sa.Column('tag', sa.String(length=60), nullable=True),
        sa.Column('delete_on_termination', sa.Boolean(), nullable=False),
        sa.Column('boot_index', sa.Integer(), nullable=True),
        sa.Column('source_type', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.String(length=36), nullable=True),
        sa.Column('volume_size', sa.Integer(), nullable=True),
        sa.Column('volume_type', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('connection', sa.JSON(), nullable=True),
        sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_uuid'], ['compute_instance.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instance_uuid', 'volume_id', name='uq_compute_block_device_volume'),
    )
    op.create_index('ix_compute_block_device_instance_uuid', 'compute_block_device', ['instance_uuid'])
    op.create_index('ix_compute_block_device_volume_id', 'compute_block_device', ['volume_id'])


def downgrade() -> None:
    op.drop_index('ix_compute_block_device_volume_id', table_name='compute_block_device')
    op.drop_index('ix_compute_block_device_instance_uuid', table_name='compute_block_device')
    op.drop_table('compute_block_device')
