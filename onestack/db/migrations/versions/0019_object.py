"""object: accounts, containers and objects of the Swift API

Revision ID: 0019
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

from onestack.db.migrations.columns import (
    big_integer,
    create_table,
    foreign_key,
    integer,
    json,
    serial_id,
    string,
    unique,
)

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _name(length: int):
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def upgrade() -> None:
    create_table(
        'object_account',
        sa.Column('name', _name(256), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('put_timestamp', sa.Float(), nullable=False),
        json('meta'),
        big_integer('container_count'),
        big_integer('object_count'),
        big_integer('bytes_used'),
        primary_key=('name',),
    )
    create_table(
        'object_container',
        serial_id(),
        sa.Column('account', _name(256), nullable=False),
        sa.Column('name', _name(256), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('put_timestamp', sa.Float(), nullable=False),
        json('meta'),
        big_integer('object_count'),
        big_integer('bytes_used'),
        foreign_key('account', 'object_account.name', ondelete='CASCADE'),
        unique('account', 'name', name='uq_object_container_account_name'),
    )
    create_table(
        'object_object',
        integer('container_id'),
        sa.Column('name', _name(1024), nullable=False),
        string('blob_id', 64, nullable=True),
        big_integer('size'),
        string('etag', 64),
        string('content_type', 256),
        sa.Column('timestamp', sa.Float(), nullable=False),
        sa.Column('blocks', sa.LargeBinary(), nullable=False),
        json('meta'),
        big_integer('delete_at', nullable=True),
        foreign_key('container_id', 'object_container.id', ondelete='CASCADE'),
        primary_key=('container_id', 'name'),
        indexes=[('ix_object_object_delete_at', ['delete_at']), 'blob_id'],
    )


def downgrade() -> None:
    op.drop_table('object_object')
    op.drop_table('object_container')
    op.drop_table('object_account')
