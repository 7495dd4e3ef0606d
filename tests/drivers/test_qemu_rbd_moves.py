"""Guests whose disks are all in Ceph (Nova's images_type rbd) on two QEMU "hosts" (drivers with state dirs of
their own, as in test_qemu_migration), against the throwaway cluster, in one story so that its guests boot
as few times as the steps allow:

- the root disk is ``vms/<uuid>_disk``, a clone of the image's ``images/<id>@snap`` grown to the flavor; the
  ephemeral and swap disks are ``vms/<uuid>_disk.local`` (ext4 labelled ephemeral0) and
  ``vms/<uuid>_disk.swap`` (swap0) beside it; no disk is a local file, QEMU opens each through librbd;
- an RBD volume (the connection Block Storage answers) is attached to that guest, written and detached on
  host A, then attached to a guest on host B and read back;
- live, only memory travels (no disk is mirrored, the destination's QEMU opens the same images); cold, to a
  larger flavor, the same root image is grown where it is and no other disk is copied; the source's release
  leaves the disks, which only ``destroy`` removes (also one whose marker a crash never wrote);
- rescue boots a file disk first with the RBD disks behind it; unrescue is a hard reboot on the same images;
- shelve saves the root disk as a raw image and destroys the guest; unshelve is a flattened clone of it;
- an image the cluster does not keep (the tiny guest's qcow2) is copied into Ceph whole as raw, and a copy
  cut short (``<name>.partial``) is made anew."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import uuid
from types import SimpleNamespace

import pytest

from onestack.drivers.compute import PowerState, VolumeDisk
from onestack.drivers.qemu import migration
from tests.drivers.serial import unix_shell
from tests.drivers.test_qemu_migration import SECTOR, migrate, uptime
from tests.drivers.test_qemu_rbd import first_bytes, image_in_ceph, rbd_connection, rbd_rooted_driver
from tests.drivers.test_qemu_volumes import spec_of, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.ceph, pytest.mark.xdist_group("ceph")]

if os.geteuid() != 0:
    pytest.skip("QEMU's sockets and taps need root here", allow_module_level=True)

MiB = 1024**2
GiB = 1024**3


def image_info(ceph_cluster, name: str) -> dict:
    return json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{name}"))


def disk_of(ceph_cluster, uuid: str) -> dict:
    return image_info(ceph_cluster, f"{uuid}_disk")


def read_at(shell, device: str, offset: int, count: int) -> str:
    return shell.run(f"dd if=/dev/{device} bs=1 skip={offset} count={count} 2>/dev/null")


def sector_marker(shell, device: str = "vda") -> str:
    return shell.run(f"dd if=/dev/{device} bs=512 skip={SECTOR} count=1 2>/dev/null | head -c 13")


def eph_marker(shell, device: str = "vdb") -> str:
    return shell.run(f"dd if=/dev/{device} bs=512 skip={SECTOR // 4} count=1 2>/dev/null | head -c 13")


def sees_its_disks(shell, devices: tuple[str, ...] = ("vda", "vdb", "vdc")) -> None:
    """``devices`` ends with the root disk, the 1 GiB ephemeral disk (ext4 ephemeral0) and the 64 MiB swap
    (swap0); a rescued guest's rescue disk comes first."""
    assert shell.run("ls /sys/block").split() == list(devices)
    _, eph, swap = devices[-3:]
    assert shell.run(f"cat /sys/block/{eph}/size") == str(GiB // 512)
    assert shell.run(f"cat /sys/block/{swap}/size") == str(64 * MiB // 512)
    assert read_at(shell, eph, 1024 + 120, 10) == "ephemeral0"  # ext4 superblock's volume name
    assert read_at(shell, swap, 1024 + 28, 5) == "swap0"  # swap header's label
    assert read_at(shell, swap, 4096 - 10, 10) == "SWAPSPACE2"


def test_guests_on_rbd_disks_move_rescue_shelve_and_share_a_volume_across_hosts(ceph_cluster, tiny_image,
                                                                                tmp_path):
    host_a = rbd_rooted_driver(ceph_cluster, tmp_path / "host-a")
    host_b = rbd_rooted_driver(ceph_cluster, tmp_path / "host-b")
    volume_id = str(uuid.uuid4())
    volume = f"volume-{volume_id}"
    ceph_cluster.rbd("create", "--size", "64M", f"volumes/{volume}")
    disk = VolumeDisk.from_connection(rbd_connection(ceph_cluster, volume_id, volume))
    assert disk.rbd == {"conf": ceph_cluster.conf, "user": ceph_cluster.client, "keyring": ceph_cluster.keyring}
    # host B's guest boots from an image the cluster does not keep (the qcow2: clones need raw data), copied
    # into Ceph whole as raw; copies a crash cut short are only ``.partial`` names, made anew
    reader = spec_of(tiny_image, ephemeral_gb=1)
    for partial in (f"vms/{reader.uuid}_disk.local.partial", f"vms/{reader.uuid}_disk.partial"):
        ceph_cluster.rbd("create", "--size", "4M", partial)
    snapshot, spec = tmp_path / "shelved.raw", None
    try:
        with image_in_ceph(ceph_cluster, tiny_image) as image_id:
            spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1,
                           ephemeral_gb=1, swap_mb=64)
            names = {f"{spec.uuid}_disk", f"{spec.uuid}_disk.local", f"{spec.uuid}_disk.swap"}
            try:
                host_a.spawn(spec)
                host_b.spawn(reader)  # both guests boot at once
                moving_story(ceph_cluster, tiny_image, host_a, host_b, spec, names, disk, volume, reader,
                             snapshot, tmp_path)
            finally:
                host_b.destroy(spec.uuid)
                host_a.destroy(spec.uuid)
            assert not names & ceph_cluster.images("vms")  # destroy found the swap disk whose marker was lost
        with image_in_ceph(ceph_cluster, SimpleNamespace(path=snapshot)) as shelved_id:  # as the image service
            # keeps a shelved snapshot: unshelve is a clone of it, flattened so that the snapshot may go
            unshelved = dataclasses.replace(spec, root_gb=2, image_rbd=f"images/{shelved_id}@snap",
                                            flatten_root=True)
            try:
                host_a.spawn(unshelved)
                assert "parent" not in disk_of(ceph_cluster, spec.uuid)
            except BaseException:
                host_a.destroy(spec.uuid)
                raise
        try:
            shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
            assert sector_marker(shell) == "rbd-marker-42"
            shell.close()
        finally:
            host_a.destroy(spec.uuid)
        assert not {n for n in ceph_cluster.images("vms") if n.startswith(spec.uuid)}
    finally:
        host_b.destroy(reader.uuid)
        if spec is not None:
            host_a.destroy(spec.uuid)
        ceph_cluster.rbd("rm", "--no-progress", f"volumes/{volume}")
    assert not {n for n in ceph_cluster.images("vms") if n.startswith(reader.uuid)}


def moving_story(ceph_cluster, tiny_image, host_a, host_b, spec, names, disk, volume, reader, snapshot,
                 tmp_path) -> None:
    volume_id = disk.volume_id
    # -- on host A: the root disk a clone of the image, the ephemeral and swap disks beside it, no local disk
    made = disk_of(ceph_cluster, spec.uuid)
    assert (made["parent"]["pool"], made["parent"]["image"], made["parent"]["snapshot"]) == \
        ("images", spec.image_rbd.split("/")[1].split("@")[0], "snap")
    assert made["size"] == GiB
    assert names <= ceph_cluster.images("vms")
    ephemeral, swap = image_info(ceph_cluster, f"{spec.uuid}_disk.local"), \
        image_info(ceph_cluster, f"{spec.uuid}_disk.swap")
    assert (ephemeral["size"], swap["size"]) == (GiB, 64 * MiB)
    where_a = host_a.instances_dir / spec.uuid
    assert not [p.name for p in where_a.iterdir() if p.name.startswith("disk")]  # no local disk at all
    assert "watcher=" in ceph_cluster.rbd("status", f"vms/{spec.uuid}_disk.local")  # QEMU holds it
    shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
    sees_its_disks(shell)
    shell.run("echo memory-$((6*7)) > /tmp/marker")
    shell.run(f"echo rbd-marker-$((6*7)) | dd of=/dev/vda bs=512 seek={SECTOR} conv=fsync,notrunc")
    shell.run(f"echo eph-marker-$((6*7)) | dd of=/dev/vdb bs=512 seek={SECTOR // 4} conv=fsync,notrunc")
    # the RBD volume: attached (the fourth disk, its serial the volume id), written, detached
    host_a.attach_volume(spec.uuid, disk)
    wait_for(lambda: "vdd" in shell.run("ls /sys/block"), 60, "the guest to see the RBD volume")
    assert shell.run("cat /sys/block/vdd/serial") == volume_id[:20]
    assert "watcher=" in ceph_cluster.rbd("status", f"volumes/{volume}")  # QEMU opened it through librbd
    assert shell.run("echo onestack-rbd-marker | dd of=/dev/vdd conv=fsync 2>/dev/null && echo ok") == "ok"
    host_a.detach_volume(spec.uuid, volume_id)
    assert shell.run("ls /sys/block").split() == ["vda", "vdb", "vdc"]
    assert first_bytes(ceph_cluster, volume, 20, tmp_path) == b"onestack-rbd-marker\n"
    before = uptime(shell)
    shell.close()

    # -- host B's guest (booted meanwhile from the qcow2's raw copy) reads the volume
    reader_story(ceph_cluster, tiny_image, host_b, reader, disk)

    # -- live to B: nothing mirrored, the destination's QEMU opens the same three images
    uri = host_b.prepare_incoming(spec, "127.0.0.1")
    assert migration.parse_uri(uri)[3] == []  # no disk to mirror
    where_b = host_b.instances_dir / spec.uuid
    assert not (where_b / "disk").exists()
    assert (where_b / "root.rbd").read_text().strip() == f"vms/{spec.uuid}_disk"
    assert (where_b / "eph0.rbd").read_text().strip() == f"vms/{spec.uuid}_disk.local"
    assert (where_b / "swap.rbd").read_text().strip() == f"vms/{spec.uuid}_disk.swap"
    host_b.abort_incoming(spec.uuid)  # a migration that will not come leaves the disks to the source
    assert names <= ceph_cluster.images("vms")
    statuses = migrate(host_a, host_b, spec)
    assert statuses[-1].startswith("completed"), statuses
    assert host_a.migration_progress(spec.uuid).disk_total == 0  # only memory travelled
    host_b.finish_incoming(spec.uuid)
    host_a.release(spec.uuid)
    assert host_a.list_instances() == []
    assert names <= ceph_cluster.images("vms")  # a release keeps the guest's disks
    moved = disk_of(ceph_cluster, spec.uuid)
    assert (moved["id"], moved["parent"]) == (made["id"], made["parent"])  # the same image, never copied
    assert image_info(ceph_cluster, f"{spec.uuid}_disk.local")["id"] == ephemeral["id"]
    assert not (where_b / "disk").exists()
    assert host_b.instance_info(spec.uuid).power_state == PowerState.RUNNING
    shell = unix_shell(host_b.console_socket(spec.uuid, "serial")).ready(60)
    assert shell.run("cat /tmp/marker") == "memory-42"
    assert uptime(shell) > before
    assert sector_marker(shell) == "rbd-marker-42"
    assert eph_marker(shell) == "eph-marker-42"
    shell.close()

    # -- cold, back to A on a flavor with a larger root disk: the same root image grown, nothing served
    host_b.power_off(spec.uuid, timeout=0)
    larger = dataclasses.replace(spec, root_gb=2)
    uri = host_b.export_disks(spec.uuid, "127.0.0.1")
    assert "ephemeral" not in uri and "swap" not in uri  # no disk of the guest is a file to copy
    try:
        host_a.import_disks(larger, uri)
    finally:
        host_b.end_export(spec.uuid)
    host_a.spawn(larger)
    host_b.release(spec.uuid)
    grown = disk_of(ceph_cluster, spec.uuid)
    assert (grown["id"], grown["size"]) == (made["id"], 2 * GiB)
    assert image_info(ceph_cluster, f"{spec.uuid}_disk.swap")["id"] == swap["id"]
    assert not (host_a.instances_dir / spec.uuid / "disk").exists()
    shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
    sees_its_disks(shell)
    assert sector_marker(shell) == "rbd-marker-42"
    assert eph_marker(shell) == "eph-marker-42"
    assert shell.run("cat /sys/block/vda/size") == str(2 * GiB // 512)
    shell.close()

    # -- rescue: a file disk beside the guest's other files, booted first; the RBD disks stay, behind it
    host_a.reboot(dataclasses.replace(larger, rescue_image_path=str(tiny_image.path)), hard=True)
    assert (where_a / "disk.rescue").exists() and not (where_a / "disk").exists()
    shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
    sees_its_disks(shell, ("vda", "vdb", "vdc", "vdd"))
    assert sector_marker(shell, "vdb") == "rbd-marker-42"
    shell.close()
    # unrescue: a hard reboot, a new QEMU on the same RBD disks
    host_a.reboot(larger, hard=True)
    assert not (where_a / "disk.rescue").exists()
    assert f"{spec.uuid}_disk" in ceph_cluster.images("vms")
    shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
    assert shell.run("ls /sys/block").split() == ["vda", "vdb", "vdc"]
    assert sector_marker(shell) == "rbd-marker-42"
    shell.close()

    # -- shelve's offload: the root disk saved raw (the image service keeps it in Ceph), the guest destroyed
    host_a.power_off(spec.uuid, timeout=0)
    assert host_a.snapshot(spec.uuid, str(snapshot)) == "raw"
    assert json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(snapshot)], check=True,
                                     capture_output=True, text=True).stdout)["format"] == "raw"
    # a crash between copying the swap disk in and naming it in its marker: destroy still finds it
    (where_a / "swap.rbd").unlink()
    host_a.destroy(spec.uuid)
    assert not names & ceph_cluster.images("vms")


def reader_story(ceph_cluster, tiny_image, host_b, reader, disk) -> None:
    """Host B's guest: its root disk a whole raw copy of the qcow2 in Ceph, made anew over the partial
    copies; it reads what host A's guest wrote on the volume."""
    assert ceph_cluster.images("vms") >= {f"{reader.uuid}_disk", f"{reader.uuid}_disk.local"}
    assert not {n for n in ceph_cluster.images("vms") if n.startswith(reader.uuid) and n.endswith(".partial")}
    assert image_info(ceph_cluster, f"{reader.uuid}_disk.local")["size"] == GiB
    root = image_info(ceph_cluster, f"{reader.uuid}_disk")
    assert "parent" not in root and root["size"] == GiB  # a whole copy, grown to the flavor's root_gb
    where = host_b.instances_dir / reader.uuid
    assert not (where / "disk").exists() and not (where / "disk.eph0").exists()
    # the raw copy holds the qcow2's data: the image's virtual size compared through qemu-img
    compared = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "raw", str(tiny_image.path),
                               f"rbd:vms/{reader.uuid}_disk:id={ceph_cluster.client}:conf={ceph_cluster.conf}"],
                              capture_output=True, text=True, timeout=300)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    shell = unix_shell(host_b.console_socket(reader.uuid, "serial")).ready(180)
    assert shell.run("ls /sys/block").split() == ["vda", "vdb"]
    assert read_at(shell, "vdb", 1024 + 120, 10) == "ephemeral0"
    host_b.attach_volume(reader.uuid, disk)
    wait_for(lambda: "vdc" in shell.run("ls /sys/block"), 60, "host B's guest to see the volume")
    assert shell.run("head -c 19 /dev/vdc") == "onestack-rbd-marker"
    assert not list(where.glob("*volume*"))  # the volume is no file here
    host_b.detach_volume(reader.uuid, disk.volume_id)
    assert shell.run("ls /sys/block").split() == ["vda", "vdb"]
    shell.close()
