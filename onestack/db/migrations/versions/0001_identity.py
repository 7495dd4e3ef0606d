"""identity

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

import onestack.db.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_group')),
    sa.UniqueConstraint('domain_id', 'name', name=op.f('uq_identity_group_domain_id'))
    )
    with op.batch_alter_table('identity_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_group_domain_id'), ['domain_id'], unique=False)

    op.create_table('identity_project',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('is_domain', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_project')),
    sa.UniqueConstraint('domain_id', 'name', name=op.f('uq_identity_project_domain_id'))
    )
    with op.batch_alter_table('identity_project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_project_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_project_parent_id'), ['parent_id'], unique=False)

    op.create_table('identity_region',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('parent_region_id', sa.String(length=255), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_region'))
    )
    op.create_table('identity_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_revision'))
    )
    op.create_table('identity_revocation_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('audit_id', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('domain_id', sa.String(length=64), nullable=True),
    sa.Column('issued_before', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_revocation_event'))
    )
    with op.batch_alter_table('identity_revocation_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_revocation_event_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_revocation_event_revoked_at'), ['revoked_at'], unique=False)

    op.create_table('identity_role',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_role')),
    sa.UniqueConstraint('domain_id', 'name', name=op.f('uq_identity_role_domain_id'))
    )
    op.create_table('identity_service',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_service'))
    )
    op.create_table('identity_user',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('domain_id', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('default_project_id', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('last_active_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('failed_auth_count', sa.Integer(), nullable=False),
    sa.Column('failed_auth_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_user')),
    sa.UniqueConstraint('domain_id', 'name', name=op.f('uq_identity_user_domain_id'))
    )
    with op.batch_alter_table('identity_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_user_domain_id'), ['domain_id'], unique=False)

    op.create_table('identity_access_rule',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=255), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'], name=op.f('fk_identity_access_rule_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_access_rule'))
    )
    with op.batch_alter_table('identity_access_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_access_rule_user_id'), ['user_id'], unique=False)

    op.create_table('identity_application_credential',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('unrestricted', sa.Boolean(), nullable=False),
    sa.Column('role_ids', sa.JSON(), nullable=False),
    sa.Column('access_rule_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'], name=op.f('fk_identity_application_credential_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_application_credential')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_identity_application_credential_user_id'))
    )
    with op.batch_alter_table('identity_application_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_application_credential_user_id'), ['user_id'], unique=False)

    op.create_table('identity_assignment',
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('inherited', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['identity_role.id'], name=op.f('fk_identity_assignment_role_id_identity_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('type', 'actor_id', 'target_id', 'role_id', 'inherited', name=op.f('pk_identity_assignment'))
    )
    with op.batch_alter_table('identity_assignment', schema=None) as batch_op:
        batch_op.create_index('ix_identity_assignment_target', ['target_id'], unique=False)

    op.create_table('identity_credential',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=True),
    sa.Column('type', sa.String(length=255), nullable=False),
    sa.Column('blob', sa.Text(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'], name=op.f('fk_identity_credential_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_credential'))
    )
    with op.batch_alter_table('identity_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_credential_user_id'), ['user_id'], unique=False)

    op.create_table('identity_endpoint',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('interface', sa.String(length=8), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('region_id', sa.String(length=255), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['identity_service.id'], name=op.f('fk_identity_endpoint_service_id_identity_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_endpoint'))
    )
    op.create_table('identity_implied_role',
    sa.Column('prior_role_id', sa.String(length=64), nullable=False),
    sa.Column('implied_role_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['implied_role_id'], ['identity_role.id'], name=op.f('fk_identity_implied_role_implied_role_id_identity_role'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prior_role_id'], ['identity_role.id'], name=op.f('fk_identity_implied_role_prior_role_id_identity_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('prior_role_id', 'implied_role_id', name=op.f('pk_identity_implied_role'))
    )
    op.create_table('identity_membership',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['identity_group.id'], name=op.f('fk_identity_membership_group_id_identity_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'], name=op.f('fk_identity_membership_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_identity_membership'))
    )
    op.create_table('identity_password',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=128), nullable=False),
    sa.Column('created_at', onestack.db.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', onestack.db.base.UTCDateTime(), nullable=True),
    sa.Column('self_service', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['identity_user.id'], name=op.f('fk_identity_password_user_id_identity_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_password'))
    )
    with op.batch_alter_table('identity_password', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_password_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('identity_password', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_password_user_id'))

    op.drop_table('identity_password')
    op.drop_table('identity_membership')
    op.drop_table('identity_implied_role')
    op.drop_table('identity_endpoint')
    with op.batch_alter_table('identity_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_credential_user_id'))

    op.drop_table('identity_credential')
    with op.batch_alter_table('identity_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_assignment_target')

    op.drop_table('identity_assignment')
    with op.batch_alter_table('identity_application_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_application_credential_user_id'))

    op.drop_table('identity_application_credential')
    with op.batch_alter_table('identity_access_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_access_rule_user_id'))

    op.drop_table('identity_access_rule')
    with op.batch_alter_table('identity_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_user_domain_id'))

    op.drop_table('identity_user')
    op.drop_table('identity_service')
    op.drop_table('identity_role')
    with op.batch_alter_table('identity_revocation_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_revocation_event_revoked_at'))
        batch_op.drop_index(batch_op.f('ix_identity_revocation_event_audit_id'))

    op.drop_table('identity_revocation_event')
    op.drop_table('identity_revision')
    op.drop_table('identity_region')
    with op.batch_alter_table('identity_project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_project_parent_id'))
        batch_op.drop_index(batch_op.f('ix_identity_project_domain_id'))

    op.drop_table('identity_project')
    with op.batch_alter_table('identity_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_group_domain_id'))

    op.drop_table('identity_group')
