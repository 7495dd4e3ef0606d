"""Block Storage seen from inside a real guest: onestack-tiny on a cloud with the QEMU driver, driven through
its serial console (the remote-consoles websocket, as the tests and a user at the console do).

- attach: ``POST /servers/{id}/os-volume_attachments`` → the disk in the guest's /sys/block, watched by a
  loop the guest's shell runs before the POST (so no console round trip is in the figure); detach
  (``DELETE``) → the disk gone from the guest, and → the volume ``available`` again; median of the rounds.
- guest I/O: ``dd`` inside the guest, 1 MiB blocks with O_DIRECT (and ``conv=fsync`` on writes), sequential
  write then read of the same bytes, on a qcow2 volume (the file backend) attached through the API and on a
  raw file of the same size hot-plugged into the same guest by the bench with the driver's own QEMU objects
  (``drivers.qemu.volumes.plug``: the same node, throttle filter with no limits and virtio-blk device; only
  the format differs); each disk is written once unmeasured (a thin disk's first write allocates), then the
  rounds run interleaved, the order turned each round, so both see the same machine load; MiB/s from the
  guest's own clock; the ratio is the median of the rounds' pairs.
  With Ceph installed, an RBD volume (librbd in QEMU) on a one-node cluster is measured the same way.
Both QEMU disks go through the host's page cache (QEMU's default, the driver's), so reads after a write are
mostly memory copies on the host; the guest's O_DIRECT only keeps its own cache out.  Under TCG every guest
instruction is emulated: the absolute MiB/s are the emulator's, the ratio volume/raw is the figure."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.ceph import _up as ceph_up
from bench.targets import ROOT, Onestack
from bench.volume import Client, _unlimited
from onestack.drivers.compute import VolumeDisk
from onestack.drivers.qemu import volumes
from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.qemu.qmp import QMP
from onestack.guestimage import build
from tests.drivers import serial

NOVA = {"X-OpenStack-Nova-API-Version": "2.37"}  # networks "none"; remote-consoles from 2.6
MiB, GiB = 1024**2, 1024**3


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _accel(where: InstanceDir) -> str:
    """The accelerator the guest's QEMU runs with, from its command line (``-machine pc,accel=...``)."""
    argv = Path(f"/proc/{where.pidfile.read_text().strip()}/cmdline").read_bytes().split(b"\0")
    found = re.search(rb"accel=(\w+)", b" ".join(argv))
    return found.group(1).decode() if found else "unknown"


def _boot(api: Client) -> str:
    body = {"server": {"name": "bench-volumes", "imageRef": _image_id(api), "flavorRef": "42",
                       "networks": "none"}}
    server_id = api.call("POST", "/compute/v2.1/servers", body, NOVA)["server"]["id"]
    deadline = time.monotonic() + 180
    while (status := api.call("GET", f"/compute/v2.1/servers/{server_id}", headers=NOVA)["server"]["status"]) \
            != "ACTIVE":
        if status == "ERROR" or time.monotonic() > deadline:
            raise RuntimeError(f"server {server_id} is {status}")
        time.sleep(0.1)
    return server_id


def _image_id(api: Client) -> str:
    return api.call("GET", "/image/v2/images?name=onestack-tiny")["images"][0]["id"]


def _shell(api: Client, server_id: str) -> serial.Shell:
    url = api.call("POST", f"/compute/v2.1/servers/{server_id}/remote-consoles",
                   {"remote_console": {"protocol": "serial", "type": "serial"}}, NOVA)["remote_console"]["url"]
    return serial.websocket_shell(url).ready(180)


def _wait_volume(api: Client, volume_id: str, status: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while (found := api.cinder("GET", f"/volumes/{volume_id}")["volume"]["status"]) != status:
        if found.startswith("error") or time.monotonic() > deadline:
            raise RuntimeError(f"volume {volume_id} is {found}, not {status}")
        time.sleep(0.02)


def _attach_round(api: Client, shell: serial.Shell, server_id: str, volume_id: str, disk: str) -> dict:
    """Seconds from the attach POST until the guest sees ``disk``, and from the DELETE until it is gone and
    until the volume is available again."""
    attachments = f"/compute/v2.1/servers/{server_id}/os-volume_attachments"
    watch = shell.start(f"while [ ! -e /sys/block/{disk} ]; do usleep 5000; done")
    started = time.perf_counter()
    api.call("POST", attachments, {"volumeAttachment": {"volumeId": volume_id}}, NOVA)
    returned = time.perf_counter() - started
    shell.output(watch, 60)
    seen = time.perf_counter() - started
    _wait_volume(api, volume_id, "in-use")
    in_use = time.perf_counter() - started
    watch = shell.start(f"while [ -e /sys/block/{disk} ]; do usleep 5000; done")
    started = time.perf_counter()
    api.call("DELETE", f"{attachments}/{volume_id}", headers=NOVA)
    shell.output(watch, 60)
    gone = time.perf_counter() - started
    _wait_volume(api, volume_id, "available")
    return {"post_returned": returned, "guest_sees": seen, "in_use": in_use, "guest_lost": gone,
            "available": time.perf_counter() - started}


def _disk_of(shell: serial.Shell, serial_prefix: str) -> str:
    """The guest's name (vdX) of the disk whose serial is ``serial_prefix`` (virtio keeps 20 characters)."""
    listing = shell.run("for d in /sys/block/vd*; do echo ${d##*/} $(cat $d/serial); done")
    for line in listing.splitlines():
        name, _, found = line.partition(" ")
        if found and serial_prefix[:20] == found.strip():
            return name
    raise RuntimeError(f"no disk with serial {serial_prefix[:20]} in the guest: {listing!r}")


def _wait_disk(shell: serial.Shell, serial_prefix: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return _disk_of(shell, serial_prefix)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


CLOCK = "grep -m1 'now at' /proc/timer_list"  # the guest's monotonic clock in ns (busybox date has no %N)


def _dd(shell: serial.Shell, arguments: str, size: int) -> float:
    """MiB/s of one busybox dd in the guest (this busybox prints no rate), timed by the guest's own clock so
    the console's round trip is not in it."""
    out = shell.run(f"{CLOCK}; dd {arguments} bs=1M count={size // MiB} 2>/dev/null; {CLOCK}", 300)
    stamps = [int(n) for n in re.findall(r"now at (\d+) nsecs", out)]
    if len(stamps) != 2 or stamps[1] <= stamps[0]:
        raise RuntimeError(f"the guest said {out!r}")
    return size / MiB / ((stamps[1] - stamps[0]) / 1e9)


def _io_round(shell: serial.Shell, disk: str, size: int) -> tuple[float, float]:
    """(write, read) MiB/s of ``size`` bytes at the start of ``disk``."""
    write = _dd(shell, f"if=/dev/zero of=/dev/{disk} oflag=direct conv=fsync", size)
    read = _dd(shell, f"if=/dev/{disk} of=/dev/null iflag=direct", size)
    return write, read


def _median(values: list[float], digits: int = 2) -> float:
    return round(statistics.median(values), digits)


def _series(runs: list[dict], key: str) -> dict:
    values = [run[key] for run in runs]
    return {f"{key}_s_median": _median(values), f"{key}_s": [round(v, 2) for v in values]}


def _ceph_settings(work: Path) -> tuple[dict, str | None]:
    """A one-node cluster's settings for the cloud, or why there is none (then the RBD side is left out)."""
    if not shutil.which("ceph-osd"):
        return {}, "Ceph is not installed (make ceph-packages)"
    try:
        found, _ = ceph_up(work / "cluster")
    except subprocess.CalledProcessError as failed:
        return {}, f"the one-node cluster did not start: {(failed.stderr or '')[-200:]}"
    return {"conf": found["CEPH_CONF"], "client": found["CEPH_ID"], "keyring": found["CEPH_KEYRING"]}, None


def measure(quick: bool, with_ceph: bool = True) -> dict:
    image = build.build()
    rounds = 3 if quick else 7
    io_rounds = 3 if quick else 5
    size = 256 * MiB
    result: dict = {"load_before": _load(), "data_mib": size // MiB, "attach_rounds": rounds,
                    "io_rounds": io_rounds, "image_bytes": image.size_bytes}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="onestack-bench-volguest-") as tmp:
        work = Path(tmp)
        ceph, why_not = _ceph_settings(work) if with_ceph else ({}, "left out (with_ceph=False)")
        target = Onestack({"compute": {"driver": "qemu"}, **({"ceph": ceph} if ceph else {})},
                          name="onestack-volume-guest")
        shells: list[serial.Shell] = []
        try:
            target.start()
            target._run("image", "register")  # what make up does
            api = Client(target)
            _unlimited(api)
            server_id = _boot(api)
            shell = _shell(api, server_id)
            shells.append(shell)
            where = InstanceDir(target.data_dir / "compute" / "instances" / server_id)
            result["accel"] = _accel(where)
            volume_id, _ = api.create(size=1)
            runs = [_attach_round(api, shell, server_id, volume_id, "vdb") for _ in range(rounds)]
            result["attach"] = {**_series(runs, "post_returned"), **_series(runs, "guest_sees"),
                                **_series(runs, "in_use")}
            result["detach"] = {**_series(runs, "guest_lost"), **_series(runs, "available")}

            # the I/O: the volume attached through the API, a raw file plugged beside it the driver's way
            disks = {"qcow2_volume": volume_id}
            api.call("POST", f"/compute/v2.1/servers/{server_id}/os-volume_attachments",
                     {"volumeAttachment": {"volumeId": volume_id}}, NOVA)
            if ceph:
                api.cinder("POST", "/types", {"volume_type": {"name": "rbd", "extra_specs": {
                    "volume_backend_name": "ceph"}}})
                rbd_id, _ = api.create(size=1, volume_type="rbd")
                api.call("POST", f"/compute/v2.1/servers/{server_id}/os-volume_attachments",
                         {"volumeAttachment": {"volumeId": rbd_id}}, NOVA)
                disks["rbd_volume"] = rbd_id
            raw_path = target.data_dir / "bench-raw.img"  # on the volumes' file system
            with open(raw_path, "wb") as raw:
                raw.truncate(GiB)  # thin, as the qcow2 volume is
            raw_disk = VolumeDisk(volume_id=str(uuid.uuid4()), path=str(raw_path), format="raw")
            with QMP(where.qmp_socket) as qmp:
                volumes.plug(qmp, raw_disk)
            disks["raw_file"] = raw_disk.volume_id
            names = {kind: _wait_disk(shell, disk_id) for kind, disk_id in disks.items()}
            for name in names.values():  # each disk written once unmeasured: allocated, as a disk in use is
                shell.run(f"dd if=/dev/zero of=/dev/{name} bs=1M count={size // MiB} oflag=direct conv=fsync "
                          "2>/dev/null", 300)
            io: dict = {kind: {"write": [], "read": []} for kind in disks}
            for number in range(io_rounds):  # interleaved, the order turned each round: both see the same load
                for kind, name in (list(names.items()) if number % 2 == 0 else list(names.items())[::-1]):
                    write, read = _io_round(shell, name, size)
                    io[kind]["write"].append(write)
                    io[kind]["read"].append(read)
            for kind, measured in io.items():
                result[kind] = {"write_mib_per_s_median": _median(measured["write"], 1),
                                "read_mib_per_s_median": _median(measured["read"], 1),
                                "write_mib_per_s": [round(v, 1) for v in measured["write"]],
                                "read_mib_per_s": [round(v, 1) for v in measured["read"]]}
            for kind in [k for k in disks if k != "raw_file"]:
                # paired by round (the two ran one after the other), so a busy moment weighs on both sides
                result[f"{kind}_over_raw"] = {
                    way: _median([mine / raw for mine, raw in zip(io[kind][way], io["raw_file"][way], strict=True)])
                    for way in ("write", "read")}
            if not ceph:
                result["rbd"] = why_not
            with QMP(where.qmp_socket) as qmp:
                volumes.unplug(qmp, raw_disk.volume_id, 30)
        finally:
            for one in shells:
                one.close()
            target.purge()  # the guest's QEMU goes with the data dir
            if (work / "cluster").exists():  # a cluster that started, or began to
                subprocess.run([str(ROOT / "scripts/ceph-down.sh"), str(work / "cluster")], check=False,
                               capture_output=True)
    result["load_after"] = _load()
    result["part_seconds"] = round(time.monotonic() - started, 1)
    return result


def table(r: dict) -> str:
    a, d = r["attach"], r["detach"]
    lines = [f"\nvolumes in a running guest ({r.get('accel')}, load {r['load_before']} → {r['load_after']}, "
             f"{r['part_seconds']} s)",
             f"  attach POST → guest sees the disk (s)     {a['guest_sees_s_median']:>8}   (POST returned "
             f"{a['post_returned_s_median']}, in-use {a['in_use_s_median']})",
             f"  detach DELETE → disk gone in guest (s)    {d['guest_lost_s_median']:>8}   (available "
             f"{d['available_s_median']})",
             f"  guest dd {r['data_mib']} MiB, O_DIRECT          {'write MiB/s':>12}{'read MiB/s':>12}"]
    for kind in ("qcow2_volume", "rbd_volume", "raw_file"):
        if kind in r:
            lines.append(f"  {kind.replace('_', ' '):40}{r[kind]['write_mib_per_s_median']:>12}"
                         f"{r[kind]['read_mib_per_s_median']:>12}")
    for kind in ("qcow2_volume", "rbd_volume"):
        if f"{kind}_over_raw" in r:
            ratio = r[f"{kind}_over_raw"]
            lines.append(f"  {kind.replace('_', ' ') + ' / raw file':40}{ratio['write']:>12}{ratio['read']:>12}")
    if "rbd" in r:
        lines.append(f"  rbd: {r['rbd']}")
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    found = measure(quick=True)
    print(json.dumps(found, indent=2))
    print(table(found))
