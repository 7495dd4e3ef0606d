"""Nova's security groups over Neutron's: the shapes Nova shows (ingress rules only, ``from_port``/``to_port``,
``ip_range``, ``group``), the rule arguments Nova accepts, and a server's groups as those of its ports.

Neutron answers are turned into Nova's: a group in use or the default group cannot be deleted (400), a
rule that exists already is a 400, an exhausted quota a 403.
"""

from __future__ import annotations

import ipaddress
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound
from onestack.services.compute.service import network_changes as neutron
from onestack.services.network.models import Port, SecurityGroup, SecurityGroupRule
from onestack.services.network.service import NetworkService

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


# -- views -------------------------------------------------------------------------------------
def rule_view(session: Session, rule: SecurityGroupRule) -> dict:
    low, high = rule.port_range_min, rule.port_range_max
    if rule.protocol and low is None and high is None:
        # A Neutron rule without ports covers them all: Nova spells that 1-65535, or -1 for ICMP's type/code.
        low, high = (1, 65535) if rule.protocol.lower() in ("tcp", "udp") else (-1, -1)
    body = {"id": rule.id, "parent_group_id": rule.security_group_id, "ip_protocol": rule.protocol,
            "from_port": low, "to_port": high, "group": {}, "ip_range": {}}
    if rule.remote_group_id:
        remote = session.get(SecurityGroup, rule.remote_group_id)
        if remote is not None:
            body["group"] = {"name": remote.name, "tenant_id": remote.project_id}
    else:
        body["ip_range"] = {"cidr": rule.remote_ip_prefix}
    return body


def group_view(session: Session, group: SecurityGroup) -> dict:
    # Nova shows only what enters: Neutron's egress rules have no Nova equivalent.
    return {"id": group.id, "name": group.name, "description": group.description, "tenant_id": group.project_id,
            "rules": [rule_view(session, r) for r in group.rules if r.direction == "ingress"]}


# -- groups --------------------------------------------------------------------------------------
class SecurityGroupProxy:
    def __init__(self, net: NetworkService):
        self.net = net
        self.groups = net.security_groups
        self.rules = net.security_group_rules

    def list(self, ctx: Context, all_projects: bool) -> list[dict]:
        """The caller's project's groups (every project's for an admin asking ``all_tenants``), as Nova
        asks Neutron for them."""
        self.groups.before_list(ctx)
        with self.net.db.read() as session:
            stmt = select(SecurityGroup).order_by(SecurityGroup.created_at, SecurityGroup.id)
            if not (all_projects and ctx.is_admin):
                stmt = stmt.where(SecurityGroup.project_id == ctx.project_id)
            return [group_view(session, g) for g in session.scalars(stmt)]

    def show(self, ctx: Context, group_id: str) -> dict:
        with self.net.db.read() as session:
            return group_view(session, self.groups.get(session, ctx, check_id(group_id)))

    def create(self, ctx: Context, name, description) -> dict:
        body = {"name": check_text(name, "name"), "description": check_text(description, "description")}
        try:
            return neutron.create(self.groups, ctx, body, group_view)
        except Conflict as exc:  # Nova reads any 409 on create as the group quota
            raise Forbidden(f"Quota exceeded, too many security groups. ({exc.message})") from None

    def update(self, ctx: Context, group_id: str, name, description) -> dict:
        changes = {"name": check_text(name, "name"), "description": check_text(description, "description")}
        try:
            return neutron.update(self.groups, ctx, check_id(group_id), changes, group_view)
        except Conflict as exc:
            raise BadRequest(exc.message) from None

    def delete(self, ctx: Context, group_id: str) -> None:
        try:
            neutron.delete(self.groups, ctx, check_id(group_id))
        except Conflict as exc:  # in use, or the project's default group
            raise BadRequest(exc.message) from None

    # -- rules -------------------------------------------------------------------------------
    def add_rule(self, ctx: Context, args: dict) -> dict:
        parent = check_id(args.get("parent_group_id"))
        remote_group = args.get("group_id")
        with self.net.db.read() as session:
            self.groups.get(session, ctx, parent)
            if remote_group is not None:
                self.groups.get(session, ctx, check_id(remote_group))
        body = {"security_group_id": parent, "direction": "ingress",
                **neutron_rule(args.get("ip_protocol"), args.get("from_port"), args.get("to_port"),
                               args.get("cidr"), remote_group)}
        try:
            return neutron.create(self.rules, ctx, body, rule_view)
        except Conflict as exc:
            if exc.kind == "OverQuota":
                raise Forbidden(f"Quota exceeded, too many security group rules. ({exc.message})") from None
            raise BadRequest(f"This rule already exists in group {parent}") from None

    def delete_rule(self, ctx: Context, rule_id: str) -> None:
        neutron.delete(self.rules, ctx, check_id(rule_id, "Security group rule"))

    # -- a server's groups: those of its ports -------------------------------------------------
    def _ports(self, session: Session, instance_id: str) -> list[Port]:
        return list(session.scalars(select(Port).where(Port.device_id == instance_id).order_by(Port.created_at)))

    def of_server(self, ctx: Context, instance_id: str) -> list[dict]:
        with self.net.db.read() as session:
            ports = self._ports(session, instance_id)
            ids = [ps.security_group_id for p in ports for ps in p.security_groups]
            groups = session.scalars(select(SecurityGroup).where(SecurityGroup.id.in_(ids))
                                     .order_by(SecurityGroup.created_at))
            return [group_view(session, g) for g in groups]

    def _by_name(self, session: Session, ctx: Context, name: str) -> SecurityGroup:
        """The caller's project's group called ``name`` (or with that id), as Nova looks it up."""
        self.groups.default_id(session, ctx.project_id)  # Neutron makes "default" on first need
        found = list(session.scalars(select(SecurityGroup).where(SecurityGroup.project_id == ctx.project_id,
                                                                 SecurityGroup.name == name)))
        if not found:
            group = session.get(SecurityGroup, name)
            if group is not None and self.groups.visible(session, ctx, group):
                found = [group]
        if not found:
            raise NotFound(f"Security group {name} not found for project {ctx.project_id}.")
        if len(found) > 1:
            raise Conflict(f"Multiple security groups found matching '{name}'. Use an ID to be more specific.")
        return found[0]

    def add_to_server(self, ctx: Context, instance_id: str, name: str) -> None:
        with self.net.db.write() as session:
            group = self._by_name(session, ctx, name)
            ports = self._ports(session, instance_id)
            if not ports:
                raise NotFound(f"instance_id {instance_id} could not be found as device id on any ports")
            for port in ports:
                if not port.port_security_enabled or not port.fixed_ips:
                    raise BadRequest(f"Network requires port_security_enabled and subnet associated in order to "
                                     f"apply security groups. (port {port.id})")
                current = [ps.security_group_id for ps in port.security_groups]
                if group.id not in current:
                    self._set(session, ctx, port, [*current, group.id])

    def remove_from_server(self, ctx: Context, instance_id: str, name: str) -> None:
        with self.net.db.write() as session:
            group = self._by_name(session, ctx, name)
            found = False
            for port in self._ports(session, instance_id):
                current = [ps.security_group_id for ps in port.security_groups]
                if group.id in current:
                    self._set(session, ctx, port, [g for g in current if g != group.id])
                    found = True
            if not found:
                raise NotFound(f"Security group {name} not associated with the instance {instance_id}")

    def _set(self, session: Session, ctx: Context, port: Port, group_ids: list[str]) -> None:
        ports = self.net.ports
        neutron.apply_update(ports, session, ctx, port,
                             ports.table.check({"security_groups": group_ids}, creating=False, is_admin=ctx.is_admin))


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
