"""Process bookkeeping for a data dir: pid file, liveness, detaching, stopping.

Only the standard library here: `onestack up --detach`, `down` and `status`
import this module and nothing heavy, so they return quickly.
"""

from __future__ import annotations

import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PID_FILE = "onestack.pid"
LOG_FILE = "onestack.log"


def pid_path(data_dir: Path) -> Path:
    return data_dir / PID_FILE


def running_pid(data_dir: Path) -> int | None:
    """The pid of this data dir's server if that process is alive (a zombie is not)."""
    try:
        pid = int(pid_path(data_dir).read_text().strip())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    state = stat.rsplit(")", 1)[1].split()[0]
    return None if state in ("Z", "X") else pid


def answers(base_url: str, timeout: float = 1.0, cafile: Path | None = None) -> bool:
    """Whether the API answers; over HTTPS verified with ``cafile`` when given (an operator's certificate
    with no CA file named is only asked whether it answers: it may not name this host)."""
    try:
        context = None
        if base_url.startswith("https:"):
            context = ssl.create_default_context(cafile=str(cafile)) if cafile else ssl._create_unverified_context()  # noqa: S323
        with urllib.request.urlopen(f"{base_url}/identity/v3", timeout=timeout, context=context) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def detach(argv: list[str], data_dir: Path, base_url: str, wait: float = 30.0, cafile: Path | None = None) -> int:
    """Start ``python <argv>`` in a new session; return its pid once the API answers from it: the server
    writes the pid file only once it holds the port, so an answer before that may be another server's."""
    log = open(data_dir / LOG_FILE, "ab")
    proc = subprocess.Popen([sys.executable, *argv], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"onestack exited with {proc.returncode}; see {data_dir / LOG_FILE}")
        if running_pid(data_dir) == proc.pid and answers(base_url, timeout=0.5, cafile=cafile):
            return proc.pid
        time.sleep(0.02)
    proc.terminate()
    raise RuntimeError(f"onestack did not answer within {wait:.0f}s; see {data_dir / LOG_FILE}")


def stop(data_dir: Path, wait: float = 15.0) -> int | None:
    pid = running_pid(data_dir)
    if pid is None:
        pid_path(data_dir).unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if running_pid(data_dir) is None:
            return pid
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    pid_path(data_dir).unlink(missing_ok=True)
    return pid


def owns_data_dir(data_dir: Path) -> bool:
    """Whether the data dir's pid file still names this process.  It does not once the data dir was removed
    (and perhaps made again, for another server) while this one ran."""
    try:
        return int(pid_path(data_dir).read_text().strip()) == os.getpid()
    except (OSError, ValueError):
        return False


def stop_when_disowned(data_dir: Path, every: float = 1.0) -> None:
    """A daemon thread that stops this server (SIGTERM to itself, its ordinary stop) once its data dir is no
    longer its own.  A server left running on a removed data dir would otherwise act on the one made in its
    place: its hosts' sync destroys the new server's guests, which its own (deleted) database does not know."""
    def watch() -> None:
        while owns_data_dir(data_dir):
            time.sleep(every)
        logging.getLogger("onestack.daemon").error(
            "%s no longer names this process (%d): the data dir was removed or taken over; stopping",
            pid_path(data_dir), os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="data-dir-owner", daemon=True).start()
