"""Processes a driver started but is not the parent of (QEMU with -daemonize, a container's DHCP client),
found again from their pidfiles.

A pid is trusted only if that process's command line carries a token of the instance's (its uuid, its
pidfile's path): after a reboot of the host the number may belong to anything.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie or a process on its way out does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def processes(matches: Callable[[list[bytes]], bool]) -> list[int]:
    """The pids whose command line (its arguments, as bytes) ``matches``: processes found without a pidfile."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if matches(argv):
            found.append(int(cmdline.parent.name))
    return found


def running(pidfile: Path, token: str) -> int | None:
    """The pid in ``pidfile`` if that process runs and its command line carries ``token``."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if token.encode() not in cmdline:
        return None
    return pid if alive(pid) else None


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def kill(pid: int) -> None:
    """SIGKILL and wait."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_gone(pid, 10.0)


def stop(pid: int, graceful_seconds: float) -> None:
    """SIGTERM, then SIGKILL once ``graceful_seconds`` have passed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_gone(pid, graceful_seconds):
        kill(pid)
