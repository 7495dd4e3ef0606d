"""Long-running helpers inside a namespace (dnsmasq, the metadata proxy), found again by their pidfile.

A pid is only believed when that process's command line names ``marker`` (a path of this cloud's
data dir) and, when asked, it lives in the namespace it serves: a namespace deleted and made again
leaves the old process serving nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from onestack.drivers.netns.ip import NetnsError


def write_if_changed(path: Path, text: str) -> bool:
    """Replace ``path`` atomically with ``text``; False (nothing written) when it already says that."""
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def folders(base: Path) -> set[str]:
    """The names of the folders under ``base`` (one per network or router a helper serves)."""
    return {p.name for p in base.iterdir() if p.is_dir()} if base.exists() else set()


def running(pidfile: Path, marker: str, netns: str | None = None) -> int | None:
    try:
        found = int(pidfile.read_text().strip())
        if marker.encode() not in Path(f"/proc/{found}/cmdline").read_bytes():
            return None
        if netns is not None and os.stat(f"/proc/{found}/ns/net").st_ino != os.stat(f"/run/netns/{netns}").st_ino:
            return None
        return found
    except (OSError, ValueError):
        return None


def started(pidfile: Path, marker: str, netns: str, seconds: float = 5.0) -> int | None:
    """The pid once the process has written its pidfile, or None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = running(pidfile, marker, netns)
        if pid is not None:
            return pid
        time.sleep(0.05)
    return None


def stop(pidfile: Path, marker: str) -> None:
    pid = running(pidfile, marker)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if running(pidfile, marker) is None:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def launch(netns: str, argv: list[str], pidfile: Path, marker: str, what: str) -> int:
    """Start a helper that forks into the background and writes ``pidfile``; its pid once it has."""
    done = subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise NetnsError(f"{what}: {(done.stderr or done.stdout).strip()}")
    pid = started(pidfile, marker, netns)
    if pid is None:
        raise NetnsError(f"{what} did not write its pidfile")
    return pid


def retire(folder: Path, pidfile: Path, marker: str, keep_files: bool) -> None:
    """Stop the helper of ``folder`` and, unless ``keep_files``, remove the folder."""
    stop(pidfile, marker)
    if not keep_files:
        shutil.rmtree(folder, ignore_errors=True)
