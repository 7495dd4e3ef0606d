"""Volumes in a real QEMU guest through the driver: a qcow2 file hot-plugged as a virtio disk the tiny guest
sees as /dev/vdb with the volume id as its serial, written by the guest, detached (the guest lets it go),
kept across a hard reboot, and throttled by its QoS limits; a guest boots from a volume as its root disk.
The guest is driven through its serial console's shell."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from onestack.drivers import specfile
from onestack.drivers.compute import DriverError, InstanceSpec, VolumeDisk
from onestack.drivers.qemu import QemuDriver, accel
from onestack.drivers.secrets import Luks
from onestack.drivers.volumefiles import VolumeFiles
from tests.api.volume_helpers import read_at
from tests.drivers import serial

pytestmark = pytest.mark.qemu

if not shutil.which(accel.QEMU):
    pytest.skip("qemu-system-x86 is not installed (make install installs it)", allow_module_level=True)

MiB = 1024 * 1024


def volume_file(path: Path, size: str = "64M", backing: Path | None = None) -> Path:
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if backing:
        argv += ["-F", "qcow2", "-b", str(backing)]
    subprocess.run([*argv, str(path), *([] if backing else [size])], check=True)
    return path


def virtual_size(path: Path) -> int:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)["virtual-size"]


def seconds_to_write(shell, device: str, mib: int = 8) -> float:
    """How long the guest takes to write and flush ``mib`` MiB, timed by the host's clock (a TCG guest's own
    clock falls behind on a loaded host: it once measured 4.9 s for a write the throttle held for 8).
    The guest's requests are kept to 64 KiB: QEMU admits a request whole while its bucket is under the limit,
    and a guest on a host busy with I/O merges its writeback into requests of several MiB, which then pass
    a throttle at once (8 MiB in 5 s at 1 MiB/s; 6 MiB unheld by a 3 MiB burst)."""
    name = device.removeprefix("/dev/")
    shell.run(f"echo 64 > /sys/block/{name}/queue/max_sectors_kb")
    assert shell.run(f"cat /sys/block/{name}/queue/max_sectors_kb") == "64"
    start = time.monotonic()
    shell.run(f"dd if=/dev/zero of={device} bs=64k count={mib * 16} conv=fsync 2>/dev/null", seconds=120)
    return time.monotonic() - start


def first_bytes(path: Path, count: int) -> bytes:
    """What the volume holds at its start, read from the host (``-U``: a guest may still have it open)."""
    raw = path.with_suffix(".raw")
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", str(path), str(raw)], check=True)
    try:
        with open(raw, "rb") as f:
            return f.read(count)
    finally:
        raw.unlink()


def connection(volume_id: str, path: Path, **qos) -> dict:
    """A connection as the block storage service answers it."""
    return {"driver_volume_type": "file", "data": {"path": str(path), "format": "qcow2", "access_mode": "rw",
                                                  "volume_id": volume_id, "qos_specs": qos or None}}


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    chosen, _ = accel.choose(Path.home() / ".cache" / "onestack")
    return QemuDriver(tmp_path_factory.mktemp("qemu-state"), accel=chosen)


def spec_of(tiny_image, **changes) -> InstanceSpec:
    # no config drive and no NIC: the guest's first volume is its second disk, /dev/vdb
    return InstanceSpec(**{"uuid": str(uuid.uuid4()), "name": "instance-000000a1", "hostname": "vol", "vcpus": 1,
                           "memory_mb": 192, "root_gb": 1, "image_path": str(tiny_image.path), **changes})


def shell_of(driver: QemuDriver, uuid_: str) -> serial.Shell:
    return serial.unix_shell(driver.console_socket(uuid_, "serial")).ready()


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} within {seconds}s"
        time.sleep(0.1)
    return found


def test_hot_plug_write_detach_reboot_and_throttle(driver, tiny_image, tmp_path):
    spec = spec_of(tiny_image)
    volume_id, limited_id = str(uuid.uuid4()), str(uuid.uuid4())
    disk = VolumeDisk.from_connection(connection(volume_id, volume_file(tmp_path / "v1.qcow2")))
    driver.spawn(spec)
    shell = None
    try:
        shell = shell_of(driver, spec.uuid)
        assert shell.run("ls /sys/block").split() == ["vda"]
        started = time.monotonic()
        driver.attach_volume(spec.uuid, disk)
        driver.attach_volume(spec.uuid, disk)  # repeated: nothing more
        wait_for(lambda: "vdb" in shell.run("ls /sys/block"), 30, "the guest to see the hot-plugged disk")
        print(f"attach until the guest sees /dev/vdb: {time.monotonic() - started:.2f}s")
        assert shell.run("cat /sys/block/vdb/serial") == volume_id[:20]
        assert shell.run("ls /dev/vdb") == "/dev/vdb"
        shell.run("echo onestack-volume-marker | dd of=/dev/vdb conv=fsync 2>/dev/null; echo written")

        # grown online (QMP block_resize): the running guest sees the new capacity, and the file has it
        assert shell.run("cat /sys/block/vdb/size") == str(64 * MiB // 512)
        assert driver.extend_volume(spec.uuid, volume_id, 128 * MiB) is True
        wait_for(lambda: shell.run("cat /sys/block/vdb/size") == str(128 * MiB // 512), 30,
                 "the guest to see the grown disk")
        assert virtual_size(Path(disk.path)) == 128 * MiB
        assert driver.extend_volume(spec.uuid, volume_id, 128 * MiB) is True  # asked again: nothing changes
        assert driver.extend_volume(spec.uuid, str(uuid.uuid4()), 128 * MiB) is False  # not this guest's

        # a live snapshot, named as the volume service names its files: the guest switches to an empty overlay
        # (backed by the snapshot's name), then the files are renamed under it; later writes miss the snapshot
        volume_path = Path(disk.path)
        for number in (1, 2):
            overlay, frozen = tmp_path / f".v1.qcow2.partial{number}", tmp_path / f"snap{number}.qcow2"
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", frozen.name, "-u",
                            str(overlay), str(128 * MiB)], check=True)
            assert driver.snapshot_volume(spec.uuid, volume_id, str(overlay)) is True
            assert driver.snapshot_volume(spec.uuid, volume_id, str(overlay)) is True  # repeated: nothing more
            volume_path.rename(frozen)
            overlay.rename(volume_path)
            assert shell.run(f"echo after-snapshot-{number} | dd of=/dev/vdb bs=1M seek={number} conv=fsync "
                             "2>/dev/null; echo written") == "written"
        assert read_at(tmp_path / "snap1.qcow2", MiB, 16) != b"after-snapshot-1"
        assert read_at(tmp_path / "snap2.qcow2", MiB, 16) == b"after-snapshot-1"  # what came before it
        assert read_at(tmp_path / "snap2.qcow2", 2 * MiB, 16) != b"after-snapshot-2"
        assert read_at(volume_path, 2 * MiB, 16) == b"after-snapshot-2"
        assert read_at(volume_path, 0, 22) == b"onestack-volume-marker"
        assert driver.snapshot_volume(spec.uuid, str(uuid.uuid4()), str(overlay)) is False  # not this guest's
        driver.detach_volume(spec.uuid, volume_id)
        driver.detach_volume(spec.uuid, volume_id)  # repeated: nothing more
        assert shell.run("ls /sys/block").split() == ["vda"]
        assert first_bytes(Path(disk.path), 23) == b"onestack-volume-marker\n"
        assert volume_id not in (driver.instances_dir / spec.uuid / "spec.json").read_text()

        # attached again, and kept by a hard reboot (a new QEMU from the spec the driver keeps)
        driver.attach_volume(spec.uuid, disk)
        shell.close()
        kept = driver.instances_dir / spec.uuid / "spec.json"
        assert volume_id in kept.read_text()
        driver.reboot(specfile.load(kept), hard=True)
        shell = shell_of(driver, spec.uuid)
        assert shell.run("head -c 22 /dev/vdb") == "onestack-volume-marker"

        # a volume limited to 1 MiB/s of writes: QEMU lets a request through once its bucket is under a tenth of
        # the rate, so 8 MiB take at least 8 s less the last request's share
        limited = VolumeDisk.from_connection(connection(limited_id, volume_file(tmp_path / "v2.qcow2"),
                                                        write_bytes_sec=str(MiB), consumer="front-end"))
        assert limited.throttle == {"bps-write": MiB}
        driver.attach_volume(spec.uuid, limited)
        wait_for(lambda: "vdc" in shell.run("ls /sys/block"), 30, "the guest to see the limited disk")
        took, fast = seconds_to_write(shell, "/dev/vdc"), seconds_to_write(shell, "/dev/vdb")
        print(f"8 MiB written: {took:.2f}s limited to 1 MiB/s, {fast:.2f}s unlimited")
        assert took >= 5 and fast < took / 2  # 8 MiB minus the first request and the 100 KiB bucket
        # a limited disk grows through its throttle filter, and the guest sees it too
        assert driver.extend_volume(spec.uuid, limited_id, 128 * MiB) is True
        wait_for(lambda: shell.run("cat /sys/block/vdc/size") == str(128 * MiB // 512), 30,
                 "the guest to see the grown limited disk")
        # limits changed while the guest runs: lifted on the limited disk, set on the other
        assert driver.set_volume_limits(spec.uuid, limited_id, {}) is True
        assert driver.set_volume_limits(spec.uuid, volume_id, {"bps-write": MiB}) is True
        lifted, slowed = seconds_to_write(shell, "/dev/vdc"), seconds_to_write(shell, "/dev/vdb")
        print(f"8 MiB written after the change: {lifted:.2f}s lifted, {slowed:.2f}s limited to 1 MiB/s")
        assert slowed >= 5 and lifted < slowed / 2
        assert '"bps-write": 1048576' in kept.read_text()  # a later start of the guest keeps them
        assert driver.set_volume_limits(spec.uuid, str(uuid.uuid4()), {}) is False  # not this guest's

        # a burst (Cinder's ``write_bytes_sec_max`` over a 512 KiB/s ``write_bytes_sec``): QEMU lets 3 MiB (the
        # maximum for its one-second burst) through at the guest's own speed before holding it to the steady
        # rate.  Compared as rates: 2 MiB in the burst, then 4 MiB held back.  How far back varies with the host:
        # on a busy one the 4 MiB ran at 0.60-0.68 MiB/s, near the steady limit; on an idle one QEMU 7.2 let them
        # through at 2 MiB/s (4x the limit) - still a small fraction of the unthrottled write above.
        steady = 512 * 1024
        burst = VolumeDisk.from_connection(connection(limited_id, Path(limited.path), consumer="front-end",
                                                      write_bytes_sec=str(steady),
                                                      write_bytes_sec_max=str(3 * MiB)))
        assert burst.throttle == {"bps-write": steady, "bps-write-max": 3 * MiB}
        assert driver.set_volume_limits(spec.uuid, limited_id, burst.throttle) is True
        in_burst, after = seconds_to_write(shell, "/dev/vdc", 2), seconds_to_write(shell, "/dev/vdc", 4)
        burst_rate, steady_rate = 2 * MiB / in_burst, 4 * MiB / after
        print(f"burst: 2 MiB at {burst_rate / MiB:.2f} MiB/s, then 4 MiB at {steady_rate / MiB:.2f} MiB/s "
              f"(steady limit {steady / MiB:.2f} MiB/s)")
        assert burst_rate >= 2 * steady_rate  # the burst passes at the guest's speed, then the throttle holds
        assert steady_rate * 10 < 8 * MiB / lifted  # held: far below the same disk's unthrottled rate
        driver.detach_volume(spec.uuid, limited_id)
        assert shell.run("ls /sys/block").split() == ["vda", "vdb"]
    finally:
        if shell is not None:
            shell.close()
        driver.destroy(spec.uuid)


def test_boot_from_a_volume(driver, tiny_image, tmp_path):
    """A volume holding the image (an overlay on it, as the volume service makes one) is the root disk."""
    base = tmp_path / "image.qcow2"
    shutil.copyfile(tiny_image.path, base)
    root_id = str(uuid.uuid4())
    root = VolumeDisk.from_connection(connection(root_id, volume_file(tmp_path / "root.qcow2", backing=base)),
                                      boot=True)
    spec = spec_of(tiny_image, image_path=None, volumes=(root,))
    driver.spawn(spec)
    try:
        shell = shell_of(driver, spec.uuid)
        assert shell.run("cat /sys/block/vda/serial") == root_id[:20]
        shell.close()
        assert not (driver.instances_dir / spec.uuid / "disk").exists()
        with pytest.raises(DriverError):
            driver.detach_volume(spec.uuid, root_id)
    finally:
        driver.destroy(spec.uuid)
    assert (tmp_path / "root.qcow2").exists()  # the volume outlives the guest


def test_boot_from_an_encrypted_volume_and_resume_it(driver, tiny_image, tmp_path):
    """The image converted into a LUKS-encrypted qcow2 (by the volume service's own file steps) boots as the root disk with its key read from an inherited pipe; a suspend and resume (the state
    reloaded into a QEMU started from the spec file, which keeps no key) opens it again with the key given then;
    without a key the guest is not started."""
    passphrase, image_id, root_id = uuid.uuid4().hex, str(uuid.uuid4()), str(uuid.uuid4())
    files = VolumeFiles(tmp_path / "volumes")
    shutil.copyfile(tiny_image.path, files.download_target(image_id))
    files.cache_image(image_id, files.download_target(image_id), "qcow2")
    files.create_from_image(root_id, image_id, 1, luks=Luks(secret=passphrase.encode()))
    root_path = files.volume(root_id)
    root = VolumeDisk.from_connection({**connection(root_id, root_path),
                                       "data": {**connection(root_id, root_path)["data"], "encrypted": True}},
                                      boot=True)
    assert root.encrypted and root.secret is None
    spec = spec_of(tiny_image, image_path=None, volumes=(root,))
    with pytest.raises(DriverError, match="no key"):
        driver.spawn(spec)  # refused rather than started unable to read its disk
    driver.destroy(spec.uuid)
    keyed = spec_of(tiny_image, image_path=None, volumes=(dataclasses.replace(root, secret=passphrase),))
    driver.spawn(keyed)
    try:
        shell = shell_of(driver, keyed.uuid)
        assert shell.run("cat /sys/block/vda/serial") == root_id[:20]
        assert shell.run("echo booted-encrypted > /root-marker && cat /root-marker") == "booted-encrypted"
        shell.close()
        assert passphrase not in (driver.instances_dir / keyed.uuid / "spec.json").read_text()
        driver.suspend(keyed.uuid)
        driver.resume(keyed)
        shell = shell_of(driver, keyed.uuid)
        assert shell.run("cat /root-marker") == "booted-encrypted"  # the same guest, memory and all
        shell.close()
    finally:
        driver.destroy(keyed.uuid)
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(root_path)], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["encrypted"] is True  # still LUKS inside: the guest's writes went through QEMU's encryption


def test_swap_moves_the_running_guests_disk_to_another_volume(driver, tiny_image, tmp_path):
    """blockdev-mirror then the pivot: what the guest wrote before is on the new volume, what it writes after
    lands there only, the device (and its serial) unchanged; swapped back, then detached cleanly."""
    spec = spec_of(tiny_image)
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    first_path, second_path = volume_file(tmp_path / "s1.qcow2"), volume_file(tmp_path / "s2.qcow2")
    first = VolumeDisk.from_connection(connection(first_id, first_path))
    second = VolumeDisk.from_connection(connection(second_id, second_path))
    driver.spawn(spec)
    try:
        shell = shell_of(driver, spec.uuid)
        driver.attach_volume(spec.uuid, first)
        wait_for(lambda: "vdb" in shell.run("ls /sys/block"), 30, "the guest to see the hot-plugged disk")
        shell.run("echo swap-marker-before | dd of=/dev/vdb conv=fsync 2>/dev/null; echo written")

        started = time.monotonic()
        assert driver.swap_volume(spec.uuid, first_id, second) is True
        print(f"swap of a 64 MiB volume: {time.monotonic() - started:.2f}s")
        assert driver.swap_volume(spec.uuid, first_id, second) is True  # repeated (a restart's redo): nothing
        assert first_bytes(second_path, 18) == b"swap-marker-before"
        # the guest goes on with the same device, now writing the new file only
        assert shell.run("cat /sys/block/vdb/serial") == first_id[:20]
        shell.run("echo swap-marker-after | dd of=/dev/vdb bs=512 seek=2048 conv=fsync 2>/dev/null; echo written")
        assert read_at(second_path, 2048 * 512, 17) == b"swap-marker-after"
        assert read_at(first_path, 2048 * 512, 17) != b"swap-marker-after"
        assert shell.run("dd if=/dev/vdb bs=512 skip=2048 count=1 iflag=direct 2>/dev/null | head -c 17") \
            == "swap-marker-after"
        # the spec keeps the new volume in the slot named after the first
        saved = driver._dir(spec.uuid).load_spec()
        assert [(v.volume_id, v.slot) for v in saved.volumes] == [(second_id, first_id)]

        # back to the first volume (a second generation of the slot), then a detach releases every node
        moved_back = VolumeDisk.from_connection(connection(first_id, first_path))
        assert driver.swap_volume(spec.uuid, second_id, moved_back) is True
        assert read_at(first_path, 2048 * 512, 17) == b"swap-marker-after"
        driver.detach_volume(spec.uuid, first_id)
        wait_for(lambda: "vdb" not in shell.run("ls /sys/block"), 30, "the guest to let the disk go")
        with driver._qmp(spec.uuid) as qmp:
            names = [n["node-name"] for n in qmp.execute("query-named-block-nodes", flat=True)]
        assert not [n for n in names if first_id.replace("-", "")[:24] in n]
        with pytest.raises(DriverError):
            driver.swap_volume(spec.uuid, first_id, second)  # no longer attached
    finally:
        driver.destroy(spec.uuid)
