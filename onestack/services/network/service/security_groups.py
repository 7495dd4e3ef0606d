"""Security groups and their rules, with each project's ``default`` group made on first need."""

from __future__ import annotations

import ipaddress

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.http.numbers import decimal
from onestack.services.network import schemas, views
from onestack.services.network.models import (
    DefaultSecurityGroup,
    PortSecurityGroup,
    SecurityGroup,
    SecurityGroupRule,
)
from onestack.services.network.service import rbac
from onestack.services.network.service.collection import Collection, new_uuid
from onestack.services.network.service.quotas import Quotas

PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "icmp": 1, "icmpv6": 58, "igmp": 2,
             "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
             "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
             "udplite": 136, "vrrp": 112}
PORTED = {"tcp", "udp", "dccp", "sctp", "udplite", "6", "17", "33", "132", "136"}
ICMP = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}


def _network(prefix: str | None):
    return ipaddress.ip_network(prefix, strict=False) if prefix else None


def _belongs_to_default(session: Session, rule: SecurityGroupRule) -> bool:
    """Whether a rule is of its project's ``default`` group."""
    default = session.get(DefaultSecurityGroup, rule.project_id)
    return default is not None and default.security_group_id == rule.security_group_id


def _rule_attributes(session: Session, rule: SecurityGroupRule) -> dict:
    normalized = str(_network(rule.remote_ip_prefix)) if rule.remote_ip_prefix else None
    return views.security_group_rule(rule, normalized_cidr=normalized,
                                     belongs_to_default=_belongs_to_default(session, rule))


def _bad(message: str, kind: str = "InvalidInput") -> BadRequest:
    return BadRequest(message, kind=kind)


class SecurityGroups(Collection):
    singular, plural, kind, model = "security_group", "security_groups", "Security group", SecurityGroup
    path = "security-groups"
    table = schemas.SECURITY_GROUPS

    def project_scope(self, session: Session, ctx: Context):
        return or_(SecurityGroup.project_id == ctx.project_id,
                   SecurityGroup.id.in_(rbac.reachable("security_group", ctx.project_id, (rbac.SHARED,))))

    def render(self, session: Session, ctx: Context, row: SecurityGroup) -> dict:
        # Rules inside a group show an empty tag list rather than one tag query per rule.
        return views.security_group(row, rules=[views.resource(r, _rule_attributes(session, r), [])
                                                  for r in row.rules])

    def default_id(self, session: Session, project_id: str) -> str:
        """The project's ``default`` group, created the first time anything needs it."""
        found = session.get(DefaultSecurityGroup, project_id)
        if found is not None:
            return found.security_group_id
        try:
            with session.begin_nested():
                return self._make_default(session, project_id)
        except IntegrityError:
            # a concurrent transaction made it first (PostgreSQL runs writers side by side): use theirs
            return session.scalars(select(DefaultSecurityGroup.security_group_id).where(
                DefaultSecurityGroup.project_id == project_id)).one()

    def _make_default(self, session: Session, project_id: str) -> str:
        group = SecurityGroup(id=new_uuid(), project_id=project_id, name="default",
                              description="Default security group", stateful=True)
        session.add(group)
        session.flush()
        session.add(DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
        for ethertype in ("IPv4", "IPv6"):
            self._rule(session, group, "egress", ethertype)
            self._rule(session, group, "ingress", ethertype, remote_group_id=group.id)
        session.flush()
        return group.id

    @staticmethod
    def _rule(session: Session, group: SecurityGroup, direction: str, ethertype: str, **extra) -> None:
        session.add(SecurityGroupRule(id=new_uuid(), project_id=group.project_id, security_group_id=group.id,
                                      direction=direction, ethertype=ethertype, description="", **extra))

    def before_list(self, ctx: Context) -> None:
        """Make the caller's default group exist before it lists groups (a racing twin is harmless)."""
        project_id, db = ctx.project_id, self.db
        if not project_id:
            return
        with db.read() as session:
            if session.get(DefaultSecurityGroup, project_id) is not None:
                return
        try:
            with db.write() as session:
                self.default_id(session, project_id)
        except IntegrityError:
            pass

    def create(self, session: Session, ctx: Context, body: dict) -> SecurityGroup:
        row = self.new_row(ctx, body, stateful=body["stateful"])
        self.authorize(ctx, "create", {"project_id": row.project_id})
        if row.name == "default":
            raise Conflict("Default security group already exists.", kind="SecurityGroupDefaultAlreadyExists")
        self.default_id(session, row.project_id)
        self.quotas.check(session, row.project_id, "security_group")
        session.add(row)
        session.flush()
        for ethertype in ("IPv4", "IPv6"):
            self._rule(session, row, "egress", ethertype)
        session.flush()
        session.refresh(row)
        return row

    def update(self, session: Session, ctx: Context, row: SecurityGroup, changes: dict) -> None:
        default = session.get(DefaultSecurityGroup, row.project_id)
        is_default = default is not None and default.security_group_id == row.id
        if changes.get("name") == "default" and not is_default:
            raise Conflict("Default security group already exists.", kind="SecurityGroupDefaultAlreadyExists")
        if is_default and "name" in changes and changes["name"] != "default":
            raise Conflict("Updating default security group not allowed.", kind="SecurityGroupCannotUpdateDefault")
        if "stateful" in changes and changes["stateful"] != row.stateful and self._in_use(session, row.id):
            raise Conflict(f"Security Group {row.id} in use.", kind="SecurityGroupInUse")
        super().update(session, ctx, row, changes)

    @staticmethod
    def _in_use(session: Session, group_id: str) -> bool:
        return session.scalar(select(PortSecurityGroup.port_id).where(
            PortSecurityGroup.security_group_id == group_id).limit(1)) is not None

    def delete(self, session: Session, ctx: Context, row: SecurityGroup) -> None:
        default = session.get(DefaultSecurityGroup, row.project_id)
        if default is not None and default.security_group_id == row.id and not ctx.is_admin:
            raise Conflict("Removing default security group not allowed.", kind="SecurityGroupCannotRemoveDefault")
        if self._in_use(session, row.id):
            raise Conflict(f"Security Group {row.id} in use.", kind="SecurityGroupInUse")
        rbac.revoke(session, "security_group", row.id, target=None)
        session.delete(row)


class SecurityGroupRules(Collection):
    singular, plural, kind, model = ("security_group_rule", "security_group_rules", "Security group rule",
                                     SecurityGroupRule)
    path = "security-group-rules"
    table = schemas.SECURITY_GROUP_RULES

    def __init__(self, db: Database, quotas: Quotas, groups: SecurityGroups):
        super().__init__(db, quotas)
        self.groups = groups

    def project_scope(self, session: Session, ctx: Context):
        groups = select(SecurityGroup.id).where(SecurityGroup.project_id == ctx.project_id)
        return or_(SecurityGroupRule.project_id == ctx.project_id, SecurityGroupRule.security_group_id.in_(groups))

    def render(self, session: Session, ctx: Context, row: SecurityGroupRule) -> dict:
        return _rule_attributes(session, row)

    def create(self, session: Session, ctx: Context, body: dict) -> SecurityGroupRule:
        groups = self.groups
        group = groups.get(session, ctx, body["security_group_id"])
        row = self.new_row(ctx, body, security_group_id=group.id, direction=body["direction"],
                           ethertype=body["ethertype"])
        self.authorize(ctx, "create", {"project_id": group.project_id})
        if group.project_id != row.project_id and not ctx.is_admin:
            raise self.groups.not_found(group.id)
        self.quotas.check(session, row.project_id, "security_group_rule")
        row.protocol = self._protocol(body.get("protocol"), row.ethertype)
        row.port_range_min, row.port_range_max = self._ports(row.protocol, body.get("port_range_min"),
                                                             body.get("port_range_max"))
        remote_prefix, remote_group = body.get("remote_ip_prefix"), body.get("remote_group_id")
        if remote_prefix and remote_group:
            raise _bad("Only remote_ip_prefix or remote_group_id may be provided.", "SecurityGroupRemoteGroupAndRemoteIpPrefix")
        if body.get("remote_address_group_id"):
            raise _bad("Address groups are not supported by this cloud.")
        if remote_prefix:
            row.remote_ip_prefix = self._prefix(remote_prefix, row.ethertype)
        if remote_group:
            groups.get(session, ctx, remote_group)
            row.remote_group_id = remote_group
        self._unique(session, row)
        session.add(row)
        session.flush()
        return row

    @staticmethod
    def _protocol(protocol, ethertype: str) -> str | None:
        if protocol is None or protocol in ("", "any"):
            return None
        text = str(protocol).lower()
        number = decimal(text)
        if number is not None:
            if not 0 <= number <= 255:
                raise _bad(f"Security group rule protocol {protocol} not supported. Only protocol values "
                           f"[{', '.join(sorted(PROTOCOLS))}] and integer representations [0 to 255] are "
                           "supported.", "SecurityGroupRuleInvalidProtocol")
            return text
        if text not in PROTOCOLS:
            raise _bad(f"Security group rule protocol {protocol} not supported. Only protocol values "
                       f"[{', '.join(sorted(PROTOCOLS))}] and integer representations [0 to 255] are supported.",
                       "SecurityGroupRuleInvalidProtocol")
        if ethertype == "IPv4" and text in ("icmpv6", "ipv6-icmp"):
            raise _bad(f"Protocol {text} is not supported for ethertype IPv4.", "SecurityGroupRuleInvalidEtherType")
        return text

    @staticmethod
    def _ports(protocol: str | None, low, high) -> tuple[int | None, int | None]:
        def number(value, what: str) -> int | None:
            if value is None:
                return None
            if isinstance(value, str) and not value.isdecimal():
                raise _bad(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
            return int(value)

        low, high = number(low, "min"), number(high, "max")
        if low is None and high is None:
            return None, None
        if protocol is None:
            raise _bad("Must also specify protocol if port range is given.", "SecurityGroupProtocolRequiredWithPorts")
        if protocol in ICMP:
            for value, name in ((low, "type"), (high, "code")):
                if value is not None and not 0 <= value <= 255:
                    raise _bad(f"Invalid value for ICMP {name} (type or code) {value}",
                               "SecurityGroupInvalidIcmpValue")
            if high is not None and low is None:
                raise _bad(f"ICMP code (port-range-max) {high} is provided but ICMP type (port-range-min) is "
                           "missing.", "SecurityGroupMissingIcmpType")
            return low, high
        if protocol not in PORTED:
            raise _bad(f"Invalid protocol {protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP "
                       "and DCCP.", "SecurityGroupInvalidProtocolForPort")
        for value in (low, high):
            if value is not None and not 0 <= value <= 65535:
                raise _bad(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
        if (low is None and high is not None) or (low is not None and high is not None and low > high):
            raise _bad("For TCP/UDP protocols, port_range_min must be <= port_range_max",
                       "SecurityGroupInvalidPortRange")
        if (low == 0 or high == 0) and not (low == 0 and high == 0):
            raise _bad("Invalid value for port 0", "SecurityGroupInvalidPortValue")
        return low, high

    @staticmethod
    def _prefix(prefix: str, ethertype: str) -> str:
        try:
            net = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise _bad(f"Invalid input for remote_ip_prefix. Reason: '{prefix}' is not a valid IP prefix.") from None
        if f"IPv{net.version}" != ethertype:
            raise _bad(f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                       "SecurityGroupRuleParameterConflict")
        # Kept as given, as Neutron keeps it; ``normalized_cidr`` shows the network it means.
        return prefix if "/" in prefix else str(net)

    @staticmethod
    def _unique(session: Session, row: SecurityGroupRule) -> None:
        """Two rules are the same if everything matches, prefixes compared as the networks they mean."""
        candidates = session.execute(select(SecurityGroupRule.id, SecurityGroupRule.remote_ip_prefix).where(
            SecurityGroupRule.security_group_id == row.security_group_id,
            SecurityGroupRule.direction == row.direction, SecurityGroupRule.ethertype == row.ethertype,
            SecurityGroupRule.protocol.is_(None) if row.protocol is None else SecurityGroupRule.protocol == row.protocol,
            *(getattr(SecurityGroupRule, k).is_(None) if getattr(row, k) is None else getattr(SecurityGroupRule, k) ==
              getattr(row, k) for k in ("port_range_min", "port_range_max", "remote_group_id"))))
        wanted = _network(row.remote_ip_prefix)
        same = next((rule_id for rule_id, prefix in candidates if _network(prefix) == wanted), None)
        if same is not None:
            raise Conflict(f"Security group rule already exists. Rule id is {same}.", kind="SecurityGroupRuleExists")
