"""orchestration: stacks, their resources and events

Revision ID: 0020
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orchestration_stack',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('template', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('environment', sa.JSON(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=True),
    sa.Column('rollback_of', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('action_started_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('disable_rollback', sa.Boolean(), nullable=False),
    sa.Column('timeout_mins', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('trust_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('deleted_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_stack'))
    )
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orchestration_stack_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index('ix_orchestration_stack_project_name', ['project_id', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_orchestration_stack_status'), ['status'], unique=False)

    op.create_table('orchestration_event',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('stack_id', sa.String(length=36), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('physical_resource_id', sa.String(length=255), nullable=False),
    sa.Column('resource_type', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['stack_id'], ['orchestration_stack.id'], name=op.f('fk_orchestration_event_stack_id_orchestration_stack'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_orchestration_event')),
    sa.UniqueConstraint('id', name=op.f('uq_orchestration_event_id'))
    )
    with op.batch_alter_table('orchestration_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orchestration_event_stack_id'), ['stack_id'], unique=False)

    op.create_table('orchestration_resource',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('stack_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('physical_id', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('requires', sa.JSON(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['stack_id'], ['orchestration_stack.id'], name=op.f('fk_orchestration_resource_stack_id_orchestration_stack'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_resource'))
    )
    with op.batch_alter_table('orchestration_resource', schema=None) as batch_op:
        batch_op.create_index('ix_orchestration_resource_stack_name', ['stack_id', 'name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orchestration_resource', schema=None) as batch_op:
        batch_op.drop_index('ix_orchestration_resource_stack_name')

    op.drop_table('orchestration_resource')
    with op.batch_alter_table('orchestration_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orchestration_event_stack_id'))

    op.drop_table('orchestration_event')
    with op.batch_alter_table('orchestration_stack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orchestration_stack_status'))
        batch_op.drop_index('ix_orchestration_stack_project_name')
        batch_op.drop_index(batch_op.f('ix_orchestration_stack_deleted_at'))

    op.drop_table('orchestration_stack')
