"""identity

Revision ID: 0001
Revises:
"""
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    extra,
    foreign_key,
    integer,
    json,
    project_id,
    serial_id,
    string,
    string_id,
    text,
    timestamp,
    unique,
    user_id,
)

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'identity_group',
        string_id(64),
        string('name', 255),
        string('domain_id', 64),
        description(),
        extra(),
        unique('domain_id', 'name'),
        indexes=['domain_id'],
    )
    create_table(
        'identity_project',
        string_id(64),
        string('name', 64),
        string('domain_id', 64),
        string('parent_id', 64, nullable=True),
        boolean('is_domain'),
        boolean('enabled'),
        description(),
        extra(),
        json('options'),
        json('tags'),
        unique('domain_id', 'name'),
        indexes=['domain_id', 'parent_id'],
    )
    create_table(
        'identity_region',
        string('id', 255),
        text('description'),
        string('parent_region_id', 255, nullable=True),
        extra(),
    )
    create_table(
        'identity_revision',
        integer('id'),
        integer('value'),
    )
    create_table(
        'identity_revocation_event',
        serial_id(),
        string('audit_id', 32, nullable=True),
        string('user_id', 64, nullable=True),
        string('project_id', 64, nullable=True),
        string('domain_id', 64, nullable=True),
        timestamp('issued_before'),
        timestamp('revoked_at'),
        indexes=['audit_id', 'revoked_at'],
    )
    create_table(
        'identity_role',
        string_id(64),
        string('name', 255),
        string('domain_id', 64),
        description(),
        extra(),
        json('options'),
        unique('domain_id', 'name'),
    )
    create_table(
        'identity_service',
        string_id(64),
        string('type', 255),
        boolean('enabled'),
        extra(),
    )
    create_table(
        'identity_user',
        string_id(64),
        string('name', 255),
        string('domain_id', 64),
        boolean('enabled'),
        string('default_project_id', 64, nullable=True),
        description(),
        string('email', 255, nullable=True),
        extra(),
        json('options'),
        timestamp('created_at'),
        timestamp('last_active_at', nullable=True),
        integer('failed_auth_count'),
        timestamp('failed_auth_at', nullable=True),
        unique('domain_id', 'name'),
        indexes=['domain_id'],
    )
    create_table(
        'identity_access_rule',
        string_id(64),
        user_id(),
        string('service', 255),
        text('path'),
        string('method', 16),
        foreign_key('user_id', 'identity_user.id', ondelete='CASCADE'),
        indexes=['user_id'],
    )
    create_table(
        'identity_application_credential',
        string_id(64),
        string('name', 255),
        user_id(),
        project_id(),
        string('secret_hash', 128),
        description(),
        timestamp('expires_at', nullable=True),
        boolean('unrestricted'),
        json('role_ids'),
        json('access_rule_ids'),
        foreign_key('user_id', 'identity_user.id', ondelete='CASCADE'),
        unique('user_id', 'name'),
        indexes=['user_id'],
    )
    create_table(
        'identity_assignment',
        string('type', 16),
        string('actor_id', 64),
        string('target_id', 64),
        string('role_id', 64),
        boolean('inherited'),
        foreign_key('role_id', 'identity_role.id', ondelete='CASCADE'),
        primary_key=('type', 'actor_id', 'target_id', 'role_id', 'inherited'),
        indexes=[('ix_identity_assignment_target', ['target_id'])],
    )
    create_table(
        'identity_credential',
        string_id(64),
        user_id(),
        string('project_id', 64, nullable=True),
        string('type', 255),
        text('blob'),
        extra(),
        foreign_key('user_id', 'identity_user.id', ondelete='CASCADE'),
        indexes=['user_id'],
    )
    create_table(
        'identity_endpoint',
        string_id(64),
        string('service_id', 64),
        string('interface', 8),
        text('url'),
        string('region_id', 255, nullable=True),
        boolean('enabled'),
        extra(),
        foreign_key('service_id', 'identity_service.id', ondelete='CASCADE'),
    )
    create_table(
        'identity_implied_role',
        string('prior_role_id', 64),
        string('implied_role_id', 64),
        foreign_key('implied_role_id', 'identity_role.id', ondelete='CASCADE'),
        foreign_key('prior_role_id', 'identity_role.id', ondelete='CASCADE'),
        primary_key=('prior_role_id', 'implied_role_id'),
    )
    create_table(
        'identity_membership',
        user_id(),
        string('group_id', 64),
        foreign_key('group_id', 'identity_group.id', ondelete='CASCADE'),
        foreign_key('user_id', 'identity_user.id', ondelete='CASCADE'),
        primary_key=('user_id', 'group_id'),
    )
    create_table(
        'identity_password',
        serial_id(),
        user_id(),
        string('hash', 128),
        timestamp('created_at'),
        timestamp('expires_at', nullable=True),
        boolean('self_service'),
        foreign_key('user_id', 'identity_user.id', ondelete='CASCADE'),
        indexes=['user_id'],
    )


def downgrade() -> None:
    op.drop_table('identity_password')
    op.drop_table('identity_membership')
    op.drop_table('identity_implied_role')
    op.drop_table('identity_endpoint')
    op.drop_table('identity_credential')
    op.drop_table('identity_assignment')
    op.drop_table('identity_application_credential')
    op.drop_table('identity_access_rule')
    op.drop_table('identity_user')
    op.drop_table('identity_service')
    op.drop_table('identity_role')
    op.drop_table('identity_revocation_event')
    op.drop_table('identity_revision')
    op.drop_table('identity_region')
    op.drop_table('identity_project')
    op.drop_table('identity_group')
