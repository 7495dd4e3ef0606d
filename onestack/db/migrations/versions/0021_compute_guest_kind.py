"""compute: each instance's guest kind, a VM or a container

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guest_kind', sa.String(length=16), server_default='vm', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.drop_column('guest_kind')
