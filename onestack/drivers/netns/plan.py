"""What one host's kernel should hold: the data plane's desired state, free of any database type.

The network service computes a ``HostPlan`` from its tables; ``converge`` makes the kernel match it.
"""

from __future__ import annotations

import dataclasses

from onestack.drivers.netns.dnsmasq import DhcpServer
from onestack.drivers.netns.radvd import Advertised

METADATA_ADDRESS = "169.254.169.254"


@dataclasses.dataclass(frozen=True)
class Vxlan:
    name: str  # "vxlan-<vni>"
    vni: int
    local: str  # this host's tunnel address ("" lets the kernel choose)
    port: int
    remotes: tuple[str, ...] = ()  # the other hosts' tunnel addresses


@dataclasses.dataclass(frozen=True)
class Vlan:
    name: str  # "<interface>.<vlan id>", as Neutron's Linux bridge agent names it
    parent: str  # the host interface (or bridge) the physical network is mapped to
    vlan_id: int


@dataclasses.dataclass(frozen=True)
class Segment:
    """One network's layer 2 on this host: its bridge and what carries it off the host."""

    network_id: str
    bridge: str
    mtu: int
    vxlan: Vxlan | None = None
    vlan: Vlan | None = None
    uplink: str | None = None  # a host interface enslaved to the bridge (a flat network mapped to an interface)
    host_addresses: tuple[str, ...] = ()  # the host's own addresses on the bridge (DevStack's br-ex gateway)
    skipped: str = ""  # why this host cannot carry the network (e.g. no 802.1q in the kernel)


@dataclasses.dataclass(frozen=True)
class Veth:
    """A port of a namespace: ``outer`` in the network's bridge, ``inner`` in the namespace."""

    port_id: str
    outer: str
    inner: str
    bridge: str
    mac: str
    mtu: int
    addresses: tuple[str, ...]  # CIDRs on ``inner``


@dataclasses.dataclass(frozen=True)
class Dhcp:
    network_id: str
    namespace: str
    veth: Veth
    server: DhcpServer | None  # None: the network has no DHCP-enabled IPv4 subnet
    metadata: bool = False


@dataclasses.dataclass(frozen=True, order=True)
class FloatingIP:
    floating: str
    fixed: str


@dataclasses.dataclass(frozen=True, order=True)
class PortForward:
    """Neutron's floating IP port forwarding: ``floating``:``external_port`` to ``internal``:``internal_port``."""

    floating: str
    protocol: str
    external_port: int
    internal: str
    internal_port: int


@dataclasses.dataclass(frozen=True)
class Router:
    router_id: str
    namespace: str
    interfaces: tuple[Veth, ...]  # qr- devices
    gateway: Veth | None = None  # the qg- device
    default_route: str | None = None
    routes: tuple[tuple[str, str], ...] = ()  # extra routes, IPv4 and IPv6
    snat: bool = True
    floating_ips: tuple[FloatingIP, ...] = ()
    port_forwards: tuple[PortForward, ...] = ()
    default_route6: str | None = None  # IPv6 is routed, never translated: no NAT for it
    advertised: tuple[Advertised, ...] = ()  # the qr- devices sending router advertisements


@dataclasses.dataclass(frozen=True)
class Tap:
    """A guest's tap (made by the compute driver), to be put in its network's bridge."""

    port_id: str
    name: str
    bridge: str
    mtu: int


@dataclasses.dataclass(frozen=True)
class HostPlan:
    owner: str
    metadata_socket: str = ""  # the cloud's metadata server, where each network's proxy sends guests' requests
    segments: tuple[Segment, ...] = ()
    dhcp: tuple[Dhcp, ...] = ()
    routers: tuple[Router, ...] = ()
    taps: tuple[Tap, ...] = ()
