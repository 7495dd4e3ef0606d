"""compute admin APIs: host aggregates (hosts, metadata), migrations, integer ids of compute hosts

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from onestack.db.migrations.columns import (
    create_table,
    foreign_key,
    integer,
    serial_id,
    string,
    timestamps,
    unique,
)

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'compute_aggregate',
        serial_id(),
        string('uuid', 36),
        string('name', 255),
        *timestamps(updated_nullable=True),
        unique('name'),
        unique('uuid'),
    )
    # The table itself comes with the resize actions (0011); the admin API's columns join it here.
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.add_column(integer('old_instance_type_id', nullable=True))
        batch_op.add_column(integer('new_instance_type_id', nullable=True))
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_compute_migration_instance_status', 'compute_migration', ['instance_uuid', 'status'], unique=False)
    create_table(
        'compute_aggregate_host',
        integer('aggregate_id'),
        string('host', 255),
        foreign_key('aggregate_id', 'compute_aggregate.id', ondelete='CASCADE'),
        primary_key=('aggregate_id', 'host'),
        indexes=['host'],
    )
    create_table(
        'compute_aggregate_metadata',
        integer('aggregate_id'),
        string('key', 255),
        string('value', 255),
        foreign_key('aggregate_id', 'compute_aggregate.id', ondelete='CASCADE'),
        primary_key=('aggregate_id', 'key'),
    )
    # Existing hosts get their integer ids when they next register (compute/hosts.py).
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.add_column(integer('number', nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_compute_host_number'), ['number'])


def downgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_compute_host_number'), type_='unique')
        batch_op.drop_column('number')
    op.drop_table('compute_aggregate_metadata')
    op.drop_table('compute_aggregate_host')
    op.drop_index('ix_compute_migration_instance_status', table_name='compute_migration')
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.drop_column('hidden')
        batch_op.drop_column('new_instance_type_id')
        batch_op.drop_column('old_instance_type_id')
    op.drop_table('compute_aggregate')
