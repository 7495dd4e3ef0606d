"""A throwaway one-node Ceph cluster for the tests that need one, made by the project's own
``scripts/ceph-up.sh`` and removed by ``scripts/ceph-down.sh``: one per test session (the tests that use it
share an xdist group, so one worker starts it, about 20 s).  Skipped, with the reason, only where Ceph cannot
run: its packages are missing (``make ceph-packages``) or the process is not root."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("ceph-mon", "ceph-osd", "ceph-mgr", "ceph", "rbd", "rados", "monmaptool", "ceph-authtool")


@dataclasses.dataclass(frozen=True)
class CephCluster:
    directory: Path
    conf: str
    client: str
    keyring: str
    up_seconds: float

    def rbd(self, *args: str) -> str:
        """The rbd tool's output, as the cluster's onestack client."""
        done = subprocess.run(["rbd", "-c", self.conf, "--id", self.client, *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def images(self, pool: str) -> set[str]:
        return set(self.rbd("ls", pool).split())

    def stop_osd(self) -> None:
        """Stop the OSD (SIGTERM, waited for): the monitors answer, no data can be read or written."""
        pid = int((self.directory / "run" / "osd.0.pid").read_text())
        os.kill(pid, 15)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        subprocess.run(["ceph", "-c", self.conf, "osd", "down", "0"], capture_output=True, timeout=30)

    def start_osd(self) -> None:
        """Start the OSD again and wait for HEALTH_OK."""
        subprocess.run(["ceph-osd", "-c", self.conf, "-i", "0"], check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            health = subprocess.run(["ceph", "-c", self.conf, "health"], capture_output=True, text=True,
                                    timeout=30).stdout.strip()
            if health == "HEALTH_OK":
                return
            time.sleep(0.5)
        raise AssertionError(f"no HEALTH_OK after the OSD restarted: {health}")

    def settings(self) -> dict:
        """onestack.yaml's ``ceph`` section for this cluster."""
        return {"conf": self.conf, "client": self.client, "keyring": self.keyring}


def why_not() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"Ceph is not installed ({', '.join(missing)} missing): make ceph-packages"
    if os.geteuid() != 0:
        return "a throwaway Ceph cluster's daemons are started as root here"
    return None


@pytest.fixture(scope="session")
def ceph_cluster():
    reason = why_not()
    if reason:
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="onestack-ceph-"))
    up = subprocess.run([str(ROOT / "scripts/ceph-up.sh"), str(directory / "cluster")], capture_output=True,
                        text=True, timeout=180)
    if up.returncode != 0:
        subprocess.run([str(ROOT / "scripts/ceph-down.sh"), str(directory / "cluster")], timeout=60)
        shutil.rmtree(directory, ignore_errors=True)
        raise AssertionError(f"scripts/ceph-up.sh failed: {up.stderr[-2000:]}")
    found = dict(line.split("=", 1) for line in up.stdout.splitlines() if "=" in line)
    yield CephCluster(directory / "cluster", found["CEPH_CONF"], found["CEPH_ID"], found["CEPH_KEYRING"],
                      float(found["CEPH_UP_SECONDS"]))
    subprocess.run([str(ROOT / "scripts/ceph-down.sh"), str(directory / "cluster")], timeout=60)
    shutil.rmtree(directory, ignore_errors=True)
