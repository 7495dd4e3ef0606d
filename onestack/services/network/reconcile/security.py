"""What the packet filter needs to know of ports: their addresses, their port security and their security
group rules, with remote groups expanded to the addresses of the groups' current member ports.

``port_rules`` reads everything for any number of ports in five queries (ports with their fixed IPs and
groups, the groups' rules, the remote groups' members with theirs), so the agent can afford to call it
on every wake-up.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.drivers.netns.firewall import PortRules, Rule
from onestack.services.network.models import IPAllocation, Port, PortSecurityGroup, SecurityGroupRule
from onestack.services.network.service.security_groups import PROTOCOLS

# The protocols the filter names; every other protocol goes to it as its number.
NAMED = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ipv6-icmp": "ipv6-icmp", "icmpv6": "ipv6-icmp",
         "6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}


def device_name(port_id: str) -> str:
    """The host side of a port on its bridge, as Nova and Neutron name it."""
    return f"tap{port_id[:11]}"


def normalise_protocol(protocol: str | None, ethertype: str) -> str | None:
    if protocol is None:
        return None
    text = str(protocol).lower()
    named = NAMED.get(text) or str(PROTOCOLS.get(text, text))
    # Neutron reads "icmp" in an IPv6 rule as ICMPv6.
    return "ipv6-icmp" if named == "icmp" and ethertype == "IPv6" else named


def _trusted(port: Port) -> bool:
    """DHCP, router and other network-owned ports are the cloud's own and never filtered (as in Neutron)."""
    return port.device_owner.startswith("network:")


def _version(address: str) -> int:
    return ipaddress.ip_network(address, strict=False).version


def _members(session: Session, group_ids: set[str]) -> dict[str, dict[int, tuple[str, ...]]]:
    """group id -> IP version -> the fixed IPs and allowed-pair addresses of the group's ports."""
    if not group_ids:
        return {}
    found: dict[str, dict[int, dict[str, None]]] = defaultdict(lambda: defaultdict(dict))
    rows = session.execute(select(PortSecurityGroup.security_group_id, IPAllocation.ip_address)
                           .join(IPAllocation, IPAllocation.port_id == PortSecurityGroup.port_id)
                           .where(PortSecurityGroup.security_group_id.in_(group_ids)))
    for group_id, address in rows:
        found[group_id][_version(address)][address] = None
    pairs = session.execute(select(PortSecurityGroup.security_group_id, Port.allowed_address_pairs)
                            .join(Port, Port.id == PortSecurityGroup.port_id)
                            .where(PortSecurityGroup.security_group_id.in_(group_ids)))
    for group_id, port_pairs in pairs:
        for pair in port_pairs or []:
            found[group_id][_version(pair["ip_address"])][pair["ip_address"]] = None
    return {group: {version: tuple(addresses) for version, addresses in by_version.items()}
            for group, by_version in found.items()}


def _rule(row: SecurityGroupRule, members: dict[str, dict[int, tuple[str, ...]]]) -> Rule | None:
    """The filter's form of one rule; None for a remote group that has no member of its IP version."""
    if row.remote_group_id:
        remote = members.get(row.remote_group_id, {}).get(4 if row.ethertype == "IPv4" else 6, ())
        if not remote:
            return None
    else:
        remote = (row.remote_ip_prefix,) if row.remote_ip_prefix else ()
    return Rule(direction=row.direction, ethertype=row.ethertype,
                protocol=normalise_protocol(row.protocol, row.ethertype),
                port_min=row.port_range_min, port_max=row.port_range_max, remote_prefixes=remote)


def port_rules(session: Session, port_ids: Iterable[str]) -> list[PortRules]:
    """The filter's view of each existing port among ``port_ids`` (unknown ids are left out)."""
    ids = set(port_ids)
    if not ids:
        return []
    ports = session.scalars(select(Port).where(Port.id.in_(ids)).order_by(Port.id)).all()
    filtered = {p.id: p for p in ports if p.port_security_enabled and not _trusted(p)}
    group_ids = {link.security_group_id for p in filtered.values() for link in p.security_groups}
    rules_by_group: dict[str, list[SecurityGroupRule]] = defaultdict(list)
    if group_ids:
        for row in session.scalars(select(SecurityGroupRule)
                                   .where(SecurityGroupRule.security_group_id.in_(group_ids))
                                   .order_by(SecurityGroupRule.created_at, SecurityGroupRule.id)):
            rules_by_group[row.security_group_id].append(row)
    remote_ids = {r.remote_group_id for rows in rules_by_group.values() for r in rows if r.remote_group_id}
    members = _members(session, remote_ids)

    out = []
    for port in ports:
        base = dict(port_id=port.id, device=device_name(port.id), mac=port.mac_address.lower(),
                    ips=tuple(ip.ip_address for ip in port.fixed_ips))
        if port.id not in filtered:
            out.append(PortRules(**base, port_security=False))
            continue
        rules = (_rule(row, members) for link in port.security_groups for row in rules_by_group[link.security_group_id])
        out.append(PortRules(**base, port_security=True,
                             allowed_pairs=tuple((p["ip_address"], p.get("mac_address")) for p in port.allowed_address_pairs),
                             rules=tuple(dict.fromkeys(r for r in rules if r is not None))))
    return out


def stamp(session: Session) -> tuple:
    """A cheap fingerprint of everything ``port_rules`` reads, which changes whenever a rule, a port, its
    addresses or its groups do, in any process: an agent compares it every second, so a rule written by
    another serving process or on another host takes effect as fast as one written by its own."""
    ports = session.execute(select(func.count(), func.max(Port.updated_at))).one()
    rules = session.execute(select(func.count(), func.max(SecurityGroupRule.created_at))).one()
    return (*ports, *rules, session.scalar(select(func.count()).select_from(IPAllocation)),
            session.scalar(select(func.count()).select_from(PortSecurityGroup)))
