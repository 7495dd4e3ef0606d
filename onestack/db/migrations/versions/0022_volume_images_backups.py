"""volume: volumes from and to images, backups, transfers, QoS specs, user messages

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('volume_qos_specs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('consumer', sa.String(length=16), nullable=False),
    sa.Column('specs', sa.JSON(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_qos_specs')),
    sa.UniqueConstraint('name', name=op.f('uq_volume_qos_specs_name'))
    )
    with op.batch_alter_table('volume_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qos_specs_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_volume_type_qos_specs_id_volume_qos_specs'), 'volume_qos_specs',
                                    ['qos_specs_id'], ['id'])
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('task_args', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('task_token', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('previous_status', sa.String(length=32), nullable=True))
    op.create_table('volume_backup',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('fault', sa.Text(), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=False),
    sa.Column('driver', sa.String(length=16), nullable=False),
    sa.Column('store_url', sa.Text(), nullable=True),
    sa.Column('container', sa.String(length=255), nullable=True),
    sa.Column('object_prefix', sa.String(length=255), nullable=True),
    sa.Column('object_count', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('is_incremental', sa.Boolean(), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('data_timestamp', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('task', sa.String(length=16), nullable=True),
    sa.Column('restore_volume_id', sa.String(length=36), nullable=True),
    sa.Column('task_token', sa.Text(), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_backup'))
    )
    with op.batch_alter_table('volume_backup', schema=None) as batch_op:
        batch_op.create_index('ix_volume_backup_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_backup_volume_id'), ['volume_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_backup_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_backup_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_backup_task'), ['task'], unique=False)
    op.create_table('volume_transfer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('no_snapshots', sa.Boolean(), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('destination_project_id', sa.String(length=64), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_transfer'))
    )
    with op.batch_alter_table('volume_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volume_transfer_volume_id'), ['volume_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_transfer_project_id'), ['project_id'], unique=False)
    op.create_table('volume_message',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=255), nullable=True),
    sa.Column('resource_type', sa.String(length=36), nullable=False),
    sa.Column('resource_uuid', sa.String(length=36), nullable=True),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('user_message', sa.Text(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_message'))
    )
    with op.batch_alter_table('volume_message', schema=None) as batch_op:
        batch_op.create_index('ix_volume_message_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_message_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_table('volume_message')
    op.drop_table('volume_transfer')
    op.drop_table('volume_backup')
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.drop_column('previous_status')
        batch_op.drop_column('task_token')
        batch_op.drop_column('task_args')
        batch_op.drop_column('image_id')
    with op.batch_alter_table('volume_type', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_volume_type_qos_specs_id_volume_qos_specs'), type_='foreignkey')
        batch_op.drop_column('qos_specs_id')
    op.drop_table('volume_qos_specs')
