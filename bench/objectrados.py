"""Object Storage on RADOS: onestack with ``ceph.object_store`` on, onestack on files, and Ceph's own radosgw
(Debian's package, its Swift API, one process on loopback) on the same throwaway one-node cluster
(scripts/ceph-up.sh), measured one after the other for each figure so that the machine's other load weighs
on all three alike: 4 KiB PUTs (each a new object) and GETs with 8 clients (wrk), and a 256 MiB object PUT
and GET by one client (MiB/s).  Skipped (with the reason) where Ceph cannot run; radosgw alone is left out
(with the reason) when it cannot be installed or started."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import object as object_bench
from bench.ceph import _up
from bench.targets import ROOT, Onestack, free_port, rss_mb, wait_for


class RadosGateway:
    """radosgw as client.rgw.bench on the cluster in ``found``, its Swift API on 127.0.0.1, with a user
    ``bench`` whose Swift subuser's key gets a token from ``/auth/1.0``."""

    name = "radosgw"

    def __init__(self, found: dict, directory: Path):
        self.conf, self.directory = found["CEPH_CONF"], directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def _ceph(self, tool: str, *args: str) -> str:
        return subprocess.run([tool, "-c", self.conf, *args], check=True, capture_output=True, text=True,
                              timeout=120).stdout

    def start(self) -> None:
        keyring = self.directory / "rgw.keyring"
        self._ceph("ceph", "auth", "get-or-create", "client.rgw.bench", "mon", "allow rw", "osd", "allow rwx",
                   "-o", str(keyring))
        (self.directory / "rgw").mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            ["radosgw", "-f", "-c", self.conf, "-n", "client.rgw.bench", "--keyring", str(keyring),
             "--rgw-frontends", f"beast endpoint=127.0.0.1:{self.port}", "--rgw-data", str(self.directory / "rgw"),
             "--log-file", str(self.directory / "rgw.log"), "--admin-socket", str(self.directory / "rgw.asok")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"http://127.0.0.1:{self.port}/", 120)  # it makes its pools first

    def session(self) -> tuple[str, str]:
        """(token, the account's URL path)."""
        self._ceph("radosgw-admin", "user", "create", "--uid=bench", "--display-name=bench")
        made = json.loads(self._ceph("radosgw-admin", "subuser", "create", "--uid=bench", "--subuser=bench:swift",
                                     "--access=full", "--key-type=swift", "--gen-secret"))
        secret = made["swift_keys"][0]["secret_key"]
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/auth/1.0",
                                     headers={"X-Auth-User": "bench:swift", "X-Auth-Key": secret})
        with urllib.request.urlopen(req, timeout=30) as resp:
            storage = resp.headers["X-Storage-Url"]
            return resp.headers["X-Auth-Token"], "/" + storage.split("/", 3)[3]

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def _gateway(found: dict, directory: Path) -> tuple[RadosGateway | None, str | None]:
    """radosgw started, or why not."""
    done = subprocess.run([str(ROOT / "scripts/install-system.sh"), "radosgw"], capture_output=True, text=True)
    if done.returncode != 0 or not shutil.which("radosgw"):
        return None, f"radosgw could not be installed: {done.stderr.strip()[-200:]}"
    gateway = RadosGateway(found, directory)
    try:
        gateway.start()
    except (subprocess.CalledProcessError, RuntimeError, TimeoutError, OSError) as exc:
        gateway.stop()
        return None, f"radosgw did not start: {exc}"
    return gateway, None


def measure(quick: bool) -> dict:
    if not shutil.which("ceph-osd"):
        return {"skipped": "Ceph is not installed (make ceph-packages)"}
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="onestack-bench-rados-") as work:
        cluster_dir = Path(work) / "cluster"
        started: list = []
        try:
            found, seconds = _up(cluster_dir)
            result["cluster_up_s"] = round(seconds, 1)
            ceph = {"conf": found["CEPH_CONF"], "client": found["CEPH_ID"], "keyring": found["CEPH_KEYRING"]}
            rados = Onestack({"ceph": {**ceph, "object_store": True}}, name="onestack-rados")
            files = Onestack({"ceph": ceph}, name="onestack-files")
            for target in (rados, files):
                target.start()
                started.append(target)
            sides = {"rados": (rados.port, *object_bench._session(rados)),
                     "files": (files.port, *object_bench._session(files))}
            gateway, why = _gateway(found, Path(work))
            if gateway is not None:
                started.append(gateway)
                sides["radosgw"] = (gateway.port, *gateway.session())
            else:
                result["radosgw_skipped"] = why
            result.update(_measure(sides, quick))
            for name, target in (("rados", rados), ("files", files), ("radosgw", gateway)):
                if target is not None:
                    result[name]["rss_mb_after"] = rss_mb(target.pids())
        finally:
            for target in started:
                target.stop()
            subprocess.run([str(ROOT / "scripts/ceph-down.sh"), str(cluster_dir)], check=False)
    return result


def _measure(sides: dict, quick: bool) -> dict:
    found: dict = {name: {} for name in sides}
    seconds = 5 if quick else 15
    small = "x" * object_bench.SMALL
    for port, token, account in sides.values():
        object_bench._call(port, "PUT", f"{account}/bench", token)
    for name, (port, token, account) in sides.items():
        found[name]["put_4k"] = object_bench._wrk(
            f"http://127.0.0.1:{port}{account}/bench", token, "PUT",
            f'"{account}/bench/new-" .. math.random(1, 2000000000)', small, seconds)
    for name, (port, token, account) in sides.items():
        for i in range(300):
            object_bench._call(port, "PUT", f"{account}/bench/get-{i}", token, small.encode())
        found[name]["get_4k"] = object_bench._wrk(
            f"http://127.0.0.1:{port}{account}/bench", token, "GET", f'"{account}/bench/get-" .. math.random(0, 299)',
            "", seconds)
    for name, (port, token, account) in sides.items():
        found[name]["large"] = object_bench._large(port, token, f"{account}/bench", 1 if quick else 3)
    return found


def table(r: dict) -> str:
    if "skipped" in r:
        return f"\nobject storage on RADOS: skipped ({r['skipped']})"
    names = [n for n in ("rados", "files", "radosgw") if n in r]
    lines = [f"\nObject Storage on RADOS (one-node cluster up in {r['cluster_up_s']} s)",
             f"{'':30}" + "".join(f"{'onestack ' + n if n != 'radosgw' else n:>18}" for n in names)]
    rows = (("4 KiB PUT ops/s, 8 clients", "put_4k", "ops_per_second"),
            ("4 KiB PUT p50 ms", "put_4k", "p50_ms"),
            ("4 KiB GET ops/s, 8 clients", "get_4k", "ops_per_second"),
            ("4 KiB GET p50 ms", "get_4k", "p50_ms"),
            ("256 MiB PUT MiB/s", "large", "put_mib_per_second"),
            ("256 MiB GET MiB/s", "large", "get_mib_per_second"))
    for label, key, field in rows:
        lines.append(f"{label:30}" + "".join(f"{r[n][key][field]:>18}" for n in names))
    if "radosgw_skipped" in r:
        lines.append(f"radosgw: {r['radosgw_skipped']}")
    return "\n".join(lines)


if __name__ == "__main__":  # a trial outside make bench
    import sys
    started = time.perf_counter()
    figures = measure("--quick" in sys.argv)
    print(table(figures))
    print(json.dumps(figures, indent=1))
    print(f"{time.perf_counter() - started:.0f} s")
