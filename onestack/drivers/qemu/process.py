"""Starting, finding and stopping the QEMU process of an instance, without being its parent.

QEMU is started with ``-daemonize``: it forks, detaches into its own session and the process we
started exits once the guest is set up (its exit status says whether that worked).  The guest's
QEMU is then nobody's child here, so it outlives the onestack process, and a later driver finds
it again from the pidfile.  A pid is trusted only if that process's command line carries the
instance's uuid (``onestack.drivers.pidfiles``).
"""

from __future__ import annotations

import subprocess

from onestack.drivers import pidfiles
from onestack.drivers.compute import DriverError
from onestack.drivers.qemu.layout import InstanceDir


def running_pid(where: InstanceDir, uuid: str) -> int | None:
    return pidfiles.running(where.pidfile, uuid)


def start(argv: list[str], where: InstanceDir, timeout: float = 60.0, pass_fds: tuple[int, ...] = ()) -> None:
    """``pass_fds``: descriptors QEMU inherits (the pipes its secret objects read)."""
    where.pidfile.unlink(missing_ok=True)
    with open(where.qemu_log, "ab") as log:
        try:
            launcher = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                      start_new_session=True, timeout=timeout, pass_fds=pass_fds)
        except FileNotFoundError as exc:
            raise DriverError(f"{argv[0]} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise DriverError(f"QEMU did not start within {timeout:.0f}s") from exc
    if launcher.returncode != 0:
        tail = where.qemu_log.read_text(errors="replace").strip().splitlines()[-3:]
        raise DriverError(f"QEMU failed to start: {' / '.join(tail) or launcher.returncode}")

