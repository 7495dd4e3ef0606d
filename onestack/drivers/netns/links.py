"""Links (bridges, VXLAN devices, veth pairs, taps) and their addresses and routes, made idempotently.

Every ``ensure_*`` looks at what is there first and changes only what differs, so a link that is
already right keeps its index and its traffic.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import subprocess
import threading
from collections.abc import Callable

from onestack.drivers.netns.ip import NetnsError, mark, query, run


@dataclasses.dataclass(frozen=True)
class Link:
    index: int
    name: str
    kind: str  # "bridge", "vxlan", "veth", "tun", "" for a plain device
    master: str
    mtu: int
    up: bool
    alias: str
    mac: str
    peer_netnsid: int | None = None  # a veth's: the namespace of its other end, when not this one


def snapshot(netns: str | None = None) -> dict[str, Link]:
    """Every link of a namespace (the host's when None), by name."""
    found = {}
    for item in query("-d", "link", "show", netns=netns):
        kind = (item.get("linkinfo") or {}).get("info_kind", "")
        found[item["ifname"]] = Link(item["ifindex"], item["ifname"], kind, item.get("master", ""), item["mtu"],
                                     "UP" in item.get("flags", []), item.get("ifalias", ""), item.get("address", ""),
                                     item.get("link_netnsid"))
    return found


def exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def owned(links: dict[str, Link], owner: str) -> dict[str, Link]:
    return {name: link for name, link in links.items() if link.alias == mark(owner)}


def _settle(link: Link | None, name: str, owner: str | None, mtu: int | None, master: str | None,
            netns: str | None = None, mac: str | None = None) -> None:
    """Bring ``name`` to its mark, MTU, master and MAC, and up; only what differs is changed."""
    args: list[str] = []
    if owner is not None and (link is None or link.alias != mark(owner)):
        args += ["alias", mark(owner)]
    if mtu is not None and (link is None or link.mtu != mtu):
        args += ["mtu", str(mtu)]
    if mac is not None and (link is None or link.mac.lower() != mac.lower()):
        args += ["address", mac]
    if master is not None and (link is None or link.master != master):
        args += ["master", master] if master else ["nomaster"]
    if link is None or not link.up:
        args += ["up"]
    if args:
        run("link", "set", "dev", name, *args, netns=netns)


def ensure_bridge(links: dict[str, Link], name: str, mtu: int | None, owner: str) -> None:
    """A bridge; one that was already there and is not ours (an operator's ``br-ex``) is used as it is."""
    link = links.get(name)
    if link is not None and link.alias != mark(owner):
        if link.kind != "bridge":
            raise NetnsError(f"{name} exists and is not a bridge")
        _settle(link, name, None, None, None)
        return
    if link is None:
        run("link", "add", "name", name, "type", "bridge", "forward_delay", "0", "stp_state", "0")
    _settle(link, name, owner, mtu, None)


def ensure_vxlan(links: dict[str, Link], name: str, vni: int, local: str, port: int, bridge: str, mtu: int,
                 owner: str) -> None:
    link = links.get(name)
    if link is not None and link.alias != mark(owner):
        raise NetnsError(f"{name} exists and belongs to something else (another cloud with the same VNI?)")
    if link is None:
        local_args = ["local", local] if local else []
        run("link", "add", name, "type", "vxlan", "id", str(vni), *local_args, "dstport", str(port), "nolearning")
    _settle(link, name, owner, mtu, bridge)


def ensure_vlan(links: dict[str, Link], name: str, parent: str, vlan_id: int, bridge: str, mtu: int,
                owner: str) -> None:
    """An 802.1q device of ``parent`` tagging ``vlan_id``, in ``bridge`` (the VLAN network's own)."""
    link = links.get(name)
    if link is not None and link.alias != mark(owner):
        raise NetnsError(f"{name} exists and belongs to something else")
    if link is None:
        if parent not in links:
            raise NetnsError(f"{parent}, the interface of the VLAN network's physical network, does not exist")
        run("link", "add", "link", parent, "name", name, "type", "vlan", "id", str(vlan_id))
    _settle(link, name, owner, mtu, bridge)


def ensure_fdb_remotes(name: str, remotes: tuple[str, ...]) -> None:
    """Flooding entries toward the other hosts' tunnel addresses (head-end replication)."""
    current = {e.get("dst") for e in query("fdb", "show", "dev", name, tool="bridge") if e.get("mac") == "00:00:00:00:00:00"}
    for remote in remotes:
        if remote not in current:
            run("fdb", "append", "00:00:00:00:00:00", "dev", name, "dst", remote, tool="bridge")
    for stale in current - set(remotes) - {None}:
        run("fdb", "del", "00:00:00:00:00:00", "dev", name, "dst", stale, tool="bridge")


def plug(links: dict[str, Link], name: str, bridge: str, mtu: int | None, owner: str | None) -> bool:
    """Put an existing device (a guest's tap, an uplink) into ``bridge``; False when it is not there (yet).
    ``owner`` None leaves the device unmarked: it is not ours to delete (an operator's interface)."""
    link = links.get(name)
    if link is None:
        return False
    _settle(link, name, owner, mtu, bridge)
    return True


def unplug(link: Link) -> None:
    if link.master:
        run("link", "set", "dev", link.name, "nomaster", check=False)


def ensure_veth(links: dict[str, Link], outer: str, inner: str, netns: str, bridge: str, mac: str, mtu: int,
                owner: str) -> None:
    """A veth pair: ``outer`` in ``bridge`` on the host, ``inner`` (with the port's MAC) inside ``netns``."""
    inside = snapshot(netns)
    link = links.get(outer)
    if link is not None and inner not in inside:  # half a pair (a crash between the two steps): start again
        run("link", "del", "dev", outer)
        link = None
    if link is None:
        if inner in inside:
            run("link", "del", "dev", inner, netns=netns)
        run("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", netns)
        inside = snapshot(netns)
    _settle(link, outer, owner, mtu, bridge)
    _settle(inside.get(inner), inner, owner, mtu, None, netns=netns, mac=mac)


def remove(name: str, netns: str | None = None) -> None:
    run("link", "del", "dev", name, netns=netns, check=False)


def _addresses(netns: str | None, device: str) -> set[str]:
    """The IPv4/global IPv6 addresses on ``device`` (link-local ones are the kernel's)."""
    return {f"{info['local']}/{info['prefixlen']}" for item in query("addr", "show", "dev", device, netns=netns)
            for info in item.get("addr_info", []) if info.get("scope") != "link"}


def ensure_addresses(netns: str | None, device: str, cidrs: list[str], exclusive: bool = True) -> set[str]:
    """These addresses on ``device`` and, when ``exclusive``, no others; returns the addresses it added."""
    current = _addresses(netns, device)
    wanted = {str(ipaddress.ip_interface(c)) for c in cidrs}
    for cidr in wanted - current:
        run("addr", "add", cidr, "dev", device, netns=netns)
    for cidr in current - wanted if exclusive else ():
        run("addr", "del", cidr, "dev", device, netns=netns)
    return wanted - current


def retire_addresses(netns: str | None, device: str, cidrs: tuple[str, ...]) -> None:
    """Removes from ``device`` the addresses that are not among ``cidrs``, adding none."""
    for cidr in _addresses(netns, device) - {str(ipaddress.ip_interface(c)) for c in cidrs}:
        run("addr", "del", cidr, "dev", device, netns=netns)


def ensure_routes(netns: str, routes: list[tuple[str, str]]) -> None:
    """Exactly these ``(destination, nexthop)`` routes of ours (``proto static``) in ``netns``."""
    current = set()
    for family, default in (("-4", "0.0.0.0/0"), ("-6", "::/0")):
        for item in query(family, "route", "show", "proto", "static", netns=netns):
            dst = default if item["dst"] == "default" else str(ipaddress.ip_network(item["dst"], strict=False))
            current.add((dst, item.get("gateway", "")))
    wanted = {(str(ipaddress.ip_network(d, strict=False)), hop) for d, hop in routes}
    for dst, hop in current - wanted:
        run("route", "del", dst, "via", hop, "proto", "static", netns=netns, check=False)
    for dst, hop in sorted(wanted - current, key=lambda r: ipaddress.ip_network(r[0]).prefixlen):
        run("route", "replace", dst, "via", hop, "proto", "static", netns=netns)


class LinkWatcher:
    """Calls ``changed()`` whenever a host link appears, goes or changes (``ip monitor link``), so a
    guest's tap is plugged the moment the compute driver makes it, not at the next resync.  If this
    process dies, the monitor dies at its next event (its pipe is gone)."""

    def __init__(self, changed: Callable[[], None]):
        self._changed = changed
        self._proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(["ip", "-o", "monitor", "link"], stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, args=(self._proc,), name="dataplane-links", daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for _line in proc.stdout:
            self._changed()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=5)
            self._proc = None
