"""Router advertisements from a ``qrouter-`` namespace: one radvd per router, as Neutron's L3 agent runs it.

Each router interface on an IPv6 subnet whose ``ipv6_ra_mode`` is set advertises the subnet's prefix,
the router as default router (its link-local address) and the link's MTU.  The flags tell guests where
their addresses and options come from: ``slaac`` autonomous addressing only, ``dhcpv6-stateless``
autonomous addressing and DHCPv6 for options (O), ``dhcpv6-stateful`` DHCPv6 for the address (M, not
autonomous).  Its files live in ``<base>/<router id>/``; SIGHUP makes radvd re-read its configuration.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
from pathlib import Path

from onestack.drivers.netns import daemons
from onestack.drivers.netns.ip import NetnsError

# Neutron's defaults (min_rtr_adv_interval, max_rtr_adv_interval); a guest coming up solicits an
# advertisement, which radvd answers at once, so these only pace the unsolicited ones.
MIN_INTERVAL, MAX_INTERVAL = 30, 100
MODES = ("slaac", "dhcpv6-stateless", "dhcpv6-stateful")


@dataclasses.dataclass(frozen=True)
class Prefix:
    cidr: str
    mode: str  # one of MODES: the subnet's ipv6_ra_mode


@dataclasses.dataclass(frozen=True)
class Advertised:
    """One router interface (``qr-`` device) and what it advertises."""

    device: str
    mtu: int
    prefixes: tuple[Prefix, ...]
    dns_servers: tuple[str, ...] = ()


def _flag(on: bool) -> str:
    return "on" if on else "off"


def render(interfaces: tuple[Advertised, ...]) -> str:
    """radvd's configuration for a router's advertising interfaces."""
    out = []
    for iface in interfaces:
        modes = {p.mode for p in iface.prefixes}
        out += [f"interface {iface.device}", "{", "    AdvSendAdvert on;",
                f"    MinRtrAdvInterval {MIN_INTERVAL};", f"    MaxRtrAdvInterval {MAX_INTERVAL};",
                f"    AdvLinkMTU {iface.mtu};",
                f"    AdvManagedFlag {_flag('dhcpv6-stateful' in modes)};",
                f"    AdvOtherConfigFlag {_flag('dhcpv6-stateless' in modes)};"]
        for prefix in iface.prefixes:
            out += [f"    prefix {prefix.cidr}", "    {", "        AdvOnLink on;",
                    f"        AdvAutonomous {_flag(prefix.mode != 'dhcpv6-stateful')};", "    };"]
        if iface.dns_servers:
            out += [f"    RDNSS {' '.join(iface.dns_servers)}", "    {", "    };"]
        out += ["};"]
    return "\n".join(out) + "\n"


def pid(folder: Path, netns: str | None = None) -> int | None:
    return daemons.running(folder / "pid", str(folder / "radvd.conf"), netns)


def ensure(netns: str, interfaces: tuple[Advertised, ...], folder: Path) -> int:
    """radvd in ``netns`` advertising exactly ``interfaces``; returns its pid."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "radvd.conf"
    changed = daemons.write_if_changed(conf, render(interfaces))
    running = pid(folder, netns)
    if running is not None:
        if changed:
            os.kill(running, signal.SIGHUP)
        return running
    stop(folder, keep_files=True)
    if shutil.which("radvd") is None:
        raise NetnsError("radvd is not installed: IPv6 subnets with an RA mode get no router advertisements")
    return daemons.launch(netns, ["radvd", "-C", str(conf), "-p", str(folder / "pid"), "-m", "logfile", "-l",
                                  str(folder / "radvd.log")], folder / "pid", str(conf),
                          f"radvd in {netns} (see {folder / 'radvd.log'})")


def stop(folder: Path, keep_files: bool = False) -> None:
    daemons.retire(folder, folder / "pid", str(folder / "radvd.conf"), keep_files)


def served(base: Path) -> set[str]:
    """The routers that have a radvd folder under ``base``."""
    return daemons.folders(base)
