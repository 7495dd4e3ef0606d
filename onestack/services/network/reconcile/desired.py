"""From the network tables to a ``HostPlan``: pure computation, no kernel access.

Names are Neutron's Linux-bridge agent's, so the usual troubleshooting steps work verbatim:
bridge ``brq<network[:11]>``, guest tap ``tap<port[:11]>``, ``vxlan-<vni>``, ``<interface>.<vlan id>``,
namespaces
``qdhcp-<network>`` and ``qrouter-<router>`` whose ports are veths ``tap<port[:11]>`` on the bridge
and ``ns-``/``qr-``/``qg-<port[:11]>`` inside.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.drivers.netns.dnsmasq import DhcpHost, DhcpServer, DhcpSubnet
from onestack.drivers.netns.plan import (
    METADATA_ADDRESS,
    Dhcp,
    FloatingIP,
    HostPlan,
    PortForward,
    Router,
    Segment,
    Tap,
    Veth,
    Vlan,
    Vxlan,
)
from onestack.drivers.netns.radvd import Advertised, Prefix
from onestack.services.network.models import (
    DHCP_OWNER,
    ROUTER_GATEWAY_OWNER,
    ROUTER_INTERFACE_OWNER,
    Network,
    Port,
    PortBinding,
    PortForwarding,
    Subnet,
)
from onestack.services.network.models import FloatingIP as FloatingIPRow
from onestack.services.network.models import Router as RouterRow

NO_VLAN = "this kernel has no 802.1q (VLAN) support: the module is not loaded and cannot be"


@dataclasses.dataclass(frozen=True)
class HostFacts:
    """What the plan needs to know of this host and its settings."""

    owner: str
    host: str
    guests: bool  # ports bound to ``host`` are plugged here (a real compute driver runs their guests)
    bridge_mappings: dict  # physical network -> host bridge or interface
    interfaces: dict  # host link name -> kind ("bridge", "" for a plain interface, ...)
    vlan_supported: bool
    bridge_addresses: dict = dataclasses.field(default_factory=dict)  # host bridge -> the host's CIDRs on it
    tunnel_ip: str = ""
    vxlan_port: int = 4789
    metadata: bool = True
    metadata_socket: str = ""
    domain: str = "openstacklocal"
    remotes: tuple[str, ...] = ()  # the other hosts' tunnel addresses
    # DHCP servers and routers run here (the controller, like Neutron's network node); a joined compute
    # host wires only its own guests' networks.
    network_node: bool = True


def short(uuid: str) -> str:
    return uuid[:11]


def segment(network: Network, facts: HostFacts) -> Segment:
    brq = f"brq{short(network.id)}"
    kind = network.network_type
    if kind == "vxlan":
        vxlan = Vxlan(f"vxlan-{network.segmentation_id}", network.segmentation_id, facts.tunnel_ip, facts.vxlan_port,
                      facts.remotes)
        return Segment(network.id, brq, network.mtu, vxlan=vxlan)
    if kind == "local":
        return Segment(network.id, brq, network.mtu)
    if kind in ("flat", "vlan"):
        mapped = facts.bridge_mappings.get(network.physical_network or "") or ""
        if not mapped:
            return Segment(network.id, brq, network.mtu,
                           skipped=f"physical network {network.physical_network!r} has no bridge mapping on this host")
        if kind == "vlan":
            if not facts.vlan_supported:
                return Segment(network.id, brq, network.mtu, skipped=NO_VLAN)
            return Segment(network.id, brq, network.mtu, vlan=vlan_device(mapped, network.segmentation_id))
        if facts.interfaces.get(mapped, "bridge") == "bridge":  # linuxbridge semantics: the mapped bridge IS it
            return Segment(network.id, mapped, network.mtu,
                           host_addresses=tuple(facts.bridge_addresses.get(mapped) or ()))
        return Segment(network.id, brq, network.mtu, uplink=mapped)
    return Segment(network.id, brq, network.mtu, skipped=f"network type {kind!r} is not supported here")


def vlan_device(interface: str, vlan_id: int) -> Vlan:
    """``<interface>.<vlan id>``; past the kernel's 15 characters the interface's name is cut and a
    digest of it keeps two long names apart."""
    name = f"{interface}.{vlan_id}"
    if len(name) > 15:
        tail = f".{vlan_id}"
        digest = hashlib.sha1(interface.encode()).hexdigest()[:4]
        name = interface[:15 - len(tail) - len(digest)] + digest + tail
    return Vlan(name, interface, vlan_id)


def _cidr(address: str, subnet: Subnet) -> str:
    return f"{address}/{ipaddress.ip_network(subnet.cidr).prefixlen}"


def _v4(address: str) -> bool:
    return ipaddress.ip_address(address).version == 4


def _veth(port: Port, inner_prefix: str, bridge: str, mtu: int, subnets: dict[str, Subnet],
          extra: tuple[str, ...] = ()) -> Veth:
    addresses = tuple(_cidr(a.ip_address, subnets[a.subnet_id]) for a in port.fixed_ips if a.subnet_id in subnets)
    return Veth(port.id, f"tap{short(port.id)}", f"{inner_prefix}-{short(port.id)}", bridge, port.mac_address,
                mtu, addresses + extra)


def hostname(port: Port, address: str) -> str:
    return port.dns_name or "host-" + address.replace(".", "-").replace(":", "-")


def dhcp_served(subnet: Subnet) -> bool:
    """Whether the network's dnsmasq serves ``subnet``, as Neutron's DHCP agent decides: every DHCP-enabled
    IPv4 subnet, and an IPv6 one in a DHCPv6 address mode or with no IPv6 mode at all (SLAAC alone,
    ``slaac`` or an RA mode without address mode, is the router's advertisements' business)."""
    if not subnet.enable_dhcp:
        return False
    if subnet.ip_version == 4:
        return True
    mode = subnet.ipv6_address_mode
    return mode in ("dhcpv6-stateful", "dhcpv6-stateless") or (mode is None and subnet.ipv6_ra_mode is None)


def _leased(subnet: Subnet) -> bool:
    """Whether ports get their fixed address from dnsmasq (a stateless subnet's come from SLAAC)."""
    return subnet.ipv6_address_mode != "dhcpv6-stateless"


def dhcp(network: Network, port: Port, ports: list[Port], bridge: str, facts: HostFacts) -> Dhcp:
    subnets = {s.id: s for s in network.subnets}
    served = {s.id: s for s in network.subnets if dhcp_served(s)}
    own = [a.ip_address for a in port.fixed_ips if a.subnet_id in served]
    metadata = facts.metadata and any(_v4(a) for a in own)  # guests reach 169.254.169.254 over IPv4
    veth = _veth(port, "ns", bridge, network.mtu, subnets, (f"{METADATA_ADDRESS}/32",) if metadata else ())
    if not own:
        return Dhcp(network.id, f"qdhcp-{network.id}", veth, None)
    dhcp_subnets = []
    for subnet in sorted(served.values(), key=lambda s: (s.ip_version, s.cidr)):
        routes = [(r["destination"], r["nexthop"]) for r in subnet.host_routes if _v4(r["nexthop"])]
        mine = next((a.ip_address for a in port.fixed_ips if a.subnet_id == subnet.id), None)
        if metadata and mine and subnet.ip_version == 4:
            routes.append((f"{METADATA_ADDRESS}/32", mine))
        dhcp_subnets.append(DhcpSubnet(subnet.cidr, subnet.gateway_ip, tuple(subnet.dns_nameservers),
                                       tuple(routes), network.mtu))
    hosts = sorted(DhcpHost(p.mac_address, a.ip_address, hostname(p, a.ip_address))
                   for p in ports for a in p.fixed_ips
                   if a.subnet_id in served and _leased(served[a.subnet_id]) and p.id != port.id)
    server = DhcpServer(network.id, f"qdhcp-{network.id}", veth.inner, tuple(dhcp_subnets), tuple(hosts),
                        network.dns_domain.rstrip(".") or facts.domain)
    return Dhcp(network.id, f"qdhcp-{network.id}", veth, server, metadata)


def router(row: RouterRow, ports: list[Port], networks: dict[str, Network], segments: dict[str, Segment],
           floating: list[FloatingIPRow], forwardings: dict[str, list[PortForwarding]] | None = None) -> Router:
    subnets = {s.id: s for n in networks.values() for s in n.subnets}

    def wired(port: Port) -> bool:
        return port.network_id in segments and not segments[port.network_id].skipped

    interfaces = [p for p in ports if p.device_owner == ROUTER_INTERFACE_OWNER and wired(p)]
    inside = tuple(_veth(p, "qr", segments[p.network_id].bridge, networks[p.network_id].mtu, subnets)
                   for p in interfaces)
    advertised = tuple(a for a in (_advertised(p, networks[p.network_id], subnets) for p in interfaces) if a)
    gw = next((p for p in ports if p.id == row.gw_port_id and wired(p)), None)
    if gw is None:
        return Router(row.id, f"qrouter-{row.id}", inside, routes=_routes(row), advertised=advertised)
    mine = [f for f in floating if f.router_id == row.id]
    fips = tuple(sorted(FloatingIP(f.floating_ip_address, f.fixed_ip_address) for f in mine
                        if f.port_id and f.fixed_ip_address))
    forwards = tuple(sorted(PortForward(f.floating_ip_address, pf.protocol, pf.external_port,
                                        pf.internal_ip_address, pf.internal_port)
                            for f in mine for pf in (forwardings or {}).get(f.id, ())))
    addresses = sorted({f"{f.floating}/32" for f in fips} | {f"{f.floating}/32" for f in forwards})
    gateway = _veth(gw, "qg", segments[gw.network_id].bridge, networks[gw.network_id].mtu, subnets,
                    tuple(addresses))
    hops: dict[int, str] = {}  # IP version -> the default route's next hop: the first external subnet's gateway
    for address in gw.fixed_ips:
        hop = subnets[address.subnet_id].gateway_ip if address.subnet_id in subnets else None
        if hop:
            hops.setdefault(ipaddress.ip_address(hop).version, hop)
    return Router(row.id, f"qrouter-{row.id}", inside, gateway, hops.get(4), _routes(row), row.enable_snat, fips,
                  port_forwards=forwards, default_route6=hops.get(6), advertised=advertised)


def _advertised(port: Port, network: Network, subnets: dict[str, Subnet]) -> Advertised | None:
    """What the router interface ``port`` advertises: the prefixes of its IPv6 subnets that have an RA mode
    (Neutron's L3 agent sends advertisements for those only)."""
    ra = [subnets[a.subnet_id] for a in port.fixed_ips
          if a.subnet_id in subnets and subnets[a.subnet_id].ip_version == 6 and subnets[a.subnet_id].ipv6_ra_mode]
    if not ra:
        return None
    dns = tuple(dict.fromkeys(d for s in ra for d in s.dns_nameservers))
    prefixes = tuple(Prefix(s.cidr, s.ipv6_ra_mode) for s in sorted(ra, key=lambda s: s.cidr))
    return Advertised(f"qr-{short(port.id)}", network.mtu, prefixes, dns)


def _routes(row: RouterRow) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((r["destination"], r["nexthop"]) for r in row.routes))


def plan(session: Session, facts: HostFacts) -> HostPlan:
    networks = {n.id: n for n in session.scalars(select(Network)).unique()}
    ports = list(session.scalars(select(Port).where(Port.admin_state_up.is_(True))))
    by_network: dict[str, list[Port]] = {}
    for port in ports:
        by_network.setdefault(port.network_id, []).append(port)
    # A guest's port is wired where its binding is active and, ahead of a live migration, where it has an
    # inactive one: the destination's tap is in its bridge (and filtered) before the guest resumes there, so
    # the RARPs QEMU sends at resume reach the network at once.
    arriving = set(session.scalars(select(PortBinding.port_id).where(PortBinding.host == facts.host))) \
        if facts.guests else set()
    guest_ports = [p for p in ports if facts.guests and (p.host_id == facts.host or p.id in arriving)
                   and p.device_owner.startswith("compute:")]
    routers = [r for r in session.scalars(select(RouterRow)) if r.admin_state_up] if facts.network_node else []
    router_ports = {p.id: p for p in ports
                    if facts.network_node and p.device_owner in (ROUTER_INTERFACE_OWNER, ROUTER_GATEWAY_OWNER)}
    dhcp_ports = [p for p in ports if facts.network_node and p.device_owner == DHCP_OWNER]
    used = {p.network_id for p in (*guest_ports, *router_ports.values(), *dhcp_ports)} & networks.keys()
    segments = {n: segment(networks[n], facts) for n in sorted(used)}
    servers = tuple(dhcp(networks[p.network_id], p, by_network[p.network_id], segments[p.network_id].bridge, facts)
                    for p in sorted(dhcp_ports, key=lambda p: p.id)
                    if p.network_id in segments and not segments[p.network_id].skipped)
    forwardings: dict[str, list[PortForwarding]] = {}
    for pf in session.scalars(select(PortForwarding)):
        forwardings.setdefault(pf.floatingip_id, []).append(pf)
    floating = list(session.scalars(select(FloatingIPRow).where(
        FloatingIPRow.port_id.is_not(None) | FloatingIPRow.id.in_(forwardings))))
    planned_routers = tuple(
        router(r, [p for p in router_ports.values() if p.device_id == r.id or p.id == r.gw_port_id], networks,
               segments, floating, forwardings) for r in sorted(routers, key=lambda r: r.id))
    taps = tuple(Tap(p.id, f"tap{short(p.id)}", segments[p.network_id].bridge, networks[p.network_id].mtu)
                 for p in sorted(guest_ports, key=lambda p: p.id) if not segments[p.network_id].skipped)
    return HostPlan(facts.owner, facts.metadata_socket, tuple(segments.values()), servers, planned_routers, taps)


def managed_ports(session: Session, guests_host: str | None, network_node: bool = True) -> list[Port]:
    """The ports whose status this host's data plane reports: network-owned ones on the network node and,
    when its guests are real, those bound to ``guests_host``."""
    owners = (DHCP_OWNER, ROUTER_INTERFACE_OWNER, ROUTER_GATEWAY_OWNER)
    found = list(session.scalars(select(Port).where(Port.device_owner.in_(owners)))) if network_node else []
    if guests_host is not None:
        found += session.scalars(select(Port).where(Port.host_id == guests_host,
                                                    Port.device_owner.like("compute:%")))
    return found

