"""identity domain config and oauth1

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_oauth_consumer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_consumer'))
    )
    op.create_table('identity_domain_config',
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('group', sa.String(length=255), nullable=False),
    sa.Column('option', sa.String(length=255), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['identity_project.id'], name=op.f('fk_identity_domain_config_domain_id_identity_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain_id', 'group', 'option', name=op.f('pk_identity_domain_config'))
    )
    op.create_table('identity_oauth_access_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('role_ids', sa.JSON(), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['authorizing_user_id'], ['identity_user.id'], name=op.f('fk_identity_oauth_access_token_authorizing_user_id_identity_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consumer_id'], ['identity_oauth_consumer.id'], name=op.f('fk_identity_oauth_access_token_consumer_id_identity_oauth_consumer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_access_token'))
    )
    with op.batch_alter_table('identity_oauth_access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oauth_access_token_authorizing_user_id'), ['authorizing_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_oauth_access_token_consumer_id'), ['consumer_id'], unique=False)

    op.create_table('identity_oauth_request_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('authorizing_user_id', sa.String(length=64), nullable=True),
    sa.Column('role_ids', sa.JSON(), nullable=True),
    sa.Column('verifier', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['identity_oauth_consumer.id'], name=op.f('fk_identity_oauth_request_token_consumer_id_identity_oauth_consumer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oauth_request_token'))
    )
    with op.batch_alter_table('identity_oauth_request_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oauth_request_token_consumer_id'), ['consumer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identity_oauth_request_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oauth_request_token_consumer_id'))

    op.drop_table('identity_oauth_request_token')
    with op.batch_alter_table('identity_oauth_access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oauth_access_token_consumer_id'))
        batch_op.drop_index(batch_op.f('ix_identity_oauth_access_token_authorizing_user_id'))

    op.drop_table('identity_oauth_access_token')
    op.drop_table('identity_domain_config')
    op.drop_table('identity_oauth_consumer')
