"""orchestration: nested stacks (a stack's parent and the resource it stands for), software configs and
software deployments

Revision ID: 0025
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('parent_resource', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_orchestration_stack_owner_id', ['owner_id'], unique=False)
    op.create_table(
        'orchestration_software_config',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('group', sa.String(length=255), nullable=False),
        sa.Column('config', sa.Text(), nullable=False),
        sa.Column('inputs', sa.JSON(), nullable=False),
        sa.Column('outputs', sa.JSON(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_software_config')),
    )
    op.create_index('ix_orchestration_software_config_project_id', 'orchestration_software_config',
                    ['project_id'])
    op.create_table(
        'orchestration_software_deployment',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('project_id', sa.String(length=64), nullable=False),
        sa.Column('config_id', sa.String(length=36), nullable=False),
        sa.Column('server_id', sa.String(length=255), nullable=False),
        sa.Column('action', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=255), nullable=False),
        sa.Column('status_reason', sa.Text(), nullable=False),
        sa.Column('input_values', sa.JSON(), nullable=False),
        sa.Column('output_values', sa.JSON(), nullable=False),
        sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
        sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_software_deployment')),
    )
    op.create_index('ix_orchestration_software_deployment_project_id', 'orchestration_software_deployment',
                    ['project_id'])
    op.create_index('ix_orchestration_software_deployment_server_id', 'orchestration_software_deployment',
                    ['server_id'])


def downgrade() -> None:
    op.drop_table('orchestration_software_deployment')
    op.drop_table('orchestration_software_config')
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.drop_index('ix_orchestration_stack_owner_id')
        batch_op.drop_column('parent_resource')
        batch_op.drop_column('owner_id')
