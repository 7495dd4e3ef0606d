"""Tap devices for the guest's NICs, created persistent so QEMU needs no privileges to open them
and the network data plane can plug them into bridges before or after the guest starts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from onestack.drivers.compute import NIC, DriverError


def exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


def ensure(nic: NIC) -> None:
    if len(nic.tap_name) > 15:
        raise DriverError(f"tap name {nic.tap_name!r} is longer than the kernel's 15 characters")
    if not exists(nic.tap_name):
        made = _ip("tuntap", "add", "dev", nic.tap_name, "mode", "tap")
        if made.returncode != 0 and not exists(nic.tap_name):
            raise DriverError(f"cannot create tap {nic.tap_name}: {made.stderr.strip()}")
    up = _ip("link", "set", "dev", nic.tap_name, "mtu", str(nic.mtu), "up")
    if up.returncode != 0:
        raise DriverError(f"cannot bring tap {nic.tap_name} up: {up.stderr.strip()}")


def remove(name: str) -> None:
    if exists(name):
        _ip("link", "del", "dev", name)
