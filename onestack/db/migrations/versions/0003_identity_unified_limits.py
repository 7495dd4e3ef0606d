"""identity unified limits

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    foreign_key,
    integer,
    string,
    string_id,
    unique,
)

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'identity_limit',
        string_id(64),
        string('service_id', 64),
        string('region_id', 255),
        string('resource_name', 255),
        string('target_id', 64),
        boolean('target_is_domain'),
        integer('resource_limit'),
        description(),
        foreign_key('service_id', 'identity_service.id', ondelete='CASCADE'),
        unique('service_id', 'region_id', 'resource_name', 'target_id'),
        indexes=['target_id'],
    )
    create_table(
        'identity_registered_limit',
        string_id(64),
        string('service_id', 64),
        string('region_id', 255),
        string('resource_name', 255),
        integer('default_limit'),
        description(),
        foreign_key('service_id', 'identity_service.id', ondelete='CASCADE'),
        unique('service_id', 'region_id', 'resource_name'),
    )


def downgrade() -> None:
    op.drop_table('identity_registered_limit')
    op.drop_table('identity_limit')
