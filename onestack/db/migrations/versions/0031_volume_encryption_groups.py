"""volume: volume types' encryption; generic volume groups, their types and snapshots

Revision ID: 0031
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    foreign_key,
    integer,
    json,
    project_id,
    string,
    string_id,
    timestamps,
    unique,
    user_id,
)

revision = '0031'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'volume_type_encryption',
        string('type_id', 36),
        string_id(36),
        string('provider', 255),
        string('cipher', 255, nullable=True),
        integer('key_size', nullable=True),
        string('control_location', 16),
        *timestamps(updated_nullable=True),
        foreign_key('type_id', 'volume_type.id', ondelete='CASCADE'),
        unique('id'),
        primary_key=('type_id',),
    )
    create_table(
        'volume_group_type',
        string_id(36),
        string('name', 255),
        description(),
        boolean('is_public'),
        json('group_specs'),
        *timestamps(updated_nullable=True),
        unique('name'),
    )
    create_table(
        'volume_group',
        string_id(36),
        project_id(),
        user_id(),
        string('name', 255, nullable=True),
        description(),
        string('status', 32),
        string('availability_zone', 255),
        string('group_type_id', 36),
        json('volume_type_ids'),
        string('group_snapshot_id', 36, nullable=True),
        string('source_group_id', 36, nullable=True),
        string('task', 16, nullable=True),
        *timestamps(updated_nullable=True),
        foreign_key('group_type_id', 'volume_group_type.id'),
        indexes=['project_id', 'task'],
    )
    create_table(
        'volume_group_snapshot',
        string_id(36),
        project_id(),
        user_id(),
        string('group_id', 36),
        string('group_type_id', 36),
        string('name', 255, nullable=True),
        description(),
        string('status', 32),
        string('task', 16, nullable=True),
        *timestamps(updated_nullable=True),
        indexes=['group_id', 'project_id', 'task'],
    )
    with op.batch_alter_table('volume') as batch:
        batch.add_column(sa.Column('group_id', sa.String(length=36), nullable=True))
        batch.create_index(op.f('ix_volume_group_id'), ['group_id'], unique=False)
    with op.batch_alter_table('volume_snapshot') as batch:
        batch.add_column(sa.Column('group_snapshot_id', sa.String(length=36), nullable=True))
        batch.create_index(op.f('ix_volume_snapshot_group_snapshot_id'), ['group_snapshot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('volume_snapshot') as batch:
        batch.drop_index(op.f('ix_volume_snapshot_group_snapshot_id'))
        batch.drop_column('group_snapshot_id')
    with op.batch_alter_table('volume') as batch:
        batch.drop_index(op.f('ix_volume_group_id'))
        batch.drop_column('group_id')
    op.drop_table('volume_group_snapshot')
    op.drop_table('volume_group')
    op.drop_table('volume_group_type')
    op.drop_table('volume_type_encryption')
