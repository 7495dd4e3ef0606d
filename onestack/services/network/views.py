"""Rows as Neutron answers them.  What a body needs beyond its row (a share granted elsewhere, the
caller's view of it, a related port) the service looks up and hands in."""

from __future__ import annotations

import datetime

from onestack.services.network import models

# The one availability zone this cloud has, for networks and routers alike.
AVAILABILITY_ZONES = ("nova",)


def timestamp(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def resource(row, own: dict, tags: list[str] | None) -> dict:
    """A resource's body: its id and name, its own attributes, its project and, unless ``tags`` is
    None (a resource without them), Neutron's standard attributes."""
    body = {"id": row.id}
    if hasattr(row, "name"):
        body["name"] = row.name
    body.update(own)
    body.update(project_id=row.project_id, tenant_id=row.project_id)
    if tags is None:
        return body
    body.update(description=row.description, tags=tags, created_at=timestamp(row.created_at),
                updated_at=timestamp(row.updated_at), revision_number=row.revision_number)
    return body


def network(row: models.Network, *, shared: bool, scopes: dict[int, str | None]) -> dict:
    """``scopes``: the address scope of the network's subnet pools, per IP version."""
    return {"admin_state_up": row.admin_state_up, "status": row.status,
            "subnets": [s.id for s in row.subnets], "shared": shared, "router:external": row.external,
            "provider:network_type": row.network_type, "provider:physical_network": row.physical_network,
            "provider:segmentation_id": row.segmentation_id, "mtu": row.mtu,
            "port_security_enabled": row.port_security_enabled,
            "availability_zone_hints": row.availability_zone_hints, "availability_zones": list(AVAILABILITY_ZONES),
            "ipv4_address_scope": scopes[4], "ipv6_address_scope": scopes[6], "dns_domain": row.dns_domain,
            "l2_adjacency": True}


def subnet(row: models.Subnet) -> dict:
    return {"network_id": row.network_id, "ip_version": row.ip_version, "cidr": row.cidr,
            "subnetpool_id": row.subnetpool_id, "gateway_ip": row.gateway_ip,
            "allocation_pools": row.allocation_pools, "dns_nameservers": row.dns_nameservers,
            "host_routes": row.host_routes, "enable_dhcp": row.enable_dhcp, "ipv6_ra_mode": row.ipv6_ra_mode,
            "ipv6_address_mode": row.ipv6_address_mode, "service_types": row.service_types,
            "segment_id": None, "dns_publish_fixed_ip": row.dns_publish_fixed_ip}


def port(row: models.Port, *, dns_domain: str) -> dict:
    fixed = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips]
    hostname = row.dns_name or None
    assignment = [{"hostname": hostname or f"host-{a['ip_address'].replace('.', '-').replace(':', '-')}",
                   "ip_address": a["ip_address"]} for a in fixed]
    for entry in assignment:
        entry["fqdn"] = f"{entry['hostname']}.{dns_domain}."
    return {"network_id": row.network_id, "admin_state_up": row.admin_state_up, "mac_address": row.mac_address,
            "fixed_ips": fixed, "device_id": row.device_id, "device_owner": row.device_owner,
            "status": row.status, "security_groups": [g.security_group_id for g in row.security_groups],
            "allowed_address_pairs": row.allowed_address_pairs, "extra_dhcp_opts": row.extra_dhcp_opts,
            "port_security_enabled": row.port_security_enabled, "binding:host_id": row.host_id,
            "binding:vnic_type": row.vnic_type, "binding:profile": row.profile,
            "binding:vif_type": "bridge" if row.host_id else "unbound",
            "binding:vif_details": {"port_filter": True} if row.host_id else {},
            "dns_name": row.dns_name, "dns_assignment": assignment, "ip_allocation": "immediate"}


def port_binding(port: models.Port, host: str, vnic_type: str, profile: dict, active: bool) -> dict:
    """One of a port's bindings (``binding-extended``): the active one is the port's own binding."""
    return {"host": host, "vif_type": "bridge", "vif_details": {"port_filter": True}, "vnic_type": vnic_type,
            "profile": profile or {}, "status": "ACTIVE" if active else "INACTIVE", "project_id": port.project_id}


def security_group(row: models.SecurityGroup, *, rules: list[dict]) -> dict:
    return {"stateful": row.stateful, "shared": row.shared, "security_group_rules": rules}


def security_group_rule(row: models.SecurityGroupRule, *, normalized_cidr: str | None,
                        belongs_to_default: bool) -> dict:
    return {"security_group_id": row.security_group_id, "direction": row.direction, "ethertype": row.ethertype,
            "protocol": row.protocol, "port_range_min": row.port_range_min, "port_range_max": row.port_range_max,
            "remote_ip_prefix": row.remote_ip_prefix, "remote_group_id": row.remote_group_id,
            "remote_address_group_id": row.remote_address_group_id, "normalized_cidr": normalized_cidr,
            "belongs_to_default_sg": belongs_to_default}


def subnetpool(row: models.SubnetPool, *, shared: bool) -> dict:
    return {"prefixes": row.prefixes, "ip_version": row.ip_version, "default_prefixlen": row.default_prefixlen,
            "min_prefixlen": row.min_prefixlen, "max_prefixlen": row.max_prefixlen,
            "default_quota": row.default_quota, "is_default": row.is_default, "shared": shared,
            "address_scope_id": row.address_scope_id}


def address_scope(row: models.AddressScope, *, shared: bool) -> dict:
    return {"ip_version": row.ip_version, "shared": shared}


def rbac_policy(row: models.RBACPolicy) -> dict:
    return {"object_type": row.object_type, "object_id": row.object_id, "target_tenant": row.target_project,
            "action": row.action}


def gateway_info(router: models.Router, port: models.Port | None) -> dict | None:
    """A router's ``external_gateway_info``, from its gateway port (None: no gateway)."""
    if port is None:
        return None
    return {"network_id": port.network_id, "enable_snat": router.enable_snat,
            "external_fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]}


def router(row: models.Router, *, gateway: models.Port | None) -> dict:
    return {"admin_state_up": row.admin_state_up, "status": row.status,
            "external_gateway_info": gateway_info(row, gateway), "routes": row.routes,
            "availability_zone_hints": row.availability_zone_hints, "availability_zones": list(AVAILABILITY_ZONES)}


def router_interface(router: models.Router, port: models.Port, subnet_ids: list[str]) -> dict:
    """The answer to ``add_router_interface`` and ``remove_router_interface``."""
    return {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id,
            "port_id": port.id, "network_id": port.network_id, "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids}


def port_details(port: models.Port | None) -> dict | None:
    """A floating IP's ``port_details`` (fip-port-details)."""
    if port is None:
        return None
    return {"name": port.name, "network_id": port.network_id, "mac_address": port.mac_address,
            "admin_state_up": port.admin_state_up, "status": port.status, "device_id": port.device_id,
            "device_owner": port.device_owner}


def floatingip(row: models.FloatingIP, *, port: models.Port | None) -> dict:
    """``port``: the port the floating IP maps to, if any."""
    return {"floating_network_id": row.floating_network_id, "floating_ip_address": row.floating_ip_address,
            "port_id": row.port_id, "fixed_ip_address": row.fixed_ip_address, "router_id": row.router_id,
            "status": row.status, "dns_name": row.dns_name, "dns_domain": row.dns_domain,
            "port_details": port_details(port)}


def floatingip_pool(subnet: models.Subnet) -> dict:
    return {"subnet_id": subnet.id, "subnet_name": subnet.name, "network_id": subnet.network_id,
            "cidr": subnet.cidr, "project_id": subnet.project_id, "tenant_id": subnet.project_id}


def port_forwarding(row: models.PortForwarding) -> dict:
    return {"id": row.id, "internal_port_id": row.internal_port_id, "internal_ip_address": row.internal_ip_address,
            "internal_port": row.internal_port, "external_port": row.external_port, "protocol": row.protocol,
            "description": row.description}


def extension(alias: str, name: str, description: str, updated: str) -> dict:
    return {"alias": alias, "name": name, "description": description, "updated": updated, "links": []}


def project_quota(project_id: str, limits: dict[str, int]) -> dict:
    """One entry of ``GET /v2.0/quotas``."""
    return {**limits, "project_id": project_id, "tenant_id": project_id}
