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
