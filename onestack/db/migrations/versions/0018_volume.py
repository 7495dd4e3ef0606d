"""volume: types, volumes, snapshots, attachments, quotas

Revision ID: 0018
Revises: 0017
"""
import datetime

import sqlalchemy as sa
from alembic import op

from onestack.db.base import UTCDateTime
from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    foreign_key,
    integer,
    json,
    project_id,
    quota_class,
    string,
    string_id,
    text,
    timestamp,
    timestamps,
    unique,
    user_id,
)

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'volume_quota',
        project_id(),
        string('resource', 255),
        integer('hard_limit'),
        primary_key=('project_id', 'resource'),
    )
    create_table(
        'volume_quota_class',
        *quota_class(),
        primary_key=('class_name', 'resource'),
    )
    create_table(
        'volume_snapshot',
        string_id(36),
        project_id(),
        user_id(),
        string('volume_id', 36),
        string('name', 255, nullable=True),
        description(),
        integer('size'),
        string('status', 32),
        text('fault', nullable=True),
        json('metadata'),
        boolean('hidden'),
        string('task', 16, nullable=True),
        *timestamps(updated_nullable=True),
        indexes=['project_id', 'status', 'task', 'volume_id'],
    )
    create_table(
        'volume_type',
        string_id(36),
        string('name', 255),
        description(),
        boolean('is_public'),
        json('extra_specs'),
        *timestamps(updated_nullable=True),
        unique('name'),
    )
    # Cinder's own migration makes the type every volume gets when none is asked for.
    types = sa.table('volume_type', sa.column('id', sa.String), sa.column('name', sa.String),
                     sa.column('description', sa.Text), sa.column('is_public', sa.Boolean),
                     sa.column('extra_specs', sa.JSON), sa.column('created_at', UTCDateTime))
    op.bulk_insert(types, [{'id': '5a1a6d32-7bd7-4d3f-8fbf-9a5d2a1b8f0e', 'name': '__DEFAULT__',
                            'description': 'Default Volume Type', 'is_public': True, 'extra_specs': {},
                            'created_at': datetime.datetime.now(datetime.UTC)}])
    create_table(
        'volume',
        string_id(36),
        project_id(),
        user_id(),
        string('name', 255, nullable=True),
        description(),
        integer('size'),
        string('status', 32),
        text('fault', nullable=True),
        string('availability_zone', 255),
        string('type_id', 36),
        boolean('bootable'),
        boolean('readonly'),
        boolean('multiattach'),
        json('metadata'),
        json('image_metadata'),
        string('snapshot_id', 36, nullable=True),
        string('source_volid', 36, nullable=True),
        string('clone_of', 36, nullable=True),
        string('task', 16, nullable=True),
        boolean('cascade'),
        *timestamps(updated_nullable=True),
        foreign_key('type_id', 'volume_type.id'),
        indexes=[('ix_volume_project_created', ['project_id', 'created_at']), 'status', 'task'],
    )
    create_table(
        'volume_default_type',
        project_id(),
        string('type_id', 36),
        foreign_key('type_id', 'volume_type.id', ondelete='CASCADE'),
        primary_key=('project_id',),
    )
    create_table(
        'volume_type_access',
        string('type_id', 36),
        project_id(),
        foreign_key('type_id', 'volume_type.id', ondelete='CASCADE'),
        primary_key=('type_id', 'project_id'),
    )
    create_table(
        'volume_attachment',
        string_id(36),
        string('volume_id', 36),
        project_id(),
        string('instance_uuid', 36, nullable=True),
        string('attached_host', 255, nullable=True),
        string('mountpoint', 255, nullable=True),
        string('attach_status', 32),
        string('attach_mode', 8),
        json('connector', nullable=True),
        timestamp('attach_time', nullable=True),
        timestamp('detach_time', nullable=True),
        timestamp('created_at'),
        foreign_key('volume_id', 'volume.id', ondelete='CASCADE'),
        indexes=['volume_id'],
    )


def downgrade() -> None:
    op.drop_table('volume_attachment')
    op.drop_table('volume_type_access')
    op.drop_table('volume_default_type')
    op.drop_table('volume')
    op.drop_table('volume_type')
    op.drop_table('volume_snapshot')
    op.drop_table('volume_quota_class')
    op.drop_table('volume_quota')
