"""identity unified limits

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_limit',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=255), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('target_is_domain', sa.Boolean(), nullable=False),
    sa.Column('resource_limit', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['identity_service.id'], name=op.f('fk_identity_limit_service_id_identity_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_limit')),
    sa.UniqueConstraint('service_id', 'region_id', 'resource_name', 'target_id', name=op.f('uq_identity_limit_service_id'))
    )
    with op.batch_alter_table('identity_limit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_limit_target_id'), ['target_id'], unique=False)

    op.create_table('identity_registered_limit',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=255), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('default_limit', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['identity_service.id'], name=op.f('fk_identity_registered_limit_service_id_identity_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_registered_limit')),
    sa.UniqueConstraint('service_id', 'region_id', 'resource_name', name=op.f('uq_identity_registered_limit_service_id'))
    )


def downgrade() -> None:
    op.drop_table('identity_registered_limit')
    with op.batch_alter_table('identity_limit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_limit_target_id'))

    op.drop_table('identity_limit')
