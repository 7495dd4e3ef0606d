"""image

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from onestack.db.migrations.columns import (
    big_integer,
    boolean,
    create_table,
    foreign_key,
    integer,
    json,
    string,
    string_id,
    timestamps,
)

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'image_image',
        string_id(36),
        string('name', 255, nullable=True),
        string('owner', 64, nullable=True),
        string('status', 30),
        string('visibility', 20),
        boolean('protected'),
        boolean('os_hidden'),
        string('disk_format', 20, nullable=True),
        string('container_format', 20, nullable=True),
        integer('min_disk'),
        integer('min_ram'),
        big_integer('size', nullable=True),
        big_integer('virtual_size', nullable=True),
        string('checksum', 32, nullable=True),
        string('os_hash_algo', 64, nullable=True),
        string('os_hash_value', 128, nullable=True),
        json('properties'),
        json('tags'),
        *timestamps(),
        indexes=[('ix_image_image_owner_visibility', ['owner', 'visibility']), 'status'],
    )
    create_table(
        'image_member',
        string('image_id', 36),
        string('member', 255),
        string('status', 20),
        *timestamps(),
        foreign_key('image_id', 'image_image.id', ondelete='CASCADE'),
        primary_key=('image_id', 'member'),
        indexes=['member'],
    )


def downgrade() -> None:
    op.drop_table('image_member')
    op.drop_table('image_image')
