"""A guest boots from an RBD volume (the ``rbd`` connection Block Storage answers becomes ``-blockdev
driver=rbd``: QEMU opens the image through librbd, no host block device, no local copy) that is a clone of
its image, against the throwaway Ceph cluster; and the helpers of the other RBD guest stories (an RBD
volume attached, written and read on two hosts, root disks in the ``vms`` pool: test_qemu_rbd_moves)."""

from __future__ import annotations

import contextlib
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
from tests.drivers.test_qemu_volumes import shell_of, spec_of

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
