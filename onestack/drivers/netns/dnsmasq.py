"""One dnsmasq per network, inside its ``qdhcp-`` namespace: static leases only.

IPv4 subnets get DHCPv4; IPv6 subnets get DHCPv6 as Neutron's DHCP agent gives it: ``dhcpv6-stateful``
ones (and those with no IPv6 mode) static leases of the ports' fixed addresses, ``dhcpv6-stateless``
ones options only (their addresses come from SLAAC).  Router advertisements are the router's (radvd).

Its files live in ``<base>/<network id>/``; the pidfile lets a restarted agent adopt the running
process.  Leases and options are re-read on SIGHUP; a change to the subnets themselves (the
``dhcp-range`` lines) needs a restart, as in Neutron's DHCP agent.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import signal
from pathlib import Path

from onestack.drivers.netns import daemons

LEASE_SECONDS = 86400


@dataclasses.dataclass(frozen=True)
class DhcpSubnet:
    cidr: str
    gateway: str | None
    dns_servers: tuple[str, ...] = ()
    host_routes: tuple[tuple[str, str], ...] = ()  # (destination, nexthop)
    mtu: int = 1500

    @property
    def version(self) -> int:
        return ipaddress.ip_network(self.cidr).version


@dataclasses.dataclass(frozen=True, order=True)
class DhcpHost:
    mac: str
    ip: str
    hostname: str


@dataclasses.dataclass(frozen=True)
class DhcpServer:
    network_id: str
    netns: str
    device: str
    subnets: tuple[DhcpSubnet, ...]
    hosts: tuple[DhcpHost, ...]
    domain: str = "openstacklocal"


def render(server: DhcpServer, folder: Path) -> dict[str, str]:
    """The three files dnsmasq reads: its configuration, the static leases and the per-subnet options."""
    conf = [f"interface={server.device}", "except-interface=lo", "bind-interfaces", "port=0", "no-resolv",
            "no-hosts", "leasefile-ro", "dhcp-authoritative", "user=root", "group=root",
            f"domain={server.domain}", f"pid-file={folder / 'pid'}", f"log-facility={folder / 'dnsmasq.log'}", f"dhcp-hostsfile={folder / 'hosts'}",
            f"dhcp-optsfile={folder / 'opts'}"]
    opts = []
    for number, subnet in enumerate(server.subnets):
        tag = f"subnet{number}"
        render_subnet = _v4_subnet if subnet.version == 4 else _v6_subnet
        conf.append(render_subnet(subnet, tag, opts))
    hosts = [_host_line(h, server.domain) for h in server.hosts]
    return {"dnsmasq.conf": "\n".join(conf) + "\n", "hosts": "\n".join(hosts) + "\n", "opts": "\n".join(opts) + "\n"}


def _v4_subnet(subnet: DhcpSubnet, tag: str, opts: list[str]) -> str:
    """The subnet's ``dhcp-range`` line; its options go to ``opts``."""
    net = ipaddress.ip_network(subnet.cidr)
    opts.append(f"tag:{tag},option:mtu,{subnet.mtu}")
    opts.append(f"tag:{tag},option:dns-server" + "".join(f",{d}" for d in subnet.dns_servers))
    routes = list(subnet.host_routes)
    if subnet.gateway:
        opts.append(f"tag:{tag},option:router,{subnet.gateway}")
        routes.append(("0.0.0.0/0", subnet.gateway))  # with option 121 present, clients ignore option 3
    else:
        opts.append(f"tag:{tag},option:router")
    if routes:
        opts.append(f"tag:{tag},option:classless-static-route," + ",".join(f"{d},{h}" for d, h in routes))
    return f"dhcp-range=set:{tag},{net.network_address},static,{net.netmask},{LEASE_SECONDS}s"


def _v6_subnet(subnet: DhcpSubnet, tag: str, opts: list[str]) -> str:
    """DHCPv6 carries no router, MTU or routes (the router's advertisements do): only DNS servers.  The
    range is ``static`` in both modes: a stateless subnet's hosts simply have no address to be given."""
    net = ipaddress.ip_network(subnet.cidr)
    opts.append(f"tag:{tag},option6:dns-server" + "".join(f",[{d}]" for d in subnet.dns_servers))
    return f"dhcp-range=set:{tag},{net.network_address},static,{net.prefixlen},{LEASE_SECONDS}s"


def _host_line(host: DhcpHost, domain: str) -> str:
    address = f"[{host.ip}]" if ipaddress.ip_address(host.ip).version == 6 else host.ip
    return f"{host.mac},{host.hostname}.{domain},{address}"


def pid(folder: Path, netns: str | None = None) -> int | None:
    """The dnsmasq serving ``folder`` (and, when given, living in ``netns``), if it runs."""
    return daemons.running(folder / "pid", str(folder / "dnsmasq.conf"), netns)


def ensure(server: DhcpServer, folder: Path) -> int:
    """dnsmasq serving exactly ``server``; returns its pid."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = {name: daemons.write_if_changed(folder / name, text) for name, text in render(server, folder).items()}
    running = pid(folder, server.netns)
    if running is not None and not changed["dnsmasq.conf"]:
        if changed["hosts"] or changed["opts"]:
            os.kill(running, signal.SIGHUP)
        return running
    stop(folder, keep_files=True)
    return daemons.launch(server.netns, ["dnsmasq", f"--conf-file={folder / 'dnsmasq.conf'}"], folder / "pid",
                          str(folder / "dnsmasq.conf"), f"dnsmasq for {server.network_id}")


def stop(folder: Path, keep_files: bool = False) -> None:
    daemons.retire(folder, folder / "pid", str(folder / "dnsmasq.conf"), keep_files)


def served(base: Path) -> set[str]:
    """The networks that have a dnsmasq folder under ``base``."""
    return daemons.folders(base)
