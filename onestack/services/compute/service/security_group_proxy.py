"""Nova's security groups over Neutron's: the shapes Nova shows (ingress rules only, ``from_port``/``to_port``,
``ip_range``, ``group``), the rule arguments Nova accepts, and a server's groups as those of its ports.

Neutron answers are turned into Nova's: a group in use or the default group cannot be deleted (400), a
rule that exists already is a 400, an exhausted quota a 403.
"""

from __future__ import annotations

import ipaddress
import uuid

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound
from onestack.services.compute.service.servers import Servers
from onestack.services.network.public import Network, SecurityGroupInfo, SecurityGroupRuleInfo

# Nova's rule protocols; anything else is refused before Neutron sees it.
NOVA_PROTOCOLS = ("tcp", "udp", "icmp")


def check_id(ident, what: str = "Security group") -> str:
    """Nova refuses an id that is not a UUID before asking Neutron (400, not 404)."""
    try:
        uuid.UUID(str(ident))
    except ValueError:
        raise BadRequest(f"{what} id should be uuid") from None
    return str(ident)


def check_text(value, field: str) -> str:
    """A name or description: a string of 1 to 255 characters once stripped (kept as given)."""
    if not isinstance(value, str):
        raise BadRequest(f"Security group {field} is not a string or unicode")
    if not 1 <= len(value.strip()) <= 255:
        raise BadRequest(f"Security group {field} has a length of {len(value.strip())}: it must be between 1 and "
                         "255 characters long.")
    return value


# -- groups --------------------------------------------------------------------------------------
class SecurityGroupProxy:
    """Answers the network service's groups and rules (``views.proxied_group`` shows them as Nova does)."""

    def __init__(self, network: Network, servers: Servers):
        self.network = network
        self.servers = servers

    def list(self, ctx: Context, all_projects: bool) -> list[SecurityGroupInfo]:
        """The caller's project's groups (every project's for an admin asking ``all_tenants``), as Nova
        asks Neutron for them."""
        return self.network.security_groups(ctx, all_projects=all_projects)

    def show(self, ctx: Context, group_id: str) -> SecurityGroupInfo:
        return self.network.security_group(ctx, check_id(group_id))

    def create(self, ctx: Context, name, description) -> SecurityGroupInfo:
        body = {"name": check_text(name, "name"), "description": check_text(description, "description")}
        try:
            return self.network.create_security_group(ctx, body)
        except Conflict as exc:  # Nova reads any 409 on create as the group quota
            raise Forbidden(f"Quota exceeded, too many security groups. ({exc.message})") from None

    def update(self, ctx: Context, group_id: str, name, description) -> SecurityGroupInfo:
        changes = {"name": check_text(name, "name"), "description": check_text(description, "description")}
        try:
            return self.network.update_security_group(ctx, check_id(group_id), changes)
        except Conflict as exc:
            raise BadRequest(exc.message) from None

    def delete(self, ctx: Context, group_id: str) -> None:
        try:
            self.network.delete_security_group(ctx, check_id(group_id))
        except Conflict as exc:  # in use, or the project's default group
            raise BadRequest(exc.message) from None

    # -- rules -------------------------------------------------------------------------------
    def add_rule(self, ctx: Context, args: dict) -> SecurityGroupRuleInfo:
        parent = check_id(args.get("parent_group_id"))
        remote_group = args.get("group_id")
        self.network.security_group(ctx, parent)
        if remote_group is not None:
            self.network.security_group(ctx, check_id(remote_group))
        body = {"security_group_id": parent, "direction": "ingress",
                **neutron_rule(args.get("ip_protocol"), args.get("from_port"), args.get("to_port"),
                               args.get("cidr"), remote_group)}
        try:
            return self.network.create_security_group_rule(ctx, body)
        except Conflict as exc:
            if exc.kind == "OverQuota":
                raise Forbidden(f"Quota exceeded, too many security group rules. ({exc.message})") from None
            raise BadRequest(f"This rule already exists in group {parent}") from None

    def delete_rule(self, ctx: Context, rule_id: str) -> None:
        self.network.delete_security_group_rule(ctx, check_id(rule_id, "Security group rule"))

    # -- a server's groups: those of its ports -------------------------------------------------
    def of_server(self, instance_id: str) -> list[SecurityGroupInfo]:
        ports = self.network.device_ports([instance_id])
        return self.network.security_groups_by_id([g for p in ports for g in p.security_group_ids])

    def _by_name(self, ctx: Context, name: str) -> SecurityGroupInfo:
        """The caller's project's group called ``name`` (or with that id), as Nova looks it up."""
        found = self.network.security_groups_named(ctx, name)
        if not found:
            raise NotFound(f"Security group {name} not found for project {ctx.project_id}.")
        if len(found) > 1:
            raise Conflict(f"Multiple security groups found matching '{name}'. Use an ID to be more specific.")
        return found[0]

    def add_to_server(self, ctx: Context, server_id: str, name: str) -> None:
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-security-groups:add")
        group = self._by_name(ctx, name)
        ports = self.network.device_ports([instance.id])
        if not ports:
            raise NotFound(f"instance_id {instance.id} could not be found as device id on any ports")
        changes = {}
        for port in ports:
            if not port.port_security_enabled or not port.fixed_ips:
                raise BadRequest(f"Network requires port_security_enabled and subnet associated in order to "
                                 f"apply security groups. (port {port.id})")
            if group.id not in port.security_group_ids:
                changes[port.id] = [*port.security_group_ids, group.id]
        self.network.set_port_security_groups(ctx, changes)
        self.servers.change_security_groups(instance.id, lambda names: names if name in names else [*names, name])

    def remove_from_server(self, ctx: Context, server_id: str, name: str) -> None:
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-security-groups:remove")
        group = self._by_name(ctx, name)
        changes = {port.id: [g for g in port.security_group_ids if g != group.id]
                   for port in self.network.device_ports([instance.id]) if group.id in port.security_group_ids}
        if not changes:
            raise NotFound(f"Security group {name} not associated with the instance {instance.id}")
        self.network.set_port_security_groups(ctx, changes)
        self.servers.change_security_groups(instance.id, lambda names: [n for n in names if n != name])


def neutron_rule(protocol, from_port, to_port, cidr, remote_group) -> dict:
    """Nova's rule arguments as a Neutron rule: a remote group, or a CIDR (0.0.0.0/0 by default) whose
    version gives the ethertype; a protocol with both ports, ICMP's -1 meaning any type or code."""
    body: dict = {}
    if remote_group is not None:
        body["remote_group_id"] = remote_group
        body["ethertype"] = "IPv4"
    else:
        cidr = cidr or "0.0.0.0/0"
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid cidr {cidr}.") from None
        body["remote_ip_prefix"] = cidr
        body["ethertype"] = f"IPv{network.version}"
    if not protocol or from_port is None or to_port is None:
        if remote_group is None:  # a CIDR rule names its protocol and ports
            raise BadRequest("Not enough parameters to build a valid rule.")
        return body
    protocol = str(protocol).lower()
    try:
        low, high = int(from_port), int(to_port)
    except (TypeError, ValueError):
        raise BadRequest("Type and Code must be integers for ICMP protocol type" if protocol == "icmp"
                         else "To and From ports must be integers") from None
    if protocol not in NOVA_PROTOCOLS:
        raise BadRequest(f"Invalid IP protocol {protocol}.")
    if protocol in ("tcp", "udp"):
        if low > high:
            raise BadRequest(f"Invalid port range {low}:{high}. Former value cannot be greater than the later")
        if low < 1 or high > 65535:
            raise BadRequest(f"Invalid port range {low}:{high}. Valid {protocol.upper()} ports should be between "
                             "1-65535")
    elif not (-1 <= low <= 255 and -1 <= high <= 255):
        raise BadRequest(f"Invalid port range {low}:{high}. For ICMP, the type:code must be valid")
    body["protocol"] = protocol
    # Neutron says "any" with no value where Nova says -1.
    body["port_range_min"] = None if low == -1 else low
    body["port_range_max"] = None if high == -1 else high
    return body
