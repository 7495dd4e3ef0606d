"""compute servers

Revision ID: 0009
Revises: 0008
"""
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    foreign_key,
    integer,
    json,
    project_id,
    serial_id,
    string,
    string_id,
    text,
    timestamp,
    timestamps,
    unique,
    user_id,
)

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'compute_host',
        string_id(36),
        string('host', 255),
        string('driver', 32),
        string('availability_zone', 255),
        boolean('disabled'),
        string('disabled_reason', 255, nullable=True),
        boolean('forced_down'),
        integer('vcpus'),
        integer('memory_mb'),
        integer('disk_gb'),
        string('host_ip', 64),
        *timestamps(),
        timestamp('heartbeat_at'),
        unique('host'),
    )
    create_table(
        'compute_instance',
        string_id(36),
        integer('number'),
        project_id(),
        user_id(),
        string('name', 255),
        string('description', 255, nullable=True),
        string('hostname', 255),
        string('reservation_id', 255),
        integer('launch_index'),
        string('image_ref', 255),
        json('flavor'),
        integer('vcpus'),
        integer('memory_mb'),
        string('key_name', 255, nullable=True),
        text('key_data', nullable=True),
        text('user_data', nullable=True),
        boolean('config_drive'),
        json('metadata'),
        json('tags'),
        json('security_groups'),
        json('requested_networks'),
        string('vm_state', 32),
        string('task_state', 64, nullable=True),
        integer('power_state'),
        string('host', 255, nullable=True),
        string('availability_zone', 255, nullable=True),
        string('requested_availability_zone', 255, nullable=True),
        string('server_group_id', 36, nullable=True),
        boolean('locked'),
        string('locked_by', 16, nullable=True),
        string('locked_reason', 255, nullable=True),
        string('access_ip_v4', 64, nullable=True),
        string('access_ip_v6', 64, nullable=True),
        json('fault', nullable=True),
        integer('progress'),
        json('task_args'),
        timestamp('launched_at', nullable=True),
        timestamp('terminated_at', nullable=True),
        *timestamps(),
        boolean('deleted'),
        timestamp('deleted_at', nullable=True),
        unique('number'),
        indexes=['host', ('ix_compute_instance_host_task', ['host', 'task_state']), ('ix_compute_instance_project_deleted', ['project_id', 'deleted'])],
    )
    create_table(
        'compute_server_group',
        string_id(36),
        string('name', 255),
        project_id(),
        user_id(),
        string('policy', 32),
        json('rules'),
        timestamp('created_at'),
        indexes=['project_id'],
    )
    create_table(
        'compute_instance_action',
        serial_id(),
        string('instance_uuid', 36),
        string('action', 64),
        string('request_id', 255),
        user_id(),
        project_id(),
        string('message', 255, nullable=True),
        timestamp('start_time'),
        timestamp('finish_time', nullable=True),
        timestamp('updated_at'),
        foreign_key('instance_uuid', 'compute_instance.id', ondelete='CASCADE'),
        indexes=['instance_uuid'],
    )
    create_table(
        'compute_server_group_member',
        string('group_id', 36),
        string('instance_uuid', 36),
        foreign_key('group_id', 'compute_server_group.id', ondelete='CASCADE'),
        primary_key=('group_id', 'instance_uuid'),
        indexes=['instance_uuid'],
    )
    create_table(
        'compute_instance_action_event',
        serial_id(),
        integer('action_id'),
        string('event', 64),
        string('host', 255, nullable=True),
        string('result', 16, nullable=True),
        text('traceback', nullable=True),
        text('details', nullable=True),
        timestamp('start_time'),
        timestamp('finish_time', nullable=True),
        foreign_key('action_id', 'compute_instance_action.id', ondelete='CASCADE'),
        indexes=['action_id'],
    )


def downgrade() -> None:
    op.drop_table('compute_instance_action_event')
    op.drop_table('compute_server_group_member')
    op.drop_table('compute_instance_action')
    op.drop_table('compute_server_group')
    op.drop_table('compute_instance')
    op.drop_table('compute_host')
