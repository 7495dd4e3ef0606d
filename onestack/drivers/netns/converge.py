"""Make one host's kernel match a ``HostPlan``, and remove what this cloud made that no longer belongs.

Order matters only for creation (bridges before what plugs into them, namespaces before their
veths); removal works on whatever is left, so a crash anywhere is repaired by the next pass.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
from pathlib import Path

from onestack.drivers.netns import dnsmasq, links, metadata_proxy, namespaces, nat, radvd
from onestack.drivers.netns.ip import NetnsError, mark
from onestack.drivers.netns.plan import Dhcp, HostPlan, Router, Segment

LOG = logging.getLogger("onestack.netns")


def dhcp_folder(state: Path, network_id: str) -> Path:
    return state / "dhcp" / network_id


def radvd_folder(state: Path, router_id: str) -> Path:
    return state / "radvd" / router_id


class ConvergeErrors(NetnsError):
    """Some objects could not be converged; the others were (the reconciler retries the pass).
    ``wired``: the ports that are wired all the same."""

    def __init__(self, message: str, wired: set[str]):
        super().__init__(message)
        self.wired = wired


def converge(plan: HostPlan, state: Path) -> set[str]:
    """Apply ``plan``; returns the ids of the ports that are wired (their device exists, in its bridge).
    One object that fails does not hold the others back: the failures are raised together at the end."""
    owner = plan.owner
    failed: list[str] = []

    def attempt(what: str, work) -> bool:
        try:
            work()
            return True
        except Exception as exc:  # noqa: BLE001 - collected, logged and raised together below
            LOG.warning("%s: %s", what, exc)
            failed.append(f"{what}: {exc}")
            return False

    root = links.snapshot()
    for segment in plan.segments:
        if not segment.skipped:
            attempt(f"network {segment.network_id}", lambda s=segment: _segment(root, s, owner))
    root = links.snapshot()
    wired = plug_taps(plan, root, attempt)  # first: guests wait for them, nothing waits for the rest
    existing = namespaces.names()
    for dhcp in plan.dhcp:
        if attempt(dhcp.namespace, lambda d=dhcp: _dhcp(root, d, plan, existing, state)):
            wired.add(dhcp.veth.port_id)
    for router in plan.routers:
        if attempt(router.namespace, lambda r=router: _router(root, r, owner, existing, state)):
            wired |= {v.port_id for v in (*router.interfaces, *([router.gateway] if router.gateway else []))}
    attempt("removing what no longer belongs", lambda: _remove_stale(plan, state, existing))
    if failed:
        raise ConvergeErrors("; ".join(failed), wired)
    return wired


def plug_taps(plan: HostPlan, root: dict[str, links.Link], attempt=None) -> set[str]:
    """Put the guests' taps that exist in their bridges; returns their ports.  On its own (``attempt``
    None) it is the quick pass for taps that just appeared, and raises the first failure."""
    plugged = set()
    for tap in plan.taps:
        work = functools.partial(links.plug, root, tap.name, tap.bridge, tap.mtu, plan.owner)
        done = work() if attempt is None else attempt(tap.name, work)
        if done and tap.name in root:
            plugged.add(tap.port_id)
    return plugged


def _segment(root: dict[str, links.Link], segment: Segment, owner: str) -> None:
    links.ensure_bridge(root, segment.bridge, segment.mtu, owner)
    if segment.vxlan is not None:
        vx = segment.vxlan
        links.ensure_vxlan(root, vx.name, vx.vni, vx.local, vx.port, segment.bridge, segment.mtu, owner)
        links.ensure_fdb_remotes(vx.name, vx.remotes)
    if segment.vlan is not None:
        vlan = segment.vlan
        links.ensure_vlan(root, vlan.name, vlan.parent, vlan.vlan_id, segment.bridge, segment.mtu, owner)
    if segment.uplink is not None:
        links.plug(root, segment.uplink, segment.bridge, None, None)
    if segment.host_addresses:
        links.ensure_addresses(None, segment.bridge, list(segment.host_addresses), exclusive=False)


def _dhcp(root: dict[str, links.Link], dhcp: Dhcp, plan: HostPlan, existing: set[str], state: Path) -> None:
    namespaces.ensure(dhcp.namespace, plan.owner, existing)
    _veth(root, dhcp.veth, dhcp.namespace, plan.owner)
    folder = dhcp_folder(state, dhcp.network_id)
    if dhcp.server is not None:
        dnsmasq.ensure(dhcp.server, folder)
    else:
        dnsmasq.stop(folder)
    if dhcp.metadata and plan.metadata_socket:
        metadata_proxy.ensure(dhcp.namespace, dhcp.network_id, Path(plan.metadata_socket), folder)
    else:
        metadata_proxy.stop(folder)


def _veth(root: dict[str, links.Link], veth, netns: str, owner: str) -> set[str]:
    links.ensure_veth(root, veth.outer, veth.inner, netns, veth.bridge, veth.mac, veth.mtu, owner)
    return links.ensure_addresses(netns, veth.inner, list(veth.addresses))


def _router(root: dict[str, links.Link], router: Router, owner: str, existing: set[str], state: Path) -> None:
    ns = router.namespace
    namespaces.ensure(ns, owner, existing, forwarding=True)
    # What goes, goes before the NAT table changes and what comes, comes after it: a floating address
    # is never on the gateway without its DNAT, when the router itself would answer for the guest.
    wanted = {v.inner for v in router.interfaces} | ({router.gateway.inner} if router.gateway else set())
    for name in links.snapshot(ns):
        if name.startswith(("qr-", "qg-")) and name not in wanted:
            links.remove(name, netns=ns)  # the pair's host end goes with it
        elif router.gateway is not None and name == router.gateway.inner:
            links.retire_addresses(ns, name, router.gateway.addresses)
    nat.ensure(router)
    for veth in router.interfaces:
        _veth(root, veth, ns, owner)
    if router.gateway is not None:
        added = _veth(root, router.gateway, ns, owner)
        floating = {f"{f.floating}/32" for f in (*router.floating_ips, *router.port_forwards)}
        for cidr in added & floating:
            _announce(ns, router.gateway.inner, cidr.split("/")[0])
    hops = [("0.0.0.0/0", router.default_route)] if router.default_route else []
    hops += [("::/0", router.default_route6)] if router.default_route6 else []
    links.ensure_routes(ns, hops + list(router.routes))
    if router.advertised:
        radvd.ensure(ns, router.advertised, radvd_folder(state, router.router_id))
    else:
        radvd.stop(radvd_folder(state, router.router_id))


def _announce(netns: str, device: str, address: str) -> None:
    """Gratuitous ARP, so the external network learns where a floating address now lives."""
    done = subprocess.run(["ip", "netns", "exec", netns, "busybox", "arping", "-U", "-c", "1", "-w", "1",
                           "-I", device, "-s", address, address], capture_output=True, text=True, timeout=10)
    if done.returncode not in (0, 1):
        LOG.warning("gratuitous ARP for %s in %s failed: %s", address, netns, done.stderr.strip())


def _remove_stale(plan: HostPlan, state: Path, existing: set[str]) -> None:
    wanted_ns = {d.namespace for d in plan.dhcp} | {r.namespace for r in plan.routers}
    for network_id in dnsmasq.served(state / "dhcp") - {d.network_id for d in plan.dhcp}:
        _stop_dhcp(dhcp_folder(state, network_id))
    for router_id in radvd.served(state / "radvd") - {r.router_id for r in plan.routers}:
        radvd.stop(radvd_folder(state, router_id))
    for ns in namespaces.owned(plan.owner, existing) - wanted_ns:
        LOG.info("removing namespace %s: nothing wants it", ns)
        namespaces.remove(ns)
    wanted_links = {s.bridge for s in plan.segments} | {s.vxlan.name for s in plan.segments if s.vxlan} \
        | {s.vlan.name for s in plan.segments if s.vlan} \
        | {d.veth.outer for d in plan.dhcp} | {t.name for t in plan.taps} \
        | {v.outer for r in plan.routers for v in (*r.interfaces, *([r.gateway] if r.gateway else []))}
    peers: dict[int, str] | None = None
    for name, link in links.owned(links.snapshot(), plan.owner).items():
        if name in wanted_links:
            continue
        if link.kind == "veth" and peers is None:
            peers = namespaces.by_id()
        if _a_guests(link, peers):
            links.unplug(link)  # a VM's tap or a container's veth is the compute driver's to delete
        else:
            LOG.info("removing %s %s: nothing wants it", link.kind or "link", name)
            links.remove(name)


def _a_guests(link: links.Link, peers: dict[int, str] | None) -> bool:
    """A VM's tap, or a container's veth: its other end in a namespace that is none of the data plane's
    (those of DHCP servers and routers, whose veths the data plane makes and deletes itself)."""
    if link.kind == "tun":
        return True
    peer = (peers or {}).get(link.peer_netnsid) if link.peer_netnsid is not None else None
    return link.kind == "veth" and peer is not None and not peer.startswith(namespaces.PREFIXES)


def taps_astray(plan: HostPlan, root: dict[str, links.Link], wired: set[str]) -> bool:
    """Whether a guest's tap is not as the last pass left it: there but not plugged and marked as
    wanted, or come or gone since (``wired``: the ports the last pass found wired)."""
    for tap in plan.taps:
        link = root.get(tap.name)
        if link is None:
            if tap.port_id in wired:
                return True
        elif (tap.port_id not in wired or link.master != tap.bridge or link.alias != mark(plan.owner)
              or link.mtu != tap.mtu or not link.up):
            return True
    return False


def broken(plan: HostPlan, state: Path, root: dict[str, links.Link]) -> bool:
    """A cheap check of what a full pass makes: the bridges, VXLAN and VLAN devices and veth host ends on the
    host, the namespaces, and the helper processes (dnsmasq, metadata proxies, radvd) alive."""
    devices = [s.bridge for s in plan.segments if not s.skipped]
    devices += [s.vxlan.name for s in plan.segments if s.vxlan and not s.skipped]
    devices += [s.vlan.name for s in plan.segments if s.vlan and not s.skipped]
    devices += [d.veth.outer for d in plan.dhcp]
    devices += [v.outer for r in plan.routers for v in (*r.interfaces, *([r.gateway] if r.gateway else []))]
    if any(name not in root for name in devices):
        return True
    spaces = [d.namespace for d in plan.dhcp] + [r.namespace for r in plan.routers]
    if not all(os.path.exists(f"/run/netns/{n}") for n in spaces):
        return True
    for dhcp in plan.dhcp:
        folder = dhcp_folder(state, dhcp.network_id)
        if dhcp.server is not None and dnsmasq.pid(folder, dhcp.namespace) is None:
            return True
        if dhcp.metadata and plan.metadata_socket and metadata_proxy.pid(folder, dhcp.namespace) is None:
            return True
    return any(r.advertised and radvd.pid(radvd_folder(state, r.router_id), r.namespace) is None
               for r in plan.routers)


def _stop_dhcp(folder: Path) -> None:
    metadata_proxy.stop(folder)
    dnsmasq.stop(folder)


def purge(owner: str, state: Path) -> None:
    """Remove every namespace, link, tap and dnsmasq this cloud made on this host."""
    for network_id in dnsmasq.served(state / "dhcp"):
        _stop_dhcp(dhcp_folder(state, network_id))
    for router_id in radvd.served(state / "radvd"):
        radvd.stop(radvd_folder(state, router_id))
    for ns in namespaces.owned(owner):
        namespaces.remove(ns)
    for name in links.owned(links.snapshot(), owner):
        links.remove(name)


def owned_objects(owner: str, state: Path) -> dict[str, set[str]]:
    """What this cloud holds on this host: for tests and diagnosis."""
    return {"namespaces": namespaces.owned(owner),
            "links": set(links.owned(links.snapshot(), owner)),
            "dnsmasq": {n for n in dnsmasq.served(state / "dhcp") if dnsmasq.pid(dhcp_folder(state, n))},
            "proxies": {n for n in dnsmasq.served(state / "dhcp") if metadata_proxy.pid(dhcp_folder(state, n))},
            "radvd": {r for r in radvd.served(state / "radvd") if radvd.pid(radvd_folder(state, r))}}

