"""compute: the password a guest posts to the metadata service; console authorization tokens

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password', sa.Text(), nullable=True))
    op.create_table('compute_console_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('console_type', sa.String(length=32), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_uuid'], ['compute_instance.id'], name=op.f('fk_compute_console_token_instance_uuid_compute_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_compute_console_token'))
    )
    op.create_index(op.f('ix_compute_console_token_instance_uuid'), 'compute_console_token', ['instance_uuid'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_compute_console_token_instance_uuid'), table_name='compute_console_token')
    op.drop_table('compute_console_token')
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.drop_column('password')
