"""The ``runc`` command line, with the driver's own state root so a driver sees only its containers.

``runc run --detach`` starts the container and returns: the container's init is then nobody's child
here, outlives onestack, and ``runc state <id>`` finds it again from the state root (runc checks the
pid's start time, so a stale state after a host reboot reads as stopped).  The container's stdout and
stderr are the file runc was started with: the console log, appended across boots.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from onestack.drivers.compute import DriverError

RUNC = "runc"


def installed() -> bool:
    return shutil.which(RUNC) is not None


class Runc:
    def __init__(self, root: Path):
        self.root = root
        self.log = root / "runc.log"  # runc's own messages (why a start failed)

    def _argv(self, *args: str) -> list[str]:
        return [RUNC, "--root", str(self.root), "--log", str(self.log), "--log-format", "json", *args]

    def _call(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(self._argv(*args), capture_output=True, text=True, timeout=60)
        except FileNotFoundError as exc:
            raise DriverError("runc is not installed (make install installs it)") from exc
        if check and done.returncode != 0:
            raise DriverError(f"runc {args[0]} failed: {done.stderr.strip()[-300:]}")
        return done

    def state(self, container_id: str) -> dict | None:
        """runc's state of the container (``status``: created, running, paused, stopped); None if none."""
        if not (self.root / container_id / "state.json").exists():
            return None
        done = self._call("state", container_id, check=False)
        if done.returncode != 0:
            return None
        return json.loads(done.stdout)

    def status(self, container_id: str) -> str | None:
        state = self.state(container_id)
        return state["status"] if state else None

    def run(self, container_id: str, bundle: Path, console_log: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(console_log, "ab") as log:
            try:
                done = subprocess.run(self._argv("run", "--detach", "--bundle", str(bundle), container_id),
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                      timeout=60)
            except FileNotFoundError as exc:
                raise DriverError("runc is not installed (make install installs it)") from exc
        if done.returncode != 0:
            raise DriverError(f"the container did not start: {self._last_error()}")

    def _last_error(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "runc gave no reason"
        for line in reversed(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                return line[-300:]
            if entry.get("level") in ("error", "fatal"):
                return str(entry.get("msg"))[-300:]
        return "runc gave no reason"

    def kill(self, container_id: str, signal: str) -> None:
        self._call("kill", container_id, signal, check=False)  # a container already stopped refuses

    def delete(self, container_id: str) -> None:
        """Remove the stopped container (its cgroups and runc's state); ``--force`` kills it if it runs."""
        done = self._call("delete", "--force", container_id, check=False)
        if done.returncode != 0 and self.state(container_id) is not None:
            raise DriverError(f"runc delete failed: {done.stderr.strip()[-300:]}")

    def pause(self, container_id: str) -> None:
        self._call("pause", container_id)

    def resume(self, container_id: str) -> None:
        self._call("resume", container_id)

    def update(self, container_id: str, resources_file: Path) -> None:
        self._call("update", "--resources", str(resources_file), container_id)
