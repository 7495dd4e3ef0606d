"""compute: server lists read a page in index order (newest first) instead of sorting every row

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (project_id, deleted) is a prefix of the new index, which serves the quota counts as well.
    op.drop_index('ix_compute_instance_project_deleted', table_name='compute_instance')
    op.create_index('ix_compute_instance_project_deleted_created', 'compute_instance',
                    ['project_id', 'deleted', 'created_at', 'id'], unique=False)
    op.create_index('ix_compute_instance_deleted_created', 'compute_instance',
                    ['deleted', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_compute_instance_deleted_created', table_name='compute_instance')
    op.drop_index('ix_compute_instance_project_deleted_created', table_name='compute_instance')
    op.create_index('ix_compute_instance_project_deleted', 'compute_instance', ['project_id', 'deleted'],
                    unique=False)
