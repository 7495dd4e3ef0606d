"""A second real QEMU host for Tempest's moves (``make conformance AREA=migration-qemu``).

The cloud runs on a scratch PostgreSQL database (joined hosts need one), its own host ``controller`` a
QEMU host and the network node; ``host-b`` is ``onestack compute join`` in a network namespace of this
machine, on an underlay bridge with the controller's tunnel address: guests' memory, disks and VXLAN
travel between the two addresses as between two machines.  Everything made here goes at ``close``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_SOCKET_DIR = "/var/run/postgresql"  # namespaces share the filesystem, not loopback
CONTROLLER, JOINED = "controller", "host-b"


def _sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of the benchmarking range (RFC 2544) that no address or route of this machine overlaps."""
    used = []
    for cmd in (["ip", "-j", "-4", "route", "show", "table", "all"], ["ip", "-j", "-4", "addr", "show"]):
        for item in json.loads(_sh(*cmd).stdout or "[]"):
            if item.get("dst") not in (None, "default", "broadcast"):
                used.append(ipaddress.ip_network(item["dst"], strict=False))
            used += [ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False)
                     for a in item.get("addr_info", [])]
    for candidate in ipaddress.ip_network("198.19.0.0/16").subnets(new_prefix=24):
        if not any(candidate.overlaps(u) for u in used):
            return candidate
    raise RuntimeError("no free /24 in 198.19.0.0/16 for the underlay")


class JoinedHost:
    """The database, the underlay and ``host-b``; ``settings`` and ``database_url`` are the controller's."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        tag = uuid.uuid4().hex[:6]
        self.bridge, self.netns, self.outer = f"ostmu{tag}", f"ostmig-{tag}", f"ostmh{tag}"
        self.database = f"onestack_conformance_{tag}"
        self.process: subprocess.Popen | None = None
        self.server = _sh(str(ROOT / "scripts" / "postgres-up.sh"), "--url").stdout.strip()
        subprocess.run([str(ROOT / "scripts" / "postgres-up.sh")], check=True)
        with create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        self.database_url = f"{self.server}/{self.database}"
        controller, self.tunnel_ip = (str(a) for a in list(_free_subnet().hosts())[:2])
        _sh("ip", "link", "add", self.bridge, "type", "bridge")
        _sh("ip", "addr", "add", f"{controller}/24", "dev", self.bridge)
        _sh("ip", "link", "set", self.bridge, "up")
        _sh("ip", "netns", "add", self.netns)
        _sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        _sh("ip", "link", "set", self.outer, "master", self.bridge, "up")
        _sh("ip", "-n", self.netns, "addr", "add", f"{self.tunnel_ip}/24", "dev", "eth0")
        _sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        _sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        self.settings = {"compute": {"host": CONTROLLER}, "network": {"tunnel_ip": controller}}

    def start(self, image_dir: Path) -> None:
        """``compute join`` in the namespace, with the controller's images (the hosts share them)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)  # a previous run's
        self.data_dir.mkdir(parents=True)
        (self.data_dir / "onestack.yaml").write_text(yaml.safe_dump({"network": {"dataplane": True}}))
        credentials, name = self.database_url.split("@", 1)[0], self.database
        log = open(self.data_dir / "join.log", "w")  # noqa: SIM115 (the process writes it until close)
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-m", "onestack", "compute", "join",
             "--database", f"{credentials}@/{name}?host={PG_SOCKET_DIR}", "--data-dir", str(self.data_dir),
             "--host", JOINED, "--tunnel-ip", self.tunnel_ip, "--compute-driver", "qemu",
             "--image-dir", str(image_dir)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})

    def wait_up(self, compute: httpx.Client, seconds: float = 120) -> None:
        """Both hosts' compute services up (Tempest counts them with ``min_compute_nodes``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            states = {s["host"]: s["state"] for s in compute.get("/compute/v2.1/os-services").json()["services"]}
            if states.get(CONTROLLER) == states.get(JOINED) == "up":
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(1)
        log = (self.data_dir / "join.log").read_text()[-3000:] if (self.data_dir / "join.log").exists() else ""
        raise RuntimeError(f"{JOINED} did not come up beside {CONTROLLER}:\n{log}")

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.data_dir.exists():  # a guest Tempest left behind must not outlive its host
            subprocess.run([str(ROOT / ".venv" / "bin" / "onestack"), "down", "--purge", "--data-dir",
                            str(self.data_dir)], capture_output=True, timeout=120)
        _sh("ip", "netns", "del", self.netns, check=False)
        _sh("ip", "link", "del", self.outer, check=False)
        _sh("ip", "link", "del", self.bridge, check=False)
        engine = create_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        for _ in range(10):  # an autovacuum worker may hold it a moment
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
                break
            except Exception:  # noqa: BLE001 (tried again, then left for the operator)
                time.sleep(1)
        engine.dispose()
