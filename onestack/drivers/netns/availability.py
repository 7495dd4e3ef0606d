"""Whether this machine can run the network data plane, and why not (``network.dataplane: auto``)."""

from __future__ import annotations

import os
import shutil

TOOLS = ("ip", "bridge", "dnsmasq", "haproxy", "nft", "busybox")


def choose(wanted) -> tuple[bool, str]:
    if wanted is True or wanted is False:
        return wanted, f"asked for ({'on' if wanted else 'off'})"
    if os.geteuid() != 0:
        return False, "namespaces, bridges and dnsmasq need root (CAP_NET_ADMIN)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return False, f"missing {', '.join(missing)}"
    return True, "running as root with iproute2, dnsmasq, haproxy and nftables"


def vlan() -> bool:
    """802.1q: ``/proc/net/vlan`` exists once the module is in the kernel (this machine loads none)."""
    return os.path.isdir("/proc/net/vlan")
