"""compute servers at later microversions: trusted image certificates (2.63)

Revision ID: 0015
Revises: 0014
"""
from alembic import op

from onestack.db.migrations.columns import json

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.add_column(json('trusted_image_certificates', nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.drop_column('trusted_image_certificates')
