"""compute admin APIs: host aggregates (hosts, metadata), migrations, integer ids of compute hosts

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_aggregate',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_aggregate')),
    sa.UniqueConstraint('name', name=op.f('uq_compute_aggregate_name')),
    sa.UniqueConstraint('uuid', name=op.f('uq_compute_aggregate_uuid'))
    )
    # The table itself comes with the resize actions (0011); the admin API's columns join it here.
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('old_instance_type_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('new_instance_type_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_compute_migration_instance_status', 'compute_migration', ['instance_uuid', 'status'], unique=False)
    op.create_table('compute_aggregate_host',
    sa.Column('aggregate_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['aggregate_id'], ['compute_aggregate.id'], name=op.f('fk_compute_aggregate_host_aggregate_id_compute_aggregate'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('aggregate_id', 'host', name=op.f('pk_compute_aggregate_host'))
    )
    op.create_index(op.f('ix_compute_aggregate_host_host'), 'compute_aggregate_host', ['host'], unique=False)
    op.create_table('compute_aggregate_metadata',
    sa.Column('aggregate_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['aggregate_id'], ['compute_aggregate.id'], name=op.f('fk_compute_aggregate_metadata_aggregate_id_compute_aggregate'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('aggregate_id', 'key', name=op.f('pk_compute_aggregate_metadata'))
    )
    # Existing hosts get their integer ids when they next register (compute/hosts.py).
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_compute_host_number'), ['number'])


def downgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_compute_host_number'), type_='unique')
        batch_op.drop_column('number')
    op.drop_table('compute_aggregate_metadata')
    op.drop_index(op.f('ix_compute_aggregate_host_host'), table_name='compute_aggregate_host')
    op.drop_table('compute_aggregate_host')
    op.drop_index('ix_compute_migration_instance_status', table_name='compute_migration')
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.drop_column('hidden')
        batch_op.drop_column('new_instance_type_id')
        batch_op.drop_column('old_instance_type_id')
    op.drop_table('compute_aggregate')
