"""identity policies endpoint filter and trusts

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_endpoint_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_endpoint_group'))
    )
    op.create_table('identity_policy',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('blob', sa.Text(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_policy'))
    )
    op.create_table('identity_trust',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('trustor_user_id', sa.String(length=64), nullable=False),
    sa.Column('trustee_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('impersonation', sa.Boolean(), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('remaining_uses', sa.Integer(), nullable=True),
    sa.Column('role_ids', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_trust'))
    )
    with op.batch_alter_table('identity_trust', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_trust_trustee_user_id'), ['trustee_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_trust_trustor_user_id'), ['trustor_user_id'], unique=False)

    op.create_table('identity_project_endpoint_group',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_group_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_group_id'], ['identity_endpoint_group.id'], name=op.f('fk_identity_project_endpoint_group_endpoint_group_id_identity_endpoint_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'endpoint_group_id', name=op.f('pk_identity_project_endpoint_group'))
    )
    op.create_table('identity_project_endpoint',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['identity_endpoint.id'], name=op.f('fk_identity_project_endpoint_endpoint_id_identity_endpoint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'endpoint_id', name=op.f('pk_identity_project_endpoint'))
    )


def downgrade() -> None:
    op.drop_table('identity_project_endpoint')
    op.drop_table('identity_project_endpoint_group')
    with op.batch_alter_table('identity_trust', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_trust_trustor_user_id'))
        batch_op.drop_index(batch_op.f('ix_identity_trust_trustee_user_id'))

    op.drop_table('identity_trust')
    op.drop_table('identity_policy')
    op.drop_table('identity_endpoint_group')
