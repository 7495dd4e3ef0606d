"""A guest whose root disk is in Ceph (images_type rbd) moves between two QEMU "hosts" (drivers with state
dirs of their own, as in test_qemu_migration) without its disk being copied: live, only memory travels (no
disk is mirrored, the destination's QEMU opens the same RBD image); cold, to a larger flavor, the same image
is grown where it is.  The source's copy released after each move leaves the disk, which the guest uses on
its new host; only ``destroy`` of the guest removes it.  An RBD volume written by a guest on one host is
read by a guest on the other."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from types import SimpleNamespace

import pytest

from onestack.drivers.compute import PowerState, VolumeDisk
from onestack.drivers.qemu import migration
from tests.cephcluster import long_test
from tests.drivers.serial import unix_shell
from tests.drivers.test_qemu_migration import SECTOR, migrate, uptime
from tests.drivers.test_qemu_rbd import image_in_ceph, rbd_connection, rbd_rooted_driver
from tests.drivers.test_qemu_volumes import spec_of, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.ceph, pytest.mark.xdist_group("ceph")]

if os.geteuid() != 0:
    pytest.skip("QEMU's sockets and taps need root here", allow_module_level=True)


def disk_of(ceph_cluster, uuid: str) -> dict:
    return json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{uuid}_disk"))


def sector_marker(shell) -> str:
    return shell.run(f"dd if=/dev/vda bs=512 skip={SECTOR} count=1 2>/dev/null | head -c 13")


@long_test
def test_a_guest_on_an_rbd_root_disk_moves_live_and_cold_without_a_copy(ceph_cluster, tiny_image, tmp_path):
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        host_a = rbd_rooted_driver(ceph_cluster, tmp_path / "host-a")
        host_b = rbd_rooted_driver(ceph_cluster, tmp_path / "host-b")
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1)
        try:
            host_a.spawn(spec)
            made = disk_of(ceph_cluster, spec.uuid)
            shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
            shell.run("echo memory-$((6*7)) > /tmp/marker")
            shell.run(f"echo rbd-marker-$((6*7)) | dd of=/dev/vda bs=512 seek={SECTOR} conv=fsync,notrunc")
            before = uptime(shell)
            shell.close()

            # live: nothing mirrored, the destination opens the same image
            uri = host_b.prepare_incoming(spec, "127.0.0.1")
            assert migration.parse_uri(uri)[3] == []  # no disk to mirror
            assert not (host_b.instances_dir / spec.uuid / "disk").exists()
            assert (host_b.instances_dir / spec.uuid / "root.rbd").read_text().strip() == f"vms/{spec.uuid}_disk"
            host_b.abort_incoming(spec.uuid)  # a migration that will not come leaves the disk to the source
            assert f"{spec.uuid}_disk" in ceph_cluster.images("vms")
            statuses = migrate(host_a, host_b, spec)
            assert statuses[-1].startswith("completed"), statuses
            assert host_a.migration_progress(spec.uuid).disk_total == 0  # only memory travelled
            host_b.finish_incoming(spec.uuid)
            host_a.release(spec.uuid)
            assert host_a.list_instances() == []
            moved = disk_of(ceph_cluster, spec.uuid)
            assert (moved["id"], moved["parent"]) == (made["id"], made["parent"])  # the same image, never copied
            assert not (host_b.instances_dir / spec.uuid / "disk").exists()
            assert host_b.instance_info(spec.uuid).power_state == PowerState.RUNNING
            shell = unix_shell(host_b.console_socket(spec.uuid, "serial")).ready(60)
            assert shell.run("cat /tmp/marker") == "memory-42"
            assert uptime(shell) > before
            assert sector_marker(shell) == "rbd-marker-42"
            shell.close()

            # cold, back to A with a larger root disk: the same image grown, no local disk made
            host_b.power_off(spec.uuid, timeout=0)
            larger = dataclasses.replace(spec, root_gb=2)
            uri = host_b.export_disks(spec.uuid, "127.0.0.1")
            try:
                host_a.import_disks(larger, uri)
            finally:
                host_b.end_export(spec.uuid)
            host_a.spawn(larger)
            host_b.release(spec.uuid)
            grown = disk_of(ceph_cluster, spec.uuid)
            assert (grown["id"], grown["size"]) == (made["id"], 2 * 1024**3)
            assert not (host_a.instances_dir / spec.uuid / "disk").exists()
            shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
            assert sector_marker(shell) == "rbd-marker-42"
            assert shell.run("cat /sys/block/vda/size") == str(2 * 1024**3 // 512)
            shell.close()
        finally:
            host_b.destroy(spec.uuid)
            host_a.destroy(spec.uuid)
        assert f"{spec.uuid}_disk" not in ceph_cluster.images("vms")  # the guest's destroy removed it


def test_an_rbd_volume_written_on_one_host_is_read_on_another(ceph_cluster, tiny_image, tmp_path):
    """The issue's story: attach to a guest on host A, write, detach; attach to a guest on host B, read."""
    volume_id = str(uuid.uuid4())
    image = f"volume-{volume_id}"
    ceph_cluster.rbd("create", "--size", "64M", f"volumes/{image}")
    disk = VolumeDisk.from_connection(rbd_connection(ceph_cluster, volume_id, image))
    host_a = rbd_rooted_driver(ceph_cluster, tmp_path / "host-a")
    host_b = rbd_rooted_driver(ceph_cluster, tmp_path / "host-b")
    writer, reader = spec_of(tiny_image), spec_of(tiny_image)
    try:
        host_a.spawn(writer)
        host_b.spawn(reader)
        shell = unix_shell(host_a.console_socket(writer.uuid, "serial")).ready(180)
        host_a.attach_volume(writer.uuid, disk)
        wait_for(lambda: "vdb" in shell.run("ls /sys/block"), 60, "host A's guest to see the volume")
        assert shell.run("echo moved-by-rbd | dd of=/dev/vdb conv=fsync 2>/dev/null && echo ok") == "ok"
        host_a.detach_volume(writer.uuid, volume_id)
        shell.close()
        shell = unix_shell(host_b.console_socket(reader.uuid, "serial")).ready(180)
        host_b.attach_volume(reader.uuid, disk)
        wait_for(lambda: "vdb" in shell.run("ls /sys/block"), 60, "host B's guest to see the volume")
        assert shell.run("head -c 12 /dev/vdb") == "moved-by-rbd"
        # its own root disk is in Ceph too (a raw copy of the qcow2 image, which the cluster does not keep)
        assert not (host_b.instances_dir / reader.uuid / "disk").exists()
        assert f"{reader.uuid}_disk" in ceph_cluster.images("vms")
        assert not list((host_b.instances_dir / reader.uuid).glob("*volume*"))  # the volume is no file here
        host_b.detach_volume(reader.uuid, volume_id)
        shell.close()
    finally:
        host_a.destroy(writer.uuid)
        host_b.destroy(reader.uuid)
        ceph_cluster.rbd("rm", "--no-progress", f"volumes/{image}")


@long_test
def test_an_unshelved_guest_is_a_flattened_clone_of_its_raw_snapshot(ceph_cluster, tiny_image, tmp_path):
    """Shelve's offload: the RBD root disk saved as a raw image (which the image service keeps in the cluster
    too), then the guest destroyed with its disk; unshelve: a clone of that image again, flattened, so the
    snapshot can be deleted once the guest runs; what the guest wrote is on it."""
    host = rbd_rooted_driver(ceph_cluster, tmp_path / "host")
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1)
        try:
            host.spawn(spec)
            shell = unix_shell(host.console_socket(spec.uuid, "serial")).ready(180)
            shell.run(f"echo rbd-marker-$((6*7)) | dd of=/dev/vda bs=512 seek={SECTOR} conv=fsync,notrunc")
            shell.close()
            host.power_off(spec.uuid, timeout=0)
            snapshot = tmp_path / "shelved.raw"
            assert host.snapshot(spec.uuid, str(snapshot)) == "raw"
            host.destroy(spec.uuid)
            assert f"{spec.uuid}_disk" not in ceph_cluster.images("vms")
        finally:
            host.destroy(spec.uuid)
    with image_in_ceph(ceph_cluster, SimpleNamespace(path=snapshot)) as shelved_id:  # as the image service keeps it
        unshelved = dataclasses.replace(spec, image_rbd=f"images/{shelved_id}@snap", flatten_root=True)
        try:
            host.spawn(unshelved)
            assert "parent" not in disk_of(ceph_cluster, spec.uuid)  # flattened: the snapshot may go
        except BaseException:
            host.destroy(spec.uuid)
            raise
    try:
        shell = unix_shell(host.console_socket(spec.uuid, "serial")).ready(180)
        assert sector_marker(shell) == "rbd-marker-42"
        shell.close()
    finally:
        host.destroy(spec.uuid)
    assert f"{spec.uuid}_disk" not in ceph_cluster.images("vms")
