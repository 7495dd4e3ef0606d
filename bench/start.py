"""How quickly a cloud starts and how much memory it holds once every service and the dashboard have served.

Each run makes a new data dir (onestack.yaml as a newcomer gets it, less the network data plane, which the
benches leave off: its bridges would meet other clouds' on this host) and times ``onestack up --detach``
until the API answers: the first start, which makes the database; then ``down`` and ``up`` again on the
initialised data dir.  After the second start: the serving process's memory idle, then again after every
service's API has answered a token-bearing call and the dashboard has signed in and shown its pages (VmRSS,
and PSS from /proc/<pid>/smaps_rollup, which splits shared pages between the processes that map them).

``python bench/start.py`` prints the figures of the onestack its interpreter imports: run it with another
checkout's ``.venv/bin/python`` for that checkout's (``make bench`` runs it as the ``start`` part).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

# every service's root as the catalog names it, and one call that reads through its service layer
SERVICE_CALLS = ("/identity/v3/projects", "/compute/v2.1/servers", "/compute/v2.1/flavors",
                 "/placement/resource_providers", "/network/v2.0/networks", "/image/v2/images",
                 "/volume/v3/{project}/volumes", "/object-store/v1/AUTH_{project}",
                 "/orchestration/v1/{project}/stacks")
DASHBOARD_PAGES = ("/dashboard/", "/dashboard/instances", "/dashboard/images", "/dashboard/volumes",
                   "/dashboard/networks", "/dashboard/stacks", "/dashboard/containers")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cloud:
    def __init__(self, python: str, data_dir: Path):
        self.python, self.data_dir, self.port = python, data_dir, _free_port()

    def _onestack(self, *args: str) -> None:
        # from / so that ``-m onestack`` is the interpreter's installed onestack, not a checkout in the cwd
        subprocess.run([self.python, "-m", "onestack", *args, "--data-dir", str(self.data_dir)], check=True,
                       capture_output=True, cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                         "HOME": str(self.data_dir.parent)})

    def up(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds) until the API answers; the CPU time, of the CLI and of the serving
        process it started, is the figure a busy machine does not stretch."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        self._onestack("up", "--detach", "--bind", f"127.0.0.1:{self.port}", "--no-user-clouds")
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime + server

    def down(self, purge: bool = False) -> None:
        self._onestack("down", *(["--purge"] if purge else []))

    @property
    def pid(self) -> int:
        return int((self.data_dir / "onestack.pid").read_text())

    def memory_mb(self) -> dict:
        status = Path(f"/proc/{self.pid}/status").read_text()
        rollup = Path(f"/proc/{self.pid}/smaps_rollup").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status)[1])
        pss = int(re.search(r"Pss:\s+(\d+)", rollup)[1])
        return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1)}

    def use_everything(self) -> None:
        """A call of every service's API, then the dashboard signed in and its pages shown."""
        base = f"http://127.0.0.1:{self.port}"
        password = (self.data_dir / "openrc-admin").read_text().split("OS_PASSWORD=")[1].split()[0].strip("'\"")
        body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}).encode()
        req = urllib.request.Request(f"{base}/identity/v3/auth/tokens", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            token = resp.headers["X-Subject-Token"]
            project = json.load(resp)["token"]["project"]["id"]
        for path in SERVICE_CALLS:
            req = urllib.request.Request(base + path.format(project=project), headers={"X-Auth-Token": token})
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(f"{base}/dashboard/login", timeout=30) as resp:
            nonce = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode())[1]
        form = urllib.parse.urlencode({"csrf_token": nonce, "username": "admin", "password": password,
                                       "domain": "Default"}).encode()
        req = urllib.request.Request(f"{base}/dashboard/login", data=form, headers={"Origin": base})
        with browser.open(req, timeout=30) as resp:
            resp.read()
        for page in DASHBOARD_PAGES:
            with browser.open(base + page, timeout=30) as resp:
                resp.read()


def measure(quick: bool = False, python: str = sys.executable) -> dict:
    runs = 3 if quick else 5
    first, again, idle, used = [], [], [], []  # (wall, cpu) pairs; memory dicts
    work = Path(tempfile.mkdtemp(prefix="onestack-bench-start-"))
    try:
        for run in range(runs):
            data_dir = work / f"cloud-{run}"
            data_dir.mkdir()
            (data_dir / "onestack.yaml").write_text("network:\n  dataplane: false\n")
            cloud = _Cloud(python, data_dir)
            try:
                first.append(cloud.up())
                cloud.down()
                again.append(cloud.up())
                time.sleep(2)  # idle: the start's threads settled
                idle.append(cloud.memory_mb())
                cloud.use_everything()
                time.sleep(2)
                used.append(cloud.memory_mb())
            finally:
                cloud.down(purge=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(samples: list[dict], key: str) -> float:
        return round(statistics.median(s[key] for s in samples), 1)

    def seconds(samples: list[tuple[float, float]], which: int) -> float:
        return round(statistics.median(s[which] for s in samples), 2)

    return {"runs": runs, "first_start_s": seconds(first, 0), "first_start_cpu_s": seconds(first, 1),
            "first_start_samples_s": [round(s[0], 2) for s in first],
            "restart_s": seconds(again, 0), "restart_cpu_s": seconds(again, 1),
            "restart_samples_s": [round(s[0], 2) for s in again],
            "idle_rss_mb": median(idle, "rss_mb"), "idle_pss_mb": median(idle, "pss_mb"),
            "loaded_rss_mb": median(used, "rss_mb"), "loaded_pss_mb": median(used, "pss_mb")}


def table(found: dict) -> str:
    return "\n".join([
        f"{'start (median of ' + str(found['runs']) + ')':34}{'seconds':>10}{'CPU s':>10}",
        f"{'up on a new data dir':34}{found['first_start_s']:>10}{found['first_start_cpu_s']:>10}",
        f"{'up on an initialised data dir':34}{found['restart_s']:>10}{found['restart_cpu_s']:>10}",
        f"{'serving process memory':34}{'RSS MB':>10}{'PSS MB':>10}",
        f"{'idle after start':34}{found['idle_rss_mb']:>10}{found['idle_pss_mb']:>10}",
        f"{'every service and dashboard used':34}{found['loaded_rss_mb']:>10}{found['loaded_pss_mb']:>10}",
    ])


if __name__ == "__main__":
    result = measure("--quick" in sys.argv)
    print(table(result))
    print(json.dumps(result))
