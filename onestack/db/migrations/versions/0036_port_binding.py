"""network: a port's inactive bindings (Neutron's binding-extended)

Revision ID: 0036
Revises: 0035
"""
from alembic import op

from onestack.db.migrations.columns import create_table, foreign_key, json, string, timestamp

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table('network_port_binding', string('port_id', 36), string('host', 255), string('vnic_type', 64),
                 json('profile'), timestamp('created_at'),
                 foreign_key('port_id', 'network_port.id', ondelete='CASCADE'),
                 primary_key=('port_id', 'host'), indexes=['host'])


def downgrade() -> None:
    op.drop_table('network_port_binding')
