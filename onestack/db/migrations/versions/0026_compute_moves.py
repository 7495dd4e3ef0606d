"""compute: moving servers between hosts; an instance's disk config, a live migration's progress

Revision ID: 0026
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_PROGRESS = ('memory_total', 'memory_processed', 'memory_remaining', 'disk_total', 'disk_processed',
             'disk_remaining')


def upgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_disk_config', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        for column in _PROGRESS:
            batch_op.add_column(sa.Column(column, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_migration', schema=None) as batch_op:
        for column in _PROGRESS:
            batch_op.drop_column(column)
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.drop_column('auto_disk_config')
