"""placement

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from onestack.db.migrations.columns import (
    big_integer,
    create_table,
    foreign_key,
    integer,
    serial_id,
    string,
    timestamp,
    timestamps,
    unique,
)

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'placement_consumer',
        string('uuid', 36),
        string('project_id', 255),
        string('user_id', 255),
        big_integer('generation'),
        string('consumer_type', 255, nullable=True),
        *timestamps(),
        primary_key=('uuid',),
        indexes=['project_id', 'user_id'],
    )
    create_table(
        'placement_provider',
        serial_id(),
        string('uuid', 36),
        string('name', 200),
        big_integer('generation'),
        integer('parent_id', nullable=True),
        integer('root_id', nullable=True),
        *timestamps(),
        foreign_key('parent_id', 'placement_provider.id'),
        unique('name'),
        unique('uuid'),
        indexes=['parent_id', 'root_id'],
    )
    create_table(
        'placement_resource_class',
        string('name', 255),
        *timestamps(),
        primary_key=('name',),
    )
    create_table(
        'placement_trait',
        string('name', 255),
        *timestamps(),
        primary_key=('name',),
    )
    create_table(
        'placement_allocation',
        serial_id(),
        integer('provider_id'),
        string('consumer_id', 36),
        string('resource_class', 255),
        big_integer('used'),
        timestamp('created_at'),
        foreign_key('consumer_id', 'placement_consumer.uuid', ondelete='CASCADE'),
        foreign_key('provider_id', 'placement_provider.id'),
        indexes=['consumer_id', ('ix_placement_allocation_provider_class', ['provider_id', 'resource_class'])],
    )
    create_table(
        'placement_inventory',
        integer('provider_id'),
        string('resource_class', 255),
        big_integer('total'),
        big_integer('reserved'),
        big_integer('min_unit'),
        big_integer('max_unit'),
        big_integer('step_size'),
        sa.Column('allocation_ratio', sa.Float(), nullable=False),
        *timestamps(),
        foreign_key('provider_id', 'placement_provider.id', ondelete='CASCADE'),
        primary_key=('provider_id', 'resource_class'),
        indexes=['resource_class'],
    )
    create_table(
        'placement_provider_aggregate',
        integer('provider_id'),
        string('aggregate', 36),
        foreign_key('provider_id', 'placement_provider.id', ondelete='CASCADE'),
        primary_key=('provider_id', 'aggregate'),
        indexes=['aggregate'],
    )
    create_table(
        'placement_provider_trait',
        integer('provider_id'),
        string('trait', 255),
        foreign_key('provider_id', 'placement_provider.id', ondelete='CASCADE'),
        primary_key=('provider_id', 'trait'),
        indexes=['trait'],
    )


def downgrade() -> None:
    op.drop_table('placement_provider_trait')
    op.drop_table('placement_provider_aggregate')
    op.drop_table('placement_inventory')
    op.drop_table('placement_allocation')
    op.drop_table('placement_trait')
    op.drop_table('placement_resource_class')
    op.drop_table('placement_provider')
    op.drop_table('placement_consumer')
