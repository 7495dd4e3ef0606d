"""volume: encryption keys of volumes and backups (the built-in key manager)

Revision ID: 0033
Revises: 0032
"""
from alembic import op

from onestack.db.migrations.columns import create_table, string, string_id, text, timestamp

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table('volume_encryption_key', string_id(36), text('wrapped'), timestamp('created_at'))
    for table in ('volume', 'volume_backup'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(string('encryption_key_id', 36, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volume_backup') as batch:
        batch.drop_column('encryption_key_id')
    with op.batch_alter_table('volume') as batch:
        batch.drop_column('encryption_key_id')
    op.drop_table('volume_encryption_key')
