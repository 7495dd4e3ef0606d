"""compute actions: migrations (resize records, listed by /os-migrations)

Revision ID: 0011
Revises: 0010
"""
from alembic import op

from onestack.db.migrations.columns import (
    create_table,
    foreign_key,
    json,
    project_id,
    serial_id,
    string,
    timestamps,
    unique,
    user_id,
)

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'compute_migration',
        serial_id(),
        string('uuid', 36),
        string('instance_uuid', 36),
        string('migration_type', 32),
        string('status', 32),
        string('source_compute', 255, nullable=True),
        string('source_node', 255, nullable=True),
        string('dest_compute', 255, nullable=True),
        string('dest_node', 255, nullable=True),
        string('dest_host', 255, nullable=True),
        json('old_flavor'),
        json('new_flavor'),
        project_id(),
        user_id(),
        *timestamps(updated_nullable=True),
        foreign_key('instance_uuid', 'compute_instance.id', ondelete='CASCADE'),
        unique('uuid'),
        indexes=['instance_uuid'],
    )


def downgrade() -> None:
    op.drop_table('compute_migration')
