"""placement: a revision bumped by every write that changes what a search reads besides usage, so each
serving process keeps the providers' trees between allocation-candidate searches while it holds

Revision ID: 0041
Revises: 0040
"""
import sqlalchemy as sa
from alembic import op

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'placement_revision',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('value', sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('placement_revision')
