"""volume: types, volumes, snapshots, attachments, quotas

Revision ID: 0018
Revises: 0017
"""
import datetime

import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('volume_quota',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'resource', name=op.f('pk_volume_quota'))
    )
    op.create_table('volume_quota_class',
    sa.Column('class_name', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('class_name', 'resource', name=op.f('pk_volume_quota_class'))
    )
    op.create_table('volume_snapshot',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('fault', sa.Text(), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('task', sa.String(length=16), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_snapshot'))
    )
    with op.batch_alter_table('volume_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volume_snapshot_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_snapshot_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_snapshot_task'), ['task'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_snapshot_volume_id'), ['volume_id'], unique=False)

    op.create_table('volume_type',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('extra_specs', sa.JSON(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_type')),
    sa.UniqueConstraint('name', name=op.f('uq_volume_type_name'))
    )
    # Cinder's own migration makes the type every volume gets when none is asked for.
    types = sa.table('volume_type', sa.column('id', sa.String), sa.column('name', sa.String),
                     sa.column('description', sa.Text), sa.column('is_public', sa.Boolean),
                     sa.column('extra_specs', sa.JSON), sa.column('created_at', onestack.db.base.UTCDateTime))
    op.bulk_insert(types, [{'id': '5a1a6d32-7bd7-4d3f-8fbf-9a5d2a1b8f0e', 'name': '__DEFAULT__',
                            'description': 'Default Volume Type', 'is_public': True, 'extra_specs': {},
                            'created_at': datetime.datetime.now(datetime.UTC)}])
    op.create_table('volume',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('fault', sa.Text(), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=False),
    sa.Column('type_id', sa.String(length=36), nullable=False),
    sa.Column('bootable', sa.Boolean(), nullable=False),
    sa.Column('readonly', sa.Boolean(), nullable=False),
    sa.Column('multiattach', sa.Boolean(), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('image_metadata', sa.JSON(), nullable=False),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('source_volid', sa.String(length=36), nullable=True),
    sa.Column('clone_of', sa.String(length=36), nullable=True),
    sa.Column('task', sa.String(length=16), nullable=True),
    sa.Column('cascade', sa.Boolean(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['type_id'], ['volume_type.id'], name=op.f('fk_volume_type_id_volume_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume'))
    )
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.create_index('ix_volume_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_volume_task'), ['task'], unique=False)

    op.create_table('volume_default_type',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('type_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['type_id'], ['volume_type.id'], name=op.f('fk_volume_default_type_type_id_volume_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_volume_default_type'))
    )
    op.create_table('volume_type_access',
    sa.Column('type_id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['type_id'], ['volume_type.id'], name=op.f('fk_volume_type_access_type_id_volume_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('type_id', 'project_id', name=op.f('pk_volume_type_access'))
    )
    op.create_table('volume_attachment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=True),
    sa.Column('attached_host', sa.String(length=255), nullable=True),
    sa.Column('mountpoint', sa.String(length=255), nullable=True),
    sa.Column('attach_status', sa.String(length=32), nullable=False),
    sa.Column('attach_mode', sa.String(length=8), nullable=False),
    sa.Column('connector', sa.JSON(), nullable=True),
    sa.Column('attach_time', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('detach_time', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['volume_id'], ['volume.id'], name=op.f('fk_volume_attachment_volume_id_volume'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volume_attachment'))
    )
    with op.batch_alter_table('volume_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volume_attachment_volume_id'), ['volume_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('volume_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_attachment_volume_id'))

    op.drop_table('volume_attachment')
    op.drop_table('volume_type_access')
    op.drop_table('volume_default_type')
    with op.batch_alter_table('volume', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_task'))
        batch_op.drop_index(batch_op.f('ix_volume_status'))
        batch_op.drop_index('ix_volume_project_created')

    op.drop_table('volume')
    op.drop_table('volume_type')
    with op.batch_alter_table('volume_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volume_snapshot_volume_id'))
        batch_op.drop_index(batch_op.f('ix_volume_snapshot_task'))
        batch_op.drop_index(batch_op.f('ix_volume_snapshot_status'))
        batch_op.drop_index(batch_op.f('ix_volume_snapshot_project_id'))

    op.drop_table('volume_snapshot')
    op.drop_table('volume_quota_class')
    op.drop_table('volume_quota')
