"""orchestration: a software config whose config is a map (StructuredConfig), kept as JSON beside the text

Revision ID: 0037
Revises: 0036
"""
import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_software_config') as batch:
        batch.add_column(sa.Column('config_map', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orchestration_software_config') as batch:
        batch.drop_column('config_map')
