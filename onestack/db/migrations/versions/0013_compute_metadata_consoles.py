"""compute: the password a guest posts to the metadata service; console authorization tokens

Revision ID: 0013
Revises: 0012
"""
from alembic import op

from onestack.db.migrations.columns import create_table, foreign_key, string, text, timestamp

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.add_column(text('password', nullable=True))
    create_table(
        'compute_console_token',
        string('token_hash', 64),
        string('instance_uuid', 36),
        string('console_type', 32),
        string('host', 255),
        timestamp('created_at'),
        timestamp('expires_at'),
        foreign_key('instance_uuid', 'compute_instance.id', ondelete='CASCADE'),
        primary_key=('token_hash',),
        indexes=['instance_uuid'],
    )


def downgrade() -> None:
    op.drop_table('compute_console_token')
    with op.batch_alter_table('compute_instance', schema=None) as batch_op:
        batch_op.drop_column('password')
