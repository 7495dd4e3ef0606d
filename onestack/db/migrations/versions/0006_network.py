"""network

Revision ID: 0006
Revises: 0005
"""
from alembic import op

from onestack.db.migrations.columns import (
    boolean,
    create_table,
    foreign_key,
    integer,
    json,
    project_id,
    standard_attributes,
    string,
    string_id,
    unique,
)

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        'network_address_scope',
        integer('ip_version'),
        boolean('shared'),
        *standard_attributes(),
        indexes=['project_id'],
    )
    create_table(
        'network_network',
        boolean('admin_state_up'),
        string('status', 16),
        integer('mtu'),
        boolean('port_security_enabled'),
        string('network_type', 16),
        string('physical_network', 64, nullable=True),
        integer('segmentation_id', nullable=True),
        boolean('shared'),
        boolean('external'),
        string('dns_domain', 255),
        json('availability_zone_hints'),
        *standard_attributes(),
        indexes=['project_id'],
    )
    create_table(
        'network_quota',
        project_id(),
        string('resource', 64),
        integer('limit'),
        primary_key=('project_id', 'resource'),
    )
    create_table(
        'network_quota_lock',
        project_id(),
        primary_key=('project_id',),
    )
    create_table(
        'network_rbac_policy',
        string_id(36),
        project_id(),
        string('object_type', 32),
        string('object_id', 36),
        string('action', 32),
        string('target_project', 64),
        unique('object_type', 'object_id', 'action', 'target_project', name='uq_network_rbac_policy_grant'),
        indexes=[('ix_network_rbac_policy_object', ['object_type', 'object_id']), 'project_id', 'target_project'],
    )
    create_table(
        'network_security_group',
        boolean('stateful'),
        boolean('shared'),
        *standard_attributes(),
        indexes=['project_id'],
    )
    create_table(
        'network_tag',
        string('resource_id', 36),
        string('tag', 255),
        primary_key=('resource_id', 'tag'),
        indexes=['tag'],
    )
    create_table(
        'network_default_security_group',
        project_id(),
        string('security_group_id', 36),
        foreign_key('security_group_id', 'network_security_group.id', ondelete='CASCADE'),
        primary_key=('project_id',),
    )
    create_table(
        'network_port',
        string('network_id', 36),
        string('mac_address', 32),
        boolean('admin_state_up'),
        string('status', 16),
        string('device_id', 255),
        string('device_owner', 255),
        string('host_id', 255),
        string('vnic_type', 64),
        json('profile'),
        json('allowed_address_pairs'),
        json('extra_dhcp_opts'),
        boolean('port_security_enabled'),
        string('dns_name', 255),
        *standard_attributes(),
        foreign_key('network_id', 'network_network.id', ondelete='CASCADE'),
        unique('network_id', 'mac_address', name='uq_network_port_network_mac'),
        indexes=[('ix_network_port_device', ['device_id']), 'network_id', 'project_id'],
    )
    create_table(
        'network_security_group_rule',
        string('security_group_id', 36),
        string('direction', 16),
        string('ethertype', 16),
        string('protocol', 40, nullable=True),
        integer('port_range_min', nullable=True),
        integer('port_range_max', nullable=True),
        string('remote_ip_prefix', 64, nullable=True),
        string('remote_group_id', 36, nullable=True),
        string('remote_address_group_id', 36, nullable=True),
        *standard_attributes(),
        foreign_key('remote_group_id', 'network_security_group.id', ondelete='CASCADE'),
        foreign_key('security_group_id', 'network_security_group.id', ondelete='CASCADE'),
        indexes=['project_id', 'remote_group_id', 'security_group_id'],
    )
    create_table(
        'network_segment',
        string('network_type', 16),
        string('physical_network', 64),
        integer('segmentation_id'),
        string('network_id', 36),
        foreign_key('network_id', 'network_network.id', ondelete='CASCADE'),
        primary_key=('network_type', 'physical_network', 'segmentation_id'),
        indexes=['network_id'],
    )
    create_table(
        'network_subnet',
        string('network_id', 36),
        integer('ip_version'),
        string('cidr', 64),
        string('gateway_ip', 64, nullable=True),
        boolean('enable_dhcp'),
        json('dns_nameservers'),
        json('host_routes'),
        json('allocation_pools'),
        string('ipv6_ra_mode', 32, nullable=True),
        string('ipv6_address_mode', 32, nullable=True),
        string('subnetpool_id', 36, nullable=True),
        json('service_types'),
        boolean('dns_publish_fixed_ip'),
        *standard_attributes(),
        foreign_key('network_id', 'network_network.id', ondelete='CASCADE'),
        indexes=['network_id', 'project_id', 'subnetpool_id'],
    )
    create_table(
        'network_subnet_pool',
        integer('ip_version'),
        json('prefixes'),
        integer('default_prefixlen'),
        integer('min_prefixlen'),
        integer('max_prefixlen'),
        boolean('shared'),
        boolean('is_default'),
        string('address_scope_id', 36, nullable=True),
        integer('default_quota', nullable=True),
        *standard_attributes(),
        foreign_key('address_scope_id', 'network_address_scope.id'),
        indexes=['address_scope_id', 'project_id'],
    )
    create_table(
        'network_ip_allocation',
        string('subnet_id', 36),
        string('ip_address', 64),
        string('port_id', 36),
        string('network_id', 36),
        integer('order'),
        foreign_key('port_id', 'network_port.id', ondelete='CASCADE'),
        foreign_key('subnet_id', 'network_subnet.id', ondelete='CASCADE'),
        primary_key=('subnet_id', 'ip_address'),
        indexes=['network_id', 'port_id'],
    )
    create_table(
        'network_port_security_group',
        string('port_id', 36),
        string('security_group_id', 36),
        foreign_key('port_id', 'network_port.id', ondelete='CASCADE'),
        foreign_key('security_group_id', 'network_security_group.id'),
        primary_key=('port_id', 'security_group_id'),
        indexes=['security_group_id'],
    )
    create_table(
        'network_router',
        boolean('admin_state_up'),
        string('status', 16),
        string('gw_port_id', 36, nullable=True),
        boolean('enable_snat'),
        json('routes'),
        json('availability_zone_hints'),
        *standard_attributes(),
        foreign_key('gw_port_id', 'network_port.id'),
        indexes=['project_id'],
    )
    create_table(
        'network_floating_ip',
        string('floating_network_id', 36),
        string('floating_ip_address', 64),
        string('floating_port_id', 36),
        string('port_id', 36, nullable=True),
        string('fixed_ip_address', 64, nullable=True),
        string('router_id', 36, nullable=True),
        string('status', 16),
        string('dns_name', 255),
        string('dns_domain', 255),
        *standard_attributes(),
        foreign_key('floating_network_id', 'network_network.id'),
        foreign_key('floating_port_id', 'network_port.id'),
        foreign_key('port_id', 'network_port.id', ondelete='SET NULL'),
        foreign_key('router_id', 'network_router.id'),
        unique('floating_network_id', 'floating_ip_address', name='uq_network_floating_ip_address'),
        indexes=['floating_network_id', 'port_id', 'project_id', 'router_id'],
    )
    create_table(
        'network_port_forwarding',
        string_id(36),
        string('floatingip_id', 36),
        string('internal_port_id', 36),
        string('internal_ip_address', 64),
        integer('internal_port'),
        integer('external_port'),
        string('protocol', 16),
        string('description', 255),
        foreign_key('floatingip_id', 'network_floating_ip.id', ondelete='CASCADE'),
        foreign_key('internal_port_id', 'network_port.id', ondelete='CASCADE'),
        unique('floatingip_id', 'external_port', 'protocol', name='uq_network_port_forwarding_external'),
        indexes=['floatingip_id', 'internal_port_id'],
    )


def downgrade() -> None:
    op.drop_table('network_port_forwarding')
    op.drop_table('network_floating_ip')
    op.drop_table('network_router')
    op.drop_table('network_port_security_group')
    op.drop_table('network_ip_allocation')
    op.drop_table('network_subnet_pool')
    op.drop_table('network_subnet')
    op.drop_table('network_segment')
    op.drop_table('network_security_group_rule')
    op.drop_table('network_port')
    op.drop_table('network_default_security_group')
    op.drop_table('network_tag')
    op.drop_table('network_security_group')
    op.drop_table('network_rbac_policy')
    op.drop_table('network_quota_lock')
    op.drop_table('network_quota')
    op.drop_table('network_network')
    op.drop_table('network_address_scope')
