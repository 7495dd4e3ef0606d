"""Starting, finding and stopping the QEMU process of an instance, without being its parent.

QEMU is started with ``-daemonize``: it forks, detaches into its own session and the process we
started exits once the guest is set up (its exit status says whether that worked).  The guest's
QEMU is then nobody's child here, so it outlives the onestack process, and a later driver finds
it again from the pidfile.  A pid is trusted only if that process's command line carries the
instance's uuid: after a reboot of the host the number may belong to anything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from onestack.drivers.compute import DriverError
from onestack.drivers.qemu.layout import InstanceDir


def running_pid(where: InstanceDir, uuid: str) -> int | None:
    try:
        pid = int(where.pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if uuid.encode() not in cmdline:
        return None
    try:  # a zombie has no command line, but be sure the process is not on its way out
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    return None if state in ("Z", "X") else pid


def start(argv: list[str], where: InstanceDir, timeout: float = 60.0) -> None:
    where.pidfile.unlink(missing_ok=True)
    with open(where.qemu_log, "ab") as log:
        try:
            launcher = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                      start_new_session=True, timeout=timeout)
        except FileNotFoundError as exc:
            raise DriverError(f"{argv[0]} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise DriverError(f"QEMU did not start within {timeout:.0f}s") from exc
    if launcher.returncode != 0:
        tail = where.qemu_log.read_text(errors="replace").strip().splitlines()[-3:]
        raise DriverError(f"QEMU failed to start: {' / '.join(tail) or launcher.returncode}")


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def kill(pid: int) -> None:
    """SIGKILL and wait: for when QMP cannot be reached or ``quit`` was not obeyed."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_gone(pid, 10.0)
