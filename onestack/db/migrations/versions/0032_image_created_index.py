"""image: an index on (created_at, id), the default order of the image list

Without it a 100-image page of a 100,000-image cloud scans the table for the newest 101 rows.

Revision ID: 0032
Revises: 0031
"""
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_image_image_created", "image_image", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_image_image_created", table_name="image_image")
