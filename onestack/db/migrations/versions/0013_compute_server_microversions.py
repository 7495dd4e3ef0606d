"""compute servers at later microversions: trusted image certificates (2.63) and the guest's encrypted
password (os-server-password)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trusted_image_certificates', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('password', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.drop_column('password')
        batch_op.drop_column('trusted_image_certificates')
