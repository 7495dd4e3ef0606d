"""Block Storage on Ceph RBD against the file backend, on a throwaway one-node cluster (scripts/ceph-up.sh):
the cluster's start-up to HEALTH_OK; volume create to ``available``, blank and from an image (a raw image the
image service keeps in the cluster, which RBD volumes clone; a qcow2 one, imported once into the volumes
pool and cloned after), on RBD and on files; a snapshot and a volume from it; sequential write and read
throughput of qemu-img through librbd against a qcow2 file; and backups of an RBD volume (export-diff
streams: full, incremental after 64 MiB changed, restore into a new RBD volume by import-diff) against the
chunked ones of a file volume, with the server's CPU seconds (its rbd and qemu-img children included) beside
the wall time.  Skipped (with the reason) where Ceph cannot run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.targets import ROOT, Onestack
from bench.volume import Client, _backups, _stats, _unlimited

MiB = 1024**2


def _up(directory: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    out = subprocess.run([str(ROOT / "scripts/ceph-up.sh"), str(directory)], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line), time.perf_counter() - started


def _image(api: Client, scratch: Path, disk_format: str) -> str:
    path = scratch / f"image.{disk_format}"
    subprocess.run(["qemu-img", "create", "-q", "-f", disk_format, str(path), "1G"], check=True)
    subprocess.run(["qemu-io", "-f", disk_format, "-c", "write -P 0x5a 0 16M", str(path)], check=True,
                   capture_output=True)
    image = api.call("POST", "/image/v2/images", {"name": f"bench-{disk_format}", "disk_format": disk_format,
                                                  "container_format": "bare"})
    api.call("PUT", f"/image/v2/images/{image['id']}/file", data=path.read_bytes(),
             headers={"Content-Type": "application/octet-stream"})
    return image["id"]


def _snapshot_clone(api: Client, volume_type: str) -> float:
    source, _ = api.create(size=1, volume_type=volume_type)
    started = time.perf_counter()
    snap = api.cinder("POST", "/snapshots", {"snapshot": {"volume_id": source}})["snapshot"]["id"]
    api.until(f"/snapshots/{snap}", "snapshot", "available")
    api.create(snapshot_id=snap)
    return time.perf_counter() - started


def _throughput(target: str, scratch: Path, size: int) -> dict:
    """MiB/s of qemu-img writing ``size`` random bytes into ``target`` and reading them back."""
    noise = scratch / "noise.raw"
    with open(noise, "wb") as out:
        out.write(subprocess.run(["head", "-c", str(size), "/dev/urandom"], capture_output=True).stdout)
    started = time.perf_counter()
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", target.split("|")[0], str(noise),
                    target.split("|")[1]], check=True)
    written = time.perf_counter() - started
    back = scratch / "back.raw"
    started = time.perf_counter()
    subprocess.run(["qemu-img", "convert", "-f", target.split("|")[0], "-O", "raw", target.split("|")[1],
                    str(back)], check=True)
    read = time.perf_counter() - started
    noise.unlink()
    back.unlink()
    return {"write_mib_per_s": round(size / MiB / written, 1), "read_mib_per_s": round(size / MiB / read, 1)}


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes and of the children they waited for (the rbd and qemu-img calls)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _rbd_backups(api: Client, target: Onestack, found: dict, scratch: Path, data: int) -> dict:
    """A full backup of ``data`` random bytes in an RBD volume, an incremental one after 64 MiB changed, and
    the incremental restored into a new RBD volume (3.47): wall and server CPU seconds of each."""
    volume, _ = api.create(size=1, volume_type="rbd")
    uri = f"rbd:volumes/volume-{volume}:id={found['CEPH_ID']}:conf={found['CEPH_CONF']}"
    noise = scratch / "backup-noise.raw"
    noise.write_bytes(os.urandom(data))
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(noise), uri], check=True)
    noise.unlink()
    result: dict = {"data_mib": data // MiB}

    def timed(name: str, start, path: str, key: str) -> str:
        cpu, started = _cpu_seconds(target.pids()), time.perf_counter()
        made = start()
        api.until(path.format(made), key, "available", every=0.05)
        result[f"{name}_s"] = round(time.perf_counter() - started, 2)
        result[f"{name}_cpu_s"] = round(_cpu_seconds(target.pids()) - cpu, 2)
        return made
    timed("full", lambda: api.cinder("POST", "/backups", {"backup": {"volume_id": volume}})["backup"]["id"],
                 "/backups/{}", "backup")
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x11 0 64M", uri], check=True, capture_output=True)
    incremental = timed("incremental_64mib_changed", lambda: api.cinder("POST", "/backups", {"backup": {
        "volume_id": volume, "incremental": True}})["backup"]["id"], "/backups/{}", "backup")
    timed("restore", lambda: api.cinder("POST", "/volumes", {"volume": {
        "backup_id": incremental, "volume_type": "rbd"}})["volume"]["id"], "/volumes/{}", "volume")
    result["full_mib_per_s"] = round(data / MiB / result["full_s"], 1)
    result["restore_mib_per_s"] = round(data / MiB / result["restore_s"], 1)
    return result


def measure(quick: bool) -> dict:
    if not shutil.which("ceph-osd"):
        return {"skipped": "Ceph is not installed (make ceph-packages)"}
    count = 5 if quick else 20
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="onestack-bench-ceph-") as work:
        cluster_dir = Path(work) / "cluster"
        try:
            found, seconds = _up(cluster_dir)
            result["cluster_up_s"] = round(seconds, 1)
            target = Onestack({"compute": {"driver": "fake"},
                               "ceph": {"conf": found["CEPH_CONF"], "client": found["CEPH_ID"],
                                        "keyring": found["CEPH_KEYRING"]}}, name="onestack-ceph")
            target.start()
            try:
                api = Client(target)
                _unlimited(api)
                api.cinder("POST", "/types", {"volume_type": {"name": "rbd", "extra_specs": {
                    "volume_backend_name": "ceph"}}})
                scratch = Path(work)
                raw, qcow2 = _image(api, scratch, "raw"), _image(api, scratch, "qcow2")
                for backend, kind in (("rbd", "rbd"), ("file", "__DEFAULT__")):
                    result[f"create_blank_{backend}"] = _stats([api.create(size=1, volume_type=kind)[1]
                                                                for _ in range(count)])
                    for name, image in (("raw", raw), ("qcow2", qcow2)):
                        first = api.create(size=1, volume_type=kind, imageRef=image)[1]
                        result[f"create_from_{name}_image_{backend}"] = {
                            "first_ms": round(first * 1000, 1),
                            **_stats([api.create(size=1, volume_type=kind, imageRef=image)[1]
                                      for _ in range(count)])}
                    result[f"snapshot_and_clone_{backend}_ms"] = round(_snapshot_clone(api, kind) * 1000, 1)
                size = (64 if quick else 256) * MiB
                volume, _ = api.create(size=1, volume_type="rbd")
                rbd = f"raw|rbd:volumes/volume-{volume}:id={found['CEPH_ID']}:conf={found['CEPH_CONF']}"
                result["qemu_img_rbd"] = _throughput(rbd, scratch, size)
                plain, _ = api.create(size=1)
                result["qemu_img_file"] = _throughput(f"qcow2|{api.volumes / f'volume-{plain}.qcow2'}", scratch,
                                                      size)
                result["data_mib"] = size // MiB
                result["backup_rbd"] = _rbd_backups(api, target, found, scratch, size)
                cpu = _cpu_seconds(target.pids())
                result["backup_file"] = _backups(api, scratch, size)
                result["backup_file"]["all_three_cpu_s"] = round(_cpu_seconds(target.pids()) - cpu, 2)
            finally:
                target.stop()
        finally:
            subprocess.run([str(ROOT / "scripts/ceph-down.sh"), str(cluster_dir)], check=False)
    return result


def table(r: dict) -> str:
    if "skipped" in r:
        return f"\nceph: skipped ({r['skipped']})"
    lines = [f"\nCeph RBD against files (one-node cluster up in {r['cluster_up_s']} s)",
             f"{'volume create to available':44} {'rbd p50 ms':>12} {'file p50 ms':>12}"]
    for key in ("create_blank", "create_from_raw_image", "create_from_qcow2_image"):
        lines.append(f"{key:44} {r[key + '_rbd']['p50_ms']:>12} {r[key + '_file']['p50_ms']:>12}")
        if "first_ms" in r[key + "_rbd"]:
            lines.append(f"{'  (first of the image)':44} {r[key + '_rbd']['first_ms']:>12} "
                         f"{r[key + '_file']['first_ms']:>12}")
    lines.append(f"{'snapshot, then a volume from it':44} {r['snapshot_and_clone_rbd_ms']:>12} "
                 f"{r['snapshot_and_clone_file_ms']:>12}")
    lines.append(f"qemu-img {r['data_mib']} MiB: rbd write {r['qemu_img_rbd']['write_mib_per_s']} MiB/s, read "
                 f"{r['qemu_img_rbd']['read_mib_per_s']} MiB/s; file write {r['qemu_img_file']['write_mib_per_s']}"
                 f" MiB/s, read {r['qemu_img_file']['read_mib_per_s']} MiB/s")
    if "backup_rbd" in r:
        b, f = r["backup_rbd"], r["backup_file"]
        lines.append(f"backups of {b['data_mib']} MiB: rbd (export-diff) full {b['full_mib_per_s']} MiB/s "
                     f"({b['full_cpu_s']} CPU s), incremental after 64 MiB changed {b['incremental_64mib_changed_s']}"
                     f" s ({b['incremental_64mib_changed_cpu_s']} CPU s), restore {b['restore_mib_per_s']} MiB/s "
                     f"({b['restore_cpu_s']} CPU s); file (chunks) full {f['backup_mib_per_s']} MiB/s, incremental "
                     f"{f['incremental_64mib_changed_s']} s, restore {f['restore_mib_per_s']} MiB/s "
                     f"({f['all_three_cpu_s']} CPU s for the three)")
    return "\n".join(lines)
