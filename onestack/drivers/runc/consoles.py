"""Starting and stopping a container's console server (``console_server.py``), found again by its pidfile.

The driver binds the listening socket itself and hands it to the server, so a client may connect the
moment ``ensure`` returns.  The server is not a child to wait for: it runs in a session of its own and
outlives onestack, as the container does; a new driver finds it by its pidfile and its command line,
which carries the socket's path (stopping looks for every process with that command line, so a server
whose starter was killed before it wrote the pidfile goes too).
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import subprocess
import sys
import threading
from pathlib import Path

from onestack.drivers import pidfiles
from onestack.drivers.compute import DriverError
from onestack.drivers.runc import runtime
from onestack.drivers.runc.runtime import Runc

SERVER = Path(__file__).with_name("console_server.py")


@contextlib.contextmanager
def _locked(pidfile: Path):
    """One process at a time starts or stops an instance's console server (API workers may ask at once)."""
    with open(pidfile.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure(path: Path, pidfile: Path, runc: Runc, container_id: str, log: Path) -> Path:
    """The console's socket, its server started unless one runs."""
    with _locked(pidfile):
        if pidfiles.running(pidfile, str(path)) is not None and path.exists():
            return path
        _stop(path, pidfile)
        return _start(path, pidfile, runc, container_id, log)


def _start(path: Path, pidfile: Path, runc: Runc, container_id: str, log: Path) -> Path:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        path.chmod(0o600)  # root's, as QEMU's serial socket: only the proxy connects
        listener.listen(8)
        with open(log, "ab") as out:
            server = subprocess.Popen(
                [sys.executable, "-I", str(SERVER), str(path), str(listener.fileno()), runtime.RUNC, str(runc.root),
                 container_id],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                pass_fds=(listener.fileno(),))
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise DriverError(f"cannot start the container's console: {exc}") from exc
    finally:
        listener.close()
    threading.Thread(target=server.wait, daemon=True).start()  # reaped while this process lives
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(f"{server.pid}\n")
    tmp.replace(pidfile)
    return path


def stop(path: Path, pidfile: Path) -> None:
    if not pidfile.parent.is_dir():
        return
    with _locked(pidfile):
        _stop(path, pidfile)


def _stop(path: Path, pidfile: Path) -> None:
    """Every server of this console, also one started by a process killed before it wrote the pidfile."""
    for pid in _servers(path):
        pidfiles.stop(pid, 2.0)
    pidfile.unlink(missing_ok=True)
    path.unlink(missing_ok=True)


def _servers(path: Path) -> list[int]:
    """The console servers serving ``path``, found by their command lines."""
    wanted = (str(SERVER).encode(), str(path).encode())
    return pidfiles.processes(lambda argv: all(w in argv for w in wanted))
