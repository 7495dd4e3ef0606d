"""Which compute driver ``driver: auto`` means on this machine, and why (standard library only, so
``onestack up`` can say it before the serving process starts)."""

from __future__ import annotations

import os
import shutil


def choose(wanted: str) -> tuple[str, str]:
    if wanted != "auto":
        return wanted, f"asked for ({wanted})"
    if shutil.which("qemu-system-x86_64") is None:
        return "fake", "qemu-system-x86_64 is not installed"
    if os.geteuid() != 0:
        return "fake", "guests' tap devices need root (CAP_NET_ADMIN)"
    return "qemu", "QEMU is installed and tap devices can be made"


def containers(wanted, kind: str) -> tuple[bool, str]:
    """Whether hosts with the ``kind`` driver also run container instances (``compute.containers``): the
    fake driver runs them in memory as it runs VMs; a QEMU host under runc, which needs root."""
    if wanted is True or wanted is False:
        return wanted, f"asked for ({'on' if wanted else 'off'})"
    if kind == "fake":
        return True, "the fake driver runs containers in memory"
    if shutil.which("runc") is None:
        return False, "runc is not installed"
    if os.geteuid() != 0:
        return False, "containers' namespaces, veths and cgroups need root"
    return True, "runc is installed and this process runs as root"
