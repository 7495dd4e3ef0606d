"""compute: each host's VXLAN tunnel address, which the other hosts' data planes flood toward

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tunnel_ip', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.drop_column('tunnel_ip')
