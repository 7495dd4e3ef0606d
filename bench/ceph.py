"""Block Storage on Ceph RBD against the file backend, on a throwaway one-node cluster (scripts/ceph-up.sh):
the cluster's start-up to HEALTH_OK; volume create to ``available``, blank and from an image (a raw image the
image service keeps in the cluster, which RBD volumes clone; a qcow2 one, imported once into the volumes
pool and cloned after), on RBD and on files; a snapshot and a volume from it; and sequential write and read
throughput of qemu-img through librbd against a qcow2 file.  Skipped (with the reason) where Ceph cannot
run."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.targets import ROOT, Onestack
from bench.volume import Client, _stats, _unlimited

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
    return "\n".join(lines)
