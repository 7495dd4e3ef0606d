"""identity policies endpoint filter and trusts

Revision ID: 0002
Revises: 0001
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
    string,
    string_id,
    text,
    timestamp,
)

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'identity_endpoint_group',
        string_id(64),
        string('name', 255),
        description(),
        json('filters'),
    )
    create_table(
        'identity_policy',
        string_id(64),
        string('type', 255),
        text('blob'),
        extra(),
    )
    create_table(
        'identity_trust',
        string_id(64),
        string('trustor_user_id', 64),
        string('trustee_user_id', 64),
        string('project_id', 64, nullable=True),
        boolean('impersonation'),
        timestamp('expires_at', nullable=True),
        integer('remaining_uses', nullable=True),
        json('role_ids'),
        extra(),
        indexes=['trustee_user_id', 'trustor_user_id'],
    )
    create_table(
        'identity_project_endpoint_group',
        project_id(),
        string('endpoint_group_id', 64),
        foreign_key('endpoint_group_id', 'identity_endpoint_group.id', ondelete='CASCADE'),
        primary_key=('project_id', 'endpoint_group_id'),
    )
    create_table(
        'identity_project_endpoint',
        project_id(),
        string('endpoint_id', 64),
        foreign_key('endpoint_id', 'identity_endpoint.id', ondelete='CASCADE'),
        primary_key=('project_id', 'endpoint_id'),
    )


def downgrade() -> None:
    op.drop_table('identity_project_endpoint')
    op.drop_table('identity_project_endpoint_group')
    op.drop_table('identity_trust')
    op.drop_table('identity_policy')
    op.drop_table('identity_endpoint_group')
