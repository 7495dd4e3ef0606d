"""image: import tasks and metadata definitions (metadefs)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_metadef_namespace',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('visibility', sa.String(length=32), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_namespace')),
    sa.UniqueConstraint('namespace', name=op.f('uq_image_metadef_namespace_namespace'))
    )
    with op.batch_alter_table('image_metadef_namespace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_metadef_namespace_owner'), ['owner'], unique=False)

    op.create_table('image_metadef_resource_type',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_resource_type')),
    sa.UniqueConstraint('name', name=op.f('uq_image_metadef_resource_type_name'))
    )
    op.create_table('image_task',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('input', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_task'))
    )
    with op.batch_alter_table('image_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_task_image_id'), ['image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_task_owner'), ['owner'], unique=False)

    op.create_table('image_metadef_association',
    sa.Column('namespace_id', sa.Integer(), nullable=False),
    sa.Column('resource_type_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=80), nullable=True),
    sa.Column('properties_target', sa.String(length=80), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespace.id'], name=op.f('fk_image_metadef_association_namespace_id_image_metadef_namespace'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_type_id'], ['image_metadef_resource_type.id'], name=op.f('fk_image_metadef_association_resource_type_id_image_metadef_resource_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('namespace_id', 'resource_type_id', name=op.f('pk_image_metadef_association'))
    )
    op.create_table('image_metadef_entry',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['namespace_id'], ['image_metadef_namespace.id'], name=op.f('fk_image_metadef_entry_namespace_id_image_metadef_namespace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_metadef_entry')),
    sa.UniqueConstraint('namespace_id', 'kind', 'name', name=op.f('uq_image_metadef_entry_namespace_id'))
    )
    with op.batch_alter_table('image_metadef_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_metadef_entry_namespace_id'), ['namespace_id'], unique=False)



    # The resource types Glance ships definitions for; namespaces are associated with them.
    resource_types = sa.table('image_metadef_resource_type', sa.column('name', sa.String),
                              sa.column('protected', sa.Boolean), sa.column('created_at', onestack.db.base.UTCDateTime),
                              sa.column('updated_at', onestack.db.base.UTCDateTime))
    now = onestack.db.base.utcnow()
    op.bulk_insert(resource_types, [{'name': name, 'protected': True, 'created_at': now, 'updated_at': now} for name in (
        'OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server',
        'OS::Trove::Instance', 'OS::Glance::Snapshot')])


def downgrade() -> None:
    with op.batch_alter_table('image_metadef_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_metadef_entry_namespace_id'))

    op.drop_table('image_metadef_entry')
    op.drop_table('image_metadef_association')
    with op.batch_alter_table('image_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_task_owner'))
        batch_op.drop_index(batch_op.f('ix_image_task_image_id'))

    op.drop_table('image_task')
    op.drop_table('image_metadef_resource_type')
    with op.batch_alter_table('image_metadef_namespace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_metadef_namespace_owner'))

    op.drop_table('image_metadef_namespace')
