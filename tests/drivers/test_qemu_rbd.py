"""An RBD volume in a real QEMU guest through the driver, against the throwaway Ceph cluster: the ``rbd``
connection Block Storage answers becomes ``-blockdev driver=rbd`` (QEMU opens the image through librbd; no
host block device, no local copy), the tiny guest sees it as /dev/vdb with the volume id as serial, writes to
it, lets it go, and the bytes are in the cluster; a guest also boots from an RBD clone of its image."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.drivers.compute import VolumeDisk
from onestack.drivers.qemu import QemuDriver, accel
from onestack.drivers.qemu.rbddisks import RBDDisks
from onestack.drivers.volumerbd import Ceph
from tests.cephcluster import long_test
from tests.drivers.test_qemu_volumes import shell_of, spec_of, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.ceph, pytest.mark.xdist_group("ceph")]

if not shutil.which(accel.QEMU):
    pytest.skip("qemu-system-x86 is not installed (make install installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    chosen, _ = accel.choose(Path.home() / ".cache" / "onestack")
    return QemuDriver(tmp_path_factory.mktemp("qemu-state"), accel=chosen)


def rbd_connection(cluster, volume_id: str, image: str) -> dict:
    """A connection as Block Storage answers it for an RBD volume."""
    return {"driver_volume_type": "rbd", "data": {
        "name": f"volumes/{image}", "access_mode": "rw", "volume_id": volume_id, "auth_enabled": True,
        "auth_username": cluster.client, "conf": cluster.conf, "keyring": cluster.keyring, "format": "raw"}}


def first_bytes(cluster, image: str, count: int, tmp_path) -> bytes:
    out = tmp_path / f"{image}.raw"
    cluster.rbd("export", "--no-progress", f"volumes/{image}", str(out))
    with open(out, "rb") as f:
        return f.read(count)


def test_an_rbd_volume_is_attached_written_and_detached(ceph_cluster, driver, tiny_image, tmp_path):
    volume_id = str(uuid.uuid4())
    image = f"volume-{volume_id}"
    ceph_cluster.rbd("create", "--size", "64M", f"volumes/{image}")
    disk = VolumeDisk.from_connection(rbd_connection(ceph_cluster, volume_id, image))
    assert disk.rbd == {"conf": ceph_cluster.conf, "user": ceph_cluster.client, "keyring": ceph_cluster.keyring}
    spec = spec_of(tiny_image)
    driver.spawn(spec)
    shell = None
    try:
        shell = shell_of(driver, spec.uuid)
        driver.attach_volume(spec.uuid, disk)
        wait_for(lambda: "vdb" in shell.run("ls /sys/block"), 60, "the guest to see the RBD disk")
        assert shell.run("cat /sys/block/vdb/serial") == volume_id[:20]
        # QEMU holds the image open through librbd: the cluster sees it as a watcher
        assert "watcher=" in ceph_cluster.rbd("status", f"volumes/{image}")
        shell.run("echo onestack-rbd-marker | dd of=/dev/vdb conv=fsync 2>/dev/null; echo written")
        driver.detach_volume(spec.uuid, volume_id)
        assert shell.run("ls /sys/block").split() == ["vda"]
        assert first_bytes(ceph_cluster, image, 20, tmp_path) == b"onestack-rbd-marker\n"
    finally:
        if shell is not None:
            shell.close()
        driver.destroy(spec.uuid)
        ceph_cluster.rbd("rm", "--no-progress", f"volumes/{image}")


@long_test
def test_a_guest_boots_from_an_rbd_clone_of_its_image(ceph_cluster, driver, tiny_image, tmp_path):
    base, root_id = f"image-{uuid.uuid4()}", str(uuid.uuid4())
    root = f"volume-{root_id}"
    subprocess.run(["qemu-img", "convert", "-q", "-O", "raw", str(tiny_image.path),
                    f"rbd:volumes/{base}:id={ceph_cluster.client}:conf={ceph_cluster.conf}"], check=True)
    ceph_cluster.rbd("snap", "create", "--no-progress", f"volumes/{base}@snap")
    ceph_cluster.rbd("snap", "protect", f"volumes/{base}@snap")
    ceph_cluster.rbd("clone", f"volumes/{base}@snap", f"volumes/{root}")
    disk = VolumeDisk.from_connection(rbd_connection(ceph_cluster, root_id, root), boot=True)
    spec = spec_of(tiny_image, image_path=None, volumes=(disk,))
    driver.spawn(spec)
    try:
        shell = shell_of(driver, spec.uuid)
        assert shell.run("cat /sys/block/vda/serial") == root_id[:20]
        shell.close()
    finally:
        driver.destroy(spec.uuid)
        ceph_cluster.rbd("rm", "--no-progress", f"volumes/{root}")
        ceph_cluster.rbd("snap", "unprotect", f"volumes/{base}@snap")
        ceph_cluster.rbd("snap", "rm", "--no-progress", f"volumes/{base}@snap")
        ceph_cluster.rbd("rm", "--no-progress", f"volumes/{base}")


@long_test
def test_a_guest_root_disk_is_an_rbd_clone_of_its_image(ceph_cluster, tiny_image, tmp_path):
    """Nova's images_type rbd: the root disk is vms/<uuid>_disk, a clone of the image's images/<id>@snap
    grown to the flavor; the guest boots and writes it; a snapshot reads it; destroy removes it."""
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        driver = rbd_rooted_driver(ceph_cluster, tmp_path / "state")
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1)
        try:
            driver.spawn(spec)
            info = json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{spec.uuid}_disk"))
            assert (info["parent"]["pool"], info["parent"]["image"], info["parent"]["snapshot"]) == \
                ("images", image_id, "snap")
            assert info["size"] == 1024**3
            assert not (driver.instances_dir / spec.uuid / "disk").exists()
            shell = shell_of(driver, spec.uuid)
            assert shell.run("ls /sys/block").split() == ["vda"]
            shell.run("echo on-rbd > /marker; sync; echo ok")
            shell.close()
            target = tmp_path / "snapshot.raw"
            assert driver.snapshot(spec.uuid, str(target)) == "raw"  # raw: the image service keeps it in Ceph
            assert json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(target)], check=True,
                                             capture_output=True, text=True).stdout)["format"] == "raw"
            # a hard reboot starts a new QEMU on the same RBD disk
            driver.reboot(spec, hard=True)
            shell = shell_of(driver, spec.uuid)
            assert shell.run("ls /sys/block").split() == ["vda"]
            shell.close()
        finally:
            driver.destroy(spec.uuid)
            assert f"{spec.uuid}_disk" not in ceph_cluster.images("vms")


@contextlib.contextmanager
def image_in_ceph(ceph_cluster, tiny_image) -> Iterator[str]:
    """The tiny image kept in the cluster as the image service keeps it (raw ``images/<id>`` and a protected
    ``snap``); its id.  Removed afterwards."""
    image_id = str(uuid.uuid4())
    subprocess.run(["qemu-img", "convert", "-q", "-O", "raw", str(tiny_image.path),
                    f"rbd:images/{image_id}:id={ceph_cluster.client}:conf={ceph_cluster.conf}"], check=True)
    ceph_cluster.rbd("snap", "create", "--no-progress", f"images/{image_id}@snap")
    ceph_cluster.rbd("snap", "protect", f"images/{image_id}@snap")
    try:
        yield image_id
    finally:
        ceph_cluster.rbd("snap", "unprotect", f"images/{image_id}@snap")
        ceph_cluster.rbd("snap", "rm", "--no-progress", f"images/{image_id}@snap")
        ceph_cluster.rbd("rm", "--no-progress", f"images/{image_id}")


def rbd_rooted_driver(ceph_cluster, state_dir: Path) -> QemuDriver:
    """A QEMU "host" whose guests' root disks are clones in the cluster's ``vms`` pool (images_type rbd)."""
    ceph = Ceph(ceph_cluster.conf, ceph_cluster.client, ceph_cluster.keyring)
    chosen, _ = accel.choose(Path.home() / ".cache" / "onestack")
    return QemuDriver(state_dir, accel=chosen, rbd_disks=RBDDisks(ceph, "vms"))


@long_test
def test_a_guest_on_an_rbd_root_disk_is_rescued_from_a_file_disk(ceph_cluster, tiny_image, tmp_path):
    """Rescue of a guest whose root disk is in Ceph: the rescue disk is a file beside the guest's other files,
    booted first; the RBD root disk stays where it is, the guest's second disk; unrescue boots it again."""
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        driver = rbd_rooted_driver(ceph_cluster, tmp_path / "state")
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1)
        where = driver.instances_dir / spec.uuid
        try:
            driver.spawn(spec)
            shell = shell_of(driver, spec.uuid)
            shell.run("echo rbd-root-marker | dd of=/dev/vda bs=1M seek=512 conv=fsync 2>/dev/null")
            shell.close()
            driver.reboot(dataclasses.replace(spec, rescue_image_path=str(tiny_image.path)), hard=True)
            assert (where / "disk.rescue").exists() and not (where / "disk").exists()
            shell = shell_of(driver, spec.uuid)
            assert shell.run("ls /sys/block").split() == ["vda", "vdb"]
            assert shell.run("dd if=/dev/vdb bs=1M skip=512 count=1 2>/dev/null | head -c 15") == "rbd-root-marker"
            shell.close()
            driver.reboot(spec, hard=True)
            assert not (where / "disk.rescue").exists()
            shell = shell_of(driver, spec.uuid)
            assert shell.run("ls /sys/block").split() == ["vda"]
            assert shell.run("dd if=/dev/vda bs=1M skip=512 count=1 2>/dev/null | head -c 15") == "rbd-root-marker"
            shell.close()
        finally:
            driver.destroy(spec.uuid)
            assert f"{spec.uuid}_disk" not in ceph_cluster.images("vms")
