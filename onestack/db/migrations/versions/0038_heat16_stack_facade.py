"""orchestration: a nested stack keeps its parent resource's facade (metadata, deletion and update policies)
for resource_facade

Revision ID: 0038
Revises: 0037
"""
import sqlalchemy as sa
from alembic import op

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_stack') as batch:
        batch.add_column(sa.Column('facade', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orchestration_stack') as batch:
        batch.drop_column('facade')
