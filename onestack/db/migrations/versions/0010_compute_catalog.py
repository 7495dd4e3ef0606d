"""compute catalogue: flavors, extra specs, flavor access, keypairs, quotas and quota classes

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    foreign_key,
    integer,
    quota_class,
    serial_id,
    string,
    text,
    timestamps,
    unique,
)

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'compute_flavor',
        serial_id(),
        string('flavorid', 255),
        string('name', 255),
        integer('memory_mb'),
        integer('vcpus'),
        integer('root_gb'),
        integer('ephemeral_gb'),
        integer('swap'),
        sa.Column('rxtx_factor', sa.Float(), nullable=False),
        integer('vcpu_weight', nullable=True),
        boolean('disabled'),
        boolean('is_public'),
        description(),
        *timestamps(updated_nullable=True),
        unique('flavorid'),
        unique('name'),
    )
    create_table(
        'compute_keypair',
        serial_id(),
        string('user_id', 255),
        string('name', 255),
        string('type', 10),
        string('fingerprint', 255),
        text('public_key'),
        *timestamps(updated_nullable=True),
        unique('user_id', 'name', name='uq_compute_keypair_user_id_name'),
    )
    create_table(
        'compute_quota',
        string('project_id', 255),
        string('user_id', 255),
        string('resource', 255),
        integer('hard_limit'),
        primary_key=('project_id', 'user_id', 'resource'),
    )
    create_table(
        'compute_quota_class',
        *quota_class(),
        primary_key=('class_name', 'resource'),
    )
    create_table(
        'compute_quota_lock',
        string('scope', 255),
        primary_key=('scope',),
    )
    create_table(
        'compute_flavor_extra_spec',
        integer('flavor_id'),
        string('key', 255),
        string('value', 255),
        foreign_key('flavor_id', 'compute_flavor.id', ondelete='CASCADE'),
        primary_key=('flavor_id', 'key'),
    )
    create_table(
        'compute_flavor_project',
        integer('flavor_id'),
        string('project_id', 255),
        foreign_key('flavor_id', 'compute_flavor.id', ondelete='CASCADE'),
        primary_key=('flavor_id', 'project_id'),
        indexes=['project_id'],
    )


def downgrade() -> None:
    op.drop_table('compute_flavor_project')
    op.drop_table('compute_flavor_extra_spec')
    op.drop_table('compute_quota_lock')
    op.drop_table('compute_quota_class')
    op.drop_table('compute_quota')
    op.drop_table('compute_keypair')
    op.drop_table('compute_flavor')
