"""A container's network: its own namespace, one veth pair per NIC, and a DHCP client per NIC.

The namespace (``ctr-<uuid>``) is made by the driver, not by runc, so it outlives a stop of the
container as a QEMU guest's taps do: the host end of each pair is named as the NIC's tap
(``NIC.tap_name``) and stays in its bridge while the instance exists.  The network data plane plugs it
as it plugs a tap (into the port's bridge, with the port's MTU), so security groups, DHCP, routers,
floating IPs and the metadata route work unchanged.  The container end (``eth<n>``) has the port's MAC.

Addresses come from the cloud's DHCP server, as a VM's do: a busybox ``udhcpc`` per NIC runs on the
host inside the namespace (so any image gets its address, whether or not it has a DHCP client), set
apart with ``setsid -f`` so it outlives onestack, found again by its pidfile.  It writes the lease's
DNS servers to the instance's ``resolv.conf``, which the container sees as ``/etc/resolv.conf``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from onestack.drivers import pidfiles
from onestack.drivers.compute import NIC, DriverError
from onestack.drivers.netns.ip import NetnsError, query, run

NETNS_DIR = Path("/run/netns")
BUSYBOX = "/bin/busybox"
# udhcpc calls this with the lease in its environment; it runs inside the namespace.
DHCP_SCRIPT = """#!/bin/sh
case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    # option 121 first: Neutron hands out the metadata service's route this way
    set -- $staticroutes
    while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
    for gw in $router; do ip route replace default via "$gw" dev "$interface" && break; done
    # written in place: the container sees this very file (a bind mount), a new one it would not
    if [ -n "$dns" ] && [ -n "$RESOLV_CONF" ]; then
        { [ -n "$domain" ] && echo "search $domain"; for s in $dns; do echo "nameserver $s"; done; } \\
            > "$RESOLV_CONF"
    fi
    ;;
esac
exit 0
"""


def netns_name(uuid: str) -> str:
    return f"ctr-{uuid}"


def netns_path(uuid: str) -> str:
    return str(NETNS_DIR / netns_name(uuid))


def _ip(*args: str, netns: str | None = None) -> None:
    try:
        run(*args, netns=netns)
    except NetnsError as exc:
        raise DriverError(str(exc)) from exc


def ensure_namespace(uuid: str) -> None:
    name = netns_name(uuid)
    if not (NETNS_DIR / name).exists():
        _ip("netns", "add", name)
    _ip("link", "set", "dev", "lo", "up", netns=name)


def remove_namespace(uuid: str) -> None:
    run("netns", "del", netns_name(uuid), check=False)  # its ends of the pairs go with it


def _inside(uuid: str) -> dict[str, dict]:
    """The namespace's links by name."""
    try:
        return {item["ifname"]: item for item in query("link", "show", netns=netns_name(uuid))}
    except NetnsError:
        return {}


def _host_end(nic: NIC) -> dict | None:
    try:
        found = query("-d", "link", "show", "dev", nic.tap_name)
    except NetnsError:
        return None
    return found[0] if found else None


def ensure_nic(uuid: str, nic: NIC) -> str:
    """The NIC's pair, made if missing (a tap of that name, left from another driver, is replaced);
    returns the container end's name."""
    if len(nic.tap_name) > 15:
        raise DriverError(f"interface name {nic.tap_name!r} is longer than the kernel's 15 characters")
    ns = netns_name(uuid)
    inside = _inside(uuid)
    by_mac = {item.get("address", "").lower(): name for name, item in inside.items()}
    host = _host_end(nic)
    paired = host is not None and (host.get("linkinfo") or {}).get("info_kind") == "veth" \
        and nic.mac_address.lower() in by_mac
    if not paired:
        if host is not None:
            _ip("link", "del", "dev", nic.tap_name)
        inner = next(f"eth{n}" for n in range(len(inside) + 1) if f"eth{n}" not in inside)
        _ip("link", "add", nic.tap_name, "type", "veth", "peer", "name", inner, "netns", ns)
        _ip("link", "set", "dev", inner, "address", nic.mac_address, "mtu", str(nic.mtu), "up", netns=ns)
    else:
        inner = by_mac[nic.mac_address.lower()]
    _ip("link", "set", "dev", nic.tap_name, "mtu", str(nic.mtu), "up")
    return inner


def remove_nic(nic: NIC) -> None:
    if os.path.exists(f"/sys/class/net/{nic.tap_name}"):
        run("link", "del", "dev", nic.tap_name, check=False)


def _dhcp_pidfile(folder: Path, nic: NIC) -> Path:
    return folder / f"dhcp-{nic.tap_name}.pid"


def start_dhcp(uuid: str, nic: NIC, inner: str, hostname: str, folder: Path, resolv_conf: Path) -> None:
    """A DHCP client for the NIC, unless one runs."""
    pidfile = _dhcp_pidfile(folder, nic)
    if pidfiles.running(pidfile, str(pidfile)):
        return
    script = folder / "udhcpc.script"
    if not script.exists():
        script.write_text(DHCP_SCRIPT)
        script.chmod(0o755)
    argv = ["setsid", "-f", "nsenter", f"--net={netns_path(uuid)}", BUSYBOX, "udhcpc", "-f", "-i", inner,
            "-s", str(script), "-p", str(pidfile), "-x", f"hostname:{hostname}", "-O", "staticroutes",
            "-O", "mtu", "-T", "1", "-A", "2"]
    with open(folder / "dhcp.log", "ab") as log:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                              env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                                   "RESOLV_CONF": str(resolv_conf)})
    if done.returncode != 0:
        raise DriverError(f"cannot start a DHCP client for {nic.tap_name}")


def stop_dhcp(nic: NIC, folder: Path) -> None:
    pidfile = _dhcp_pidfile(folder, nic)
    pid = pidfiles.running(pidfile, str(pidfile))
    if pid is not None:
        pidfiles.stop(pid, 2.0)
    pidfile.unlink(missing_ok=True)
