"""identity domain config and oauth1

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    description,
    extra,
    foreign_key,
    json,
    project_id,
    string,
    string_id,
    timestamp,
)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'identity_oauth_consumer',
        string_id(64),
        string('secret', 64),
        description(),
        extra(),
    )
    create_table(
        'identity_domain_config',
        string('domain_id', 64),
        string('group', 255),
        string('option', 255),
        json('value'),
        boolean('sensitive'),
        foreign_key('domain_id', 'identity_project.id', ondelete='CASCADE'),
        primary_key=('domain_id', 'group', 'option'),
    )
    create_table(
        'identity_oauth_access_token',
        string_id(64),
        string('secret', 64),
        string('consumer_id', 64),
        string('authorizing_user_id', 64),
        project_id(),
        json('role_ids'),
        timestamp('expires_at', nullable=True),
        foreign_key('authorizing_user_id', 'identity_user.id', ondelete='CASCADE'),
        foreign_key('consumer_id', 'identity_oauth_consumer.id', ondelete='CASCADE'),
        indexes=['authorizing_user_id', 'consumer_id'],
    )
    create_table(
        'identity_oauth_request_token',
        string_id(64),
        string('secret', 64),
        string('consumer_id', 64),
        project_id(),
        timestamp('expires_at', nullable=True),
        string('authorizing_user_id', 64, nullable=True),
        json('role_ids', nullable=True),
        string('verifier', 64, nullable=True),
        foreign_key('consumer_id', 'identity_oauth_consumer.id', ondelete='CASCADE'),
        indexes=['consumer_id'],
    )


def downgrade() -> None:
    op.drop_table('identity_oauth_request_token')
    op.drop_table('identity_oauth_access_token')
    op.drop_table('identity_domain_config')
    op.drop_table('identity_oauth_consumer')
