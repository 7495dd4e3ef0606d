"""compute: each host's VXLAN tunnel address, which the other hosts' data planes flood toward

Revision ID: 0016
Revises: 0015
"""
from alembic import op

from onestack.db.migrations.columns import string

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.add_column(string('tunnel_ip', 64, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_host', schema=None) as batch_op:
        batch_op.drop_column('tunnel_ip')
