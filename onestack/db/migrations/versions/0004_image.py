"""image

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_image',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('os_hidden', sa.Boolean(), nullable=False),
    sa.Column('disk_format', sa.String(length=20), nullable=True),
    sa.Column('container_format', sa.String(length=20), nullable=True),
    sa.Column('min_disk', sa.Integer(), nullable=False),
    sa.Column('min_ram', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('virtual_size', sa.BigInteger(), nullable=True),
    sa.Column('checksum', sa.String(length=32), nullable=True),
    sa.Column('os_hash_algo', sa.String(length=64), nullable=True),
    sa.Column('os_hash_value', sa.String(length=128), nullable=True),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_image'))
    )
    with op.batch_alter_table('image_image', schema=None) as batch_op:
        batch_op.create_index('ix_image_image_owner_visibility', ['owner', 'visibility'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_image_status'), ['status'], unique=False)

    op.create_table('image_member',
    sa.Column('image_id', sa.String(length=36), nullable=False),
    sa.Column('member', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['image_image.id'], name=op.f('fk_image_member_image_id_image_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'member', name=op.f('pk_image_member'))
    )
    with op.batch_alter_table('image_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_member_member'), ['member'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('image_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_member_member'))

    op.drop_table('image_member')
    with op.batch_alter_table('image_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_image_status'))
        batch_op.drop_index('ix_image_image_owner_visibility')

    op.drop_table('image_image')
