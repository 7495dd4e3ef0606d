"""Running the cloud: foreground serving, detaching, pid file, stopping."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvicorn

from onestack import bootstrap
from onestack.app import build
from onestack.config import Settings
from onestack.db.migrate import upgrade
from onestack.runtime import Runtime

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


def answers(settings: Settings, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{settings.base_url}/identity/v3", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def prepare(settings: Settings, *, user_clouds: bool) -> Runtime:
    """Migrate, seed and write client files; the returned runtime is ready to serve."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    runtime = Runtime(settings)
    upgrade(runtime.db)
    found = bootstrap.seed(runtime)
    bootstrap.write_client_files(settings, found, bootstrap.user_clouds_path() if user_clouds else None)
    return runtime


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)


def serve(settings: Settings, runtime: Runtime) -> None:
    pid_path(settings.data_dir).write_text(str(os.getpid()))
    try:
        config = uvicorn.Config(build(runtime), host=settings.host, port=settings.port, log_config=None,
                                access_log=False, loop="auto", http="auto", lifespan="off",
                                server_header=False, timeout_keep_alive=30)
        uvicorn.Server(config).run()
    finally:
        runtime.close()
        if running_pid(settings.data_dir) in (os.getpid(), None):
            pid_path(settings.data_dir).unlink(missing_ok=True)


def detach(argv: list[str], settings: Settings, wait: float = 30.0) -> int:
    """Start ``onestack up`` without --detach in a new session; return its pid once the API answers."""
    log = open(settings.data_dir / LOG_FILE, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "onestack", *argv], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"onestack exited with {proc.returncode}; see {settings.data_dir / LOG_FILE}")
        if answers(settings, timeout=0.5):
            return proc.pid
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError(f"onestack did not answer within {wait:.0f}s; see {settings.data_dir / LOG_FILE}")


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
