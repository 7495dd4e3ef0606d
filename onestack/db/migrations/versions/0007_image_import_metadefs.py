"""image: import tasks and metadata definitions (metadefs)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from onestack.db.base import UTCDateTime, utcnow
from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    foreign_key,
    integer,
    json,
    serial_id,
    string,
    string_id,
    text,
    timestamp,
    timestamps,
    unique,
)

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'image_metadef_namespace',
        serial_id(),
        string('namespace', 80),
        string('display_name', 80, nullable=True),
        description(),
        string('visibility', 32),
        boolean('protected'),
        string('owner', 255, nullable=True),
        *timestamps(),
        unique('namespace'),
        indexes=['owner'],
    )
    create_table(
        'image_metadef_resource_type',
        serial_id(),
        string('name', 80),
        boolean('protected'),
        *timestamps(),
        unique('name'),
    )
    create_table(
        'image_task',
        string_id(36),
        string('type', 30),
        string('status', 30),
        string('owner', 64, nullable=True),
        string('image_id', 36, nullable=True),
        string('user_id', 64, nullable=True),
        string('request_id', 64, nullable=True),
        json('input'),
        json('result', nullable=True),
        text('message'),
        timestamp('expires_at', nullable=True),
        *timestamps(),
        indexes=['image_id', 'owner'],
    )
    create_table(
        'image_metadef_association',
        integer('namespace_id'),
        integer('resource_type_id'),
        string('prefix', 80, nullable=True),
        string('properties_target', 80, nullable=True),
        *timestamps(),
        foreign_key('namespace_id', 'image_metadef_namespace.id', ondelete='CASCADE'),
        foreign_key('resource_type_id', 'image_metadef_resource_type.id', ondelete='CASCADE'),
        primary_key=('namespace_id', 'resource_type_id'),
    )
    create_table(
        'image_metadef_entry',
        serial_id(),
        integer('namespace_id'),
        string('kind', 10),
        string('name', 255),
        json('body'),
        *timestamps(),
        foreign_key('namespace_id', 'image_metadef_namespace.id', ondelete='CASCADE'),
        unique('namespace_id', 'kind', 'name'),
        indexes=['namespace_id'],
    )
    # The resource types Glance ships definitions for; namespaces are associated with them.
    resource_types = sa.table('image_metadef_resource_type', sa.column('name', sa.String),
                              sa.column('protected', sa.Boolean), sa.column('created_at', UTCDateTime),
                              sa.column('updated_at', UTCDateTime))
    now = utcnow()
    op.bulk_insert(resource_types, [{'name': name, 'protected': True, 'created_at': now, 'updated_at': now} for name in (
        'OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server',
        'OS::Trove::Instance', 'OS::Glance::Snapshot')])


def downgrade() -> None:
    op.drop_table('image_metadef_entry')
    op.drop_table('image_metadef_association')
    op.drop_table('image_task')
    op.drop_table('image_metadef_resource_type')
    op.drop_table('image_metadef_namespace')
