"""Block Storage: volume create to ``available``, blank and from images of 64 MiB, 1 GiB and 10 GiB virtual
size (each holding the same 16 MiB of data; the first volume of an image downloads and converts it, the
others are overlays on the cached file, so their p50 should not grow with the image), and backup and
restore throughput of a volume full of incompressible data, into the store on disk and into Object
Storage.  Quotas are lifted for the admin project so only speed limits it."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.targets import Onestack, password_body

VOLUME = {"OpenStack-API-Version": "volume 3.67", "Content-Type": "application/json"}
MiB = 1024**2


class Client:
    def __init__(self, target: Onestack):
        req = urllib.request.Request(f"{target.identity}/auth/tokens", method="POST",
                                     data=password_body("admin", target.admin_password(), "admin"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = resp.headers["X-Subject-Token"]
            self.project = json.loads(resp.read())["token"]["project"]["id"]
        self.base = target.base
        self.volumes = target.data_dir / "volumes"

    def call(self, method: str, path: str, body=None, headers: dict | None = None, data: bytes | None = None):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     data=data if data is not None else (json.dumps(body).encode() if body else None),
                                     headers={"X-Auth-Token": self.token, **VOLUME, **(headers or {})})
        with urllib.request.urlopen(req, timeout=600) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def cinder(self, method: str, path: str, body=None):
        return self.call(method, f"/volume/v3/{self.project}{path}", body)

    def until(self, path: str, key: str, status: str, every: float = 0.01) -> None:
        while (found := self.cinder("GET", path)[key])["status"] != status:
            if found["status"].startswith("error"):
                raise RuntimeError(f"{path} went to {found['status']}")
            time.sleep(every)

    def create(self, **asked) -> tuple[str, float]:
        """A volume made to available: (its id, seconds from the POST)."""
        started = time.perf_counter()
        made = self.cinder("POST", "/volumes", {"volume": asked})["volume"]
        self.until(f"/volumes/{made['id']}", "volume", "available")
        return made["id"], time.perf_counter() - started


def _stats(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"count": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)}


def _image(api: Client, scratch: Path, virtual: str) -> str:
    """An active qcow2 image of ``virtual`` size holding 16 MiB of data."""
    path = scratch / f"image-{virtual}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), virtual], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 16M", str(path)], check=True,
                   capture_output=True)
    image = api.call("POST", "/image/v2/images", {"name": f"bench-{virtual}", "disk_format": "qcow2",
                                                  "container_format": "bare"})
    api.call("PUT", f"/image/v2/images/{image['id']}/file", data=path.read_bytes(),
             headers={"Content-Type": "application/octet-stream"})
    return image["id"]


def _fill(api: Client, volume_id: str, scratch: Path, size: int) -> None:
    """``size`` bytes of random data at the start of the volume."""
    noise = scratch / "noise"
    with open(noise, "wb") as out:
        for _ in range(size // (16 * MiB)):
            out.write(os.urandom(16 * MiB))
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -s {noise} 0 {size}",
                    str(api.volumes / f"volume-{volume_id}.qcow2")], check=True, capture_output=True)
    noise.unlink()


def _backups(api: Client, scratch: Path, data: int) -> dict:
    """Full backup, incremental after 64 MiB changed, restore to a new volume: MiB/s of the volume's data."""
    volume, _ = api.create(size=1)
    _fill(api, volume, scratch, data)
    result = {"data_mib": data // MiB}
    started = time.perf_counter()
    full = api.cinder("POST", "/backups", {"backup": {"volume_id": volume}})["backup"]["id"]
    api.until(f"/backups/{full}", "backup", "available", every=0.05)
    seconds = time.perf_counter() - started
    result["backup_mib_per_s"] = round(data / MiB / seconds, 1)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64M",
                    str(api.volumes / f"volume-{volume}.qcow2")], check=True, capture_output=True)
    started = time.perf_counter()
    incremental = api.cinder("POST", "/backups", {"backup": {"volume_id": volume,
                                                             "incremental": True}})["backup"]["id"]
    api.until(f"/backups/{incremental}", "backup", "available", every=0.05)
    result["incremental_64mib_changed_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    restored = api.cinder("POST", f"/backups/{incremental}/restore", {"restore": {}})["restore"]["volume_id"]
    api.until(f"/volumes/{restored}", "volume", "available", every=0.05)
    result["restore_mib_per_s"] = round(data / MiB / (time.perf_counter() - started), 1)
    return result


def _unlimited(api: Client) -> None:
    api.cinder("PUT", f"/os-quota-sets/{api.project}", {"quota_set": {
        "volumes": -1, "gigabytes": -1, "backups": -1, "backup_gigabytes": -1}})


def measure(quick: bool) -> dict:
    count = 10 if quick else 40
    data = (256 if quick else 1024) * MiB
    result: dict = {}
    target = Onestack({"compute": {"driver": "fake"}}, name="onestack-volume")
    target.start()
    try:
        api = Client(target)
        _unlimited(api)
        with tempfile.TemporaryDirectory(dir=target.data_dir) as scratch:
            result["create_blank"] = _stats([api.create(size=1)[1] for _ in range(count)])
            for virtual, size in (("64M", 1), ("1G", 1), ("10G", 10)):
                image = _image(api, Path(scratch), virtual)
                first = api.create(size=size, imageRef=image)[1]
                result[f"create_from_image_{virtual}"] = {
                    "first_ms": round(first * 1000, 1),
                    **_stats([api.create(size=size, imageRef=image)[1] for _ in range(count)])}
            result["backup_posix"] = _backups(api, Path(scratch), data)
    finally:
        target.stop()
    target = Onestack({"compute": {"driver": "fake"}, "volume": {"backup_driver": "swift"}},
                      name="onestack-volume-swift")
    target.start()
    try:
        api = Client(target)
        _unlimited(api)
        with tempfile.TemporaryDirectory(dir=target.data_dir) as scratch:
            result["backup_swift"] = _backups(api, Path(scratch), data)
    finally:
        target.stop()
    return result


def table(found: dict) -> str:
    lines = [f"{'volume create to available':34}{'p50 ms':>10}{'p99 ms':>10}{'first ms':>10}"]
    for key, row in found.items():
        if key.startswith("create"):
            lines.append(f"{key.replace('_', ' '):34}{row['p50_ms']:>10}{row['p99_ms']:>10}"
                         f"{row.get('first_ms', ''):>10}")
    lines.append(f"{'backups':34}{'MiB':>10}{'backup MiB/s':>14}{'restore MiB/s':>15}{'incr. s':>9}")
    for key in ("backup_posix", "backup_swift"):
        row = found[key]
        lines.append(f"{key.replace('_', ' '):34}{row['data_mib']:>10}{row['backup_mib_per_s']:>14}"
                     f"{row['restore_mib_per_s']:>15}{row['incremental_64mib_changed_s']:>9}")
    return "\n".join(lines)
