"""compute actions: migrations (resize records, listed by /os-migrations)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_migration',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('migration_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('source_compute', sa.String(length=255), nullable=True),
    sa.Column('source_node', sa.String(length=255), nullable=True),
    sa.Column('dest_compute', sa.String(length=255), nullable=True),
    sa.Column('dest_node', sa.String(length=255), nullable=True),
    sa.Column('dest_host', sa.String(length=255), nullable=True),
    sa.Column('old_flavor', sa.JSON(), nullable=False),
    sa.Column('new_flavor', sa.JSON(), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_uuid'], ['compute_instance.id'],
                            name=op.f('fk_compute_migration_instance_uuid_compute_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_migration')),
    sa.UniqueConstraint('uuid', name=op.f('uq_compute_migration_uuid'))
    )
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_migration_instance_uuid'), ['instance_uuid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compute_migration_instance_uuid'))
    op.drop_table('compute_migration')
