"""object: accounts, containers and objects of the Swift API

Revision ID: 0019
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _name(length: int):
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'object_account',
        sa.Column('name', _name(256), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('put_timestamp', sa.Float(), nullable=False),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('container_count', sa.BigInteger(), nullable=False),
        sa.Column('object_count', sa.BigInteger(), nullable=False),
        sa.Column('bytes_used', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_object_account')),
    )
    op.create_table(
        'object_container',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('account', _name(256), nullable=False),
        sa.Column('name', _name(256), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('put_timestamp', sa.Float(), nullable=False),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('object_count', sa.BigInteger(), nullable=False),
        sa.Column('bytes_used', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account'], ['object_account.name'], ondelete='CASCADE',
                                name=op.f('fk_object_container_account_object_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_object_container')),
        sa.UniqueConstraint('account', 'name', name='uq_object_container_account_name'),
    )
    op.create_table(
        'object_object',
        sa.Column('container_id', sa.Integer(), nullable=False),
        sa.Column('name', _name(1024), nullable=False),
        sa.Column('blob_id', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('etag', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=256), nullable=False),
        sa.Column('timestamp', sa.Float(), nullable=False),
        sa.Column('blocks', sa.LargeBinary(), nullable=False),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('delete_at', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['container_id'], ['object_container.id'], ondelete='CASCADE',
                                name=op.f('fk_object_object_container_id_object_container')),
        sa.PrimaryKeyConstraint('container_id', 'name', name=op.f('pk_object_object')),
    )
    op.create_index('ix_object_object_delete_at', 'object_object', ['delete_at'])
    op.create_index(op.f('ix_object_object_blob_id'), 'object_object', ['blob_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_object_object_blob_id'), table_name='object_object')
    op.drop_index('ix_object_object_delete_at', table_name='object_object')
    op.drop_table('object_object')
    op.drop_table('object_container')
    op.drop_table('object_account')
