"""Why does my server not answer?  The hops a packet takes to a server, each checked against the network
database and this host's kernel, one line per hop: what is fine and what is missing.

The classic first-instance checklist, automated: the server is active, its port is wired, its network's
bridge and DHCP namespace exist, a security group rule admits the traffic from where it comes, and from
outside a router joins the subnet to an external network and a floating IP points at the port.  Kernel
objects are looked up by the names the data plane gives them (``brq<network id[:11]>``,
``qdhcp-<network id>``, ``qrouter-<router id>``) and only mean something on the host that runs them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.services.network.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from onestack.services.network.reconcile.security import device_name, normalise_protocol

DHCP_OWNER = "network:dhcp"
INTERFACE_OWNER = "network:router_interface"
ANYWHERE = ipaddress.ip_network("0.0.0.0/0")


@dataclasses.dataclass(frozen=True)
class Server:
    id: str
    name: str
    state: str  # Nova's vm_state
    host: str | None = None


@dataclasses.dataclass(frozen=True)
class Traffic:
    protocol: str  # "icmp" (an echo request) or "tcp"
    port: int | None = None

    def __str__(self) -> str:
        return "ping (ICMP echo)" if self.protocol == "icmp" else f"tcp port {self.port}"


@dataclasses.dataclass(frozen=True)
class Hop:
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok     ' if self.ok else 'MISSING'}  {self.name}: {self.detail}"


@dataclasses.dataclass(frozen=True)
class KernelView:
    """The network namespaces and links of this host, by name."""

    namespaces: frozenset[str]
    links: frozenset[str]

    @classmethod
    def observe(cls) -> KernelView:
        def names(path: str) -> frozenset[str]:
            try:
                return frozenset(os.listdir(path))
            except OSError:
                return frozenset()

        return cls(names("/run/netns"), names("/sys/class/net"))


def _ports(session: Session, server_id: str) -> list[Port]:
    return list(session.scalars(select(Port).where(Port.device_id == server_id).order_by(Port.created_at)))


def _pick(ports: list[Port], networks: set[str]) -> Port:
    """The port on a network the source shares, else the server's first."""
    return next((p for p in ports if p.network_id in networks), ports[0])


def _admits_traffic(rule: SecurityGroupRule, traffic: Traffic) -> bool:
    protocol = normalise_protocol(rule.protocol, rule.ethertype)
    if rule.ethertype != "IPv4" or protocol not in (None, traffic.protocol):
        return False
    if protocol is None or rule.port_range_min is None:
        return True
    if traffic.protocol == "icmp":
        return rule.port_range_min == 8 and rule.port_range_max in (None, 0)
    return rule.port_range_min <= traffic.port <= (rule.port_range_max or rule.port_range_min)


def _admits_peer(rule: SecurityGroupRule, peer_cidrs: list, peer_groups: set[str]) -> bool:
    if rule.remote_group_id:
        return rule.remote_group_id in peer_groups
    prefix = ipaddress.ip_network(rule.remote_ip_prefix) if rule.remote_ip_prefix else ANYWHERE
    return bool(peer_cidrs) and all(prefix.version == c.version and c.subnet_of(prefix) for c in peer_cidrs)


def _security_hop(session: Session, port: Port, direction: str, traffic: Traffic, peer: str,
                  peer_cidrs: list, peer_groups: set[str]) -> Hop:
    name = f"security groups ({direction})"
    if not port.port_security_enabled:
        return Hop(name, True, f"port security is off on port {port.id}: nothing is filtered")
    group_ids = [link.security_group_id for link in port.security_groups]
    groups = {g.id: g for g in session.scalars(select(SecurityGroup).where(SecurityGroup.id.in_(group_ids)))}
    for group_id in group_ids:
        for rule in groups[group_id].rules:
            if rule.direction == direction and _admits_traffic(rule, traffic) and _admits_peer(rule, peer_cidrs,
                                                                                               peer_groups):
                return Hop(name, True, f"rule {rule.id} of group {groups[group_id].name!r} admits {traffic} "
                                       f"{'from' if direction == 'ingress' else 'to'} {peer}")
    names = ", ".join(repr(groups[g].name) for g in group_ids) or "none"
    example = ("--protocol icmp" if traffic.protocol == "icmp" else f"--protocol tcp --dst-port {traffic.port}")
    remote = peer_cidrs[0] if len(peer_cidrs) == 1 else ANYWHERE
    return Hop(name, False, f"no {direction} rule of the port's groups ({names}) admits {traffic} "
                            f"{'from' if direction == 'ingress' else 'to'} {peer}; e.g. openstack security group "
                            f"rule create --{direction} {example} --remote-ip {remote} "
                            f"{groups[group_ids[0]].name if group_ids else 'GROUP'}")


def _subnets(session: Session, port: Port) -> list[Subnet]:
    ids = [ip.subnet_id for ip in port.fixed_ips]
    return list(session.scalars(select(Subnet).where(Subnet.id.in_(ids)))) if ids else []


def _wiring_hops(session: Session, port: Port, kernel: KernelView) -> list[Hop]:
    hops = [Hop("port", port.status == "ACTIVE" and port.admin_state_up,
                f"port {port.id} is {port.status}{'' if port.admin_state_up else ', admin down'}"
                + ("" if port.status == "ACTIVE" else ": not wired on its host (is the network agent running?)"))]
    for hop, link in (("bridge", f"brq{port.network_id[:11]}"), ("tap", device_name(port.id))):
        hops.append(Hop(hop, link in kernel.links, f"{link} {'exists' if link in kernel.links else 'is not'} "
                                                   "on this host"))
    dhcp_subnets = [s for s in _subnets(session, port) if s.enable_dhcp]
    if not dhcp_subnets:
        hops.append(Hop("dhcp", True, "DHCP is off on the port's subnets: the guest must get its address another way"))
        return hops
    dhcp_port = session.scalar(select(Port.id).where(Port.network_id == port.network_id,
                                                     Port.device_owner == DHCP_OWNER).limit(1))
    hops.append(Hop("dhcp port", dhcp_port is not None,
                    f"DHCP port {dhcp_port} serves network {port.network_id}" if dhcp_port else
                    f"no DHCP port on network {port.network_id}: the guest gets no address"))
    netns = f"qdhcp-{port.network_id}"
    hops.append(Hop("dhcp namespace", netns in kernel.namespaces,
                    f"{netns} {'exists' if netns in kernel.namespaces else 'is not'} on this host"))
    return hops


def _routers_on(session: Session, subnet_ids: list[str]) -> set[str]:
    """The routers with an interface on any of the subnets."""
    return set(session.scalars(select(Port.device_id).join(IPAllocation, IPAllocation.port_id == Port.id)
                               .where(Port.device_owner == INTERFACE_OWNER, IPAllocation.subnet_id.in_(subnet_ids))))


def _router_on(session: Session, subnet_ids: list[str]) -> Router | None:
    routers = sorted(_routers_on(session, subnet_ids))
    return session.get(Router, routers[0]) if routers else None


def _external_hops(session: Session, server: Server, port: Port, kernel: KernelView) -> tuple[list[Hop], list]:
    """Router, gateway and floating IP hops, and the external networks' CIDRs traffic comes from."""
    subnets = _subnets(session, port)
    names = ", ".join(s.cidr for s in subnets)
    router = _router_on(session, [s.id for s in subnets])
    fip = session.scalar(select(FloatingIP).where(FloatingIP.port_id == port.id).limit(1))
    external_net = fip.floating_network_id if fip else None
    hops = []
    if router is None:
        hops.append(Hop("router", False, f"no router has an interface on the server's subnet ({names}); e.g. "
                                         f"openstack router add subnet ROUTER {subnets[0].id if subnets else 'SUBNET'}"))
    else:
        hops.append(Hop("router", True, f"router {router.name!r} ({router.id}) has an interface on {names}"))
        gateway = session.get(Port, router.gw_port_id) if router.gw_port_id else None
        hops.append(Hop("router gateway", gateway is not None,
                        f"router {router.name!r} has its gateway on external network {gateway.network_id}" if gateway
                        else f"router {router.name!r} has no external gateway; e.g. openstack router set "
                             f"--external-gateway EXTERNAL-NETWORK {router.name or router.id}"))
        external_net = external_net or (gateway.network_id if gateway else None)
        netns = f"qrouter-{router.id}"
        hops.append(Hop("router namespace", netns in kernel.namespaces,
                        f"{netns} {'exists' if netns in kernel.namespaces else 'is not'} on this host"))
    hops.append(Hop("floating ip", fip is not None,
                    f"{fip.floating_ip_address} is associated to {fip.fixed_ip_address}" if fip else
                    f"no floating IP on port {port.id}; e.g. openstack floating ip create EXTERNAL-NETWORK, then "
                    f"openstack server add floating ip {server.name} ADDRESS"))
    query = select(Subnet.cidr).join(Network, Network.id == Subnet.network_id).where(Subnet.ip_version == 4)
    query = query.where(Network.id == external_net) if external_net else query.where(Network.external.is_(True))
    cidrs = [ipaddress.ip_network(c) for c in session.scalars(query)] or [ANYWHERE]
    return hops, cidrs


def diagnose(session: Session, server: Server, traffic: Traffic, kernel: KernelView,
             source: Server | None = None) -> list[Hop]:
    """The hops from ``source`` (another server; None for the outside world) to ``server``, in order."""
    hops = [Hop("server", server.state == "active",
                f"{server.name} ({server.id}) is {server.state}" + (f" on host {server.host}" if server.host else ""))]
    ports = _ports(session, server.id)
    source_ports = _ports(session, source.id) if source else []
    if not ports:
        return [*hops, Hop("port", False, f"{server.name} has no port: it is on no network")]
    port = _pick(ports, {p.network_id for p in source_ports})
    hops += _wiring_hops(session, port, kernel)
    if source is None:
        external, cidrs = _external_hops(session, server, port, kernel)
        hops.append(_security_hop(session, port, "ingress", traffic, "outside", cidrs, set()))
        return hops + external
    hops.insert(1, Hop("source server", source.state == "active", f"{source.name} ({source.id}) is {source.state}"))
    if not source_ports:
        return [*hops, Hop("source port", False, f"{source.name} has no port: it is on no network")]
    src = _pick(source_ports, {port.network_id})
    src_cidrs = [ipaddress.ip_network(ip.ip_address) for ip in src.fixed_ips if ":" not in ip.ip_address]
    dst_cidrs = [ipaddress.ip_network(ip.ip_address) for ip in port.fixed_ips if ":" not in ip.ip_address]
    hops.append(_security_hop(session, src, "egress", traffic, server.name, dst_cidrs,
                              {link.security_group_id for link in port.security_groups}))
    hops.append(_security_hop(session, port, "ingress", traffic, source.name, src_cidrs,
                              {link.security_group_id for link in src.security_groups}))
    if src.network_id != port.network_id:
        joining = (_routers_on(session, [ip.subnet_id for ip in port.fixed_ips])
                   & _routers_on(session, [ip.subnet_id for ip in src.fixed_ips]))
        hops.append(Hop("router", bool(joining),
                        f"router {sorted(joining)[0]} joins the two servers' subnets" if joining else
                        "no router joins the two servers' subnets; e.g. openstack router add subnet ROUTER SUBNET"))
    return hops
