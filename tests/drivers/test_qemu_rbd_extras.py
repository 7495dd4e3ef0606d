"""A guest's ephemeral and swap disks in Ceph (Nova's images_type rbd: ``vms/<uuid>_disk.local`` and
``vms/<uuid>_disk.swap`` beside the root disk's clone), against the throwaway cluster: made formatted (ext4
labelled ephemeral0, swap labelled swap0), opened by QEMU through librbd (no local file), in the guest's
order after the root disk; a live move mirrors no disk and a cold move copies none (the destination opens
the same images); destroy removes them, also one whose marker a crash never wrote."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest

from onestack.drivers.compute import DriverError
from onestack.drivers.qemu import QemuDriver, accel, migration
from onestack.drivers.qemu.rbddisks import RBDDisks
from onestack.drivers.volumerbd import Ceph
from tests.cephcluster import long_test
from tests.drivers.serial import unix_shell
from tests.drivers.test_qemu_migration import SECTOR, migrate
from tests.drivers.test_qemu_rbd import image_in_ceph, rbd_rooted_driver
from tests.drivers.test_qemu_volumes import spec_of

pytestmark = [pytest.mark.qemu, pytest.mark.ceph, pytest.mark.xdist_group("ceph")]

if os.geteuid() != 0:
    pytest.skip("QEMU's sockets and taps need root here", allow_module_level=True)

MiB = 1024**2


def image_info(ceph_cluster, name: str) -> dict:
    return json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{name}"))


def read_at(shell, device: str, offset: int, count: int) -> str:
    return shell.run(f"dd if=/dev/{device} bs=1 skip={offset} count={count} 2>/dev/null")


def sees_its_disks(shell) -> None:
    """vda the root disk, vdb the 1 GiB ephemeral disk (ext4 ephemeral0), vdc the 64 MiB swap (swap0)."""
    assert shell.run("ls /sys/block").split() == ["vda", "vdb", "vdc"]
    assert shell.run("cat /sys/block/vdb/size") == str(1024**3 // 512)
    assert shell.run("cat /sys/block/vdc/size") == str(64 * MiB // 512)
    assert read_at(shell, "vdb", 1024 + 120, 10) == "ephemeral0"  # ext4 superblock's volume name
    assert read_at(shell, "vdc", 1024 + 28, 5) == "swap0"  # swap header's label
    assert read_at(shell, "vdc", 4096 - 10, 10) == "SWAPSPACE2"


@long_test
def test_ephemeral_and_swap_disks_live_in_ceph_and_move_without_a_copy(ceph_cluster, tiny_image, tmp_path):
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        host_a = rbd_rooted_driver(ceph_cluster, tmp_path / "host-a")
        host_b = rbd_rooted_driver(ceph_cluster, tmp_path / "host-b")
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1,
                       ephemeral_gb=1, swap_mb=64)
        names = {f"{spec.uuid}_disk", f"{spec.uuid}_disk.local", f"{spec.uuid}_disk.swap"}
        try:
            host_a.spawn(spec)
            assert names <= ceph_cluster.images("vms")
            ephemeral, swap = image_info(ceph_cluster, f"{spec.uuid}_disk.local"), \
                image_info(ceph_cluster, f"{spec.uuid}_disk.swap")
            assert (ephemeral["size"], swap["size"]) == (1024**3, 64 * MiB)
            where_a = host_a.instances_dir / spec.uuid
            assert not [p.name for p in where_a.iterdir() if p.name.startswith("disk")]  # no local disk at all
            assert "watcher=" in ceph_cluster.rbd("status", f"vms/{spec.uuid}_disk.local")  # QEMU holds it
            shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
            sees_its_disks(shell)
            shell.run(f"echo eph-marker-$((6*7)) | dd of=/dev/vdb bs=512 seek={SECTOR // 4} conv=fsync,notrunc")
            shell.close()

            # live: only memory travels, the destination's QEMU opens the same three images
            uri = host_b.prepare_incoming(spec, "127.0.0.1")
            assert migration.parse_uri(uri)[3] == []  # no disk to mirror
            where_b = host_b.instances_dir / spec.uuid
            assert (where_b / "eph0.rbd").read_text().strip() == f"vms/{spec.uuid}_disk.local"
            assert (where_b / "swap.rbd").read_text().strip() == f"vms/{spec.uuid}_disk.swap"
            host_b.abort_incoming(spec.uuid)  # the source's guest keeps its disks
            assert names <= ceph_cluster.images("vms")
            statuses = migrate(host_a, host_b, spec)
            assert statuses[-1].startswith("completed"), statuses
            assert host_a.migration_progress(spec.uuid).disk_total == 0
            host_b.finish_incoming(spec.uuid)
            host_a.release(spec.uuid)
            assert names <= ceph_cluster.images("vms")  # a release keeps the guest's disks
            assert image_info(ceph_cluster, f"{spec.uuid}_disk.local")["id"] == ephemeral["id"]  # never copied
            shell = unix_shell(host_b.console_socket(spec.uuid, "serial")).ready(60)
            assert shell.run(f"dd if=/dev/vdb bs=512 skip={SECTOR // 4} count=1 2>/dev/null | head -c 13") \
                == "eph-marker-42"
            shell.close()

            # cold, back to A on a flavor with a larger root disk: nothing served, the same images opened
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
            assert image_info(ceph_cluster, f"{spec.uuid}_disk.swap")["id"] == swap["id"]
            shell = unix_shell(host_a.console_socket(spec.uuid, "serial")).ready(180)
            sees_its_disks(shell)
            assert shell.run(f"dd if=/dev/vdb bs=512 skip={SECTOR // 4} count=1 2>/dev/null | head -c 13") \
                == "eph-marker-42"
            shell.close()
            # a crash between copying the swap disk in and naming it in its marker: destroy still finds it
            (host_a.instances_dir / spec.uuid / "swap.rbd").unlink()
        finally:
            host_b.destroy(spec.uuid)
            host_a.destroy(spec.uuid)
        assert not names & ceph_cluster.images("vms")


@long_test
def test_a_qcow2_image_not_in_ceph_boots_from_a_raw_copy_and_half_made_disks_are_made_again(ceph_cluster,
                                                                                             tiny_image, tmp_path):
    """An image the cluster does not keep (the tiny guest's qcow2: clones need raw data) is copied into Ceph
    whole, converted to raw (Nova's rbd backend imports what it cannot clone), and the guest boots from it
    through librbd.  A copy cut short leaves only ``<name>.partial`` (never the real name): the next spawn
    makes the disk anew, and destroy leaves nothing."""
    host = rbd_rooted_driver(ceph_cluster, tmp_path / "host")
    spec = spec_of(tiny_image, ephemeral_gb=1)  # image_path only: its image is not in Ceph
    for partial in (f"vms/{spec.uuid}_disk.local.partial", f"vms/{spec.uuid}_disk.partial"):
        ceph_cluster.rbd("create", "--size", "4M", partial)
    try:
        host.spawn(spec)
        assert ceph_cluster.images("vms") >= {f"{spec.uuid}_disk", f"{spec.uuid}_disk.local"}
        assert not {n for n in ceph_cluster.images("vms") if n.startswith(spec.uuid) and n.endswith(".partial")}
        assert image_info(ceph_cluster, f"{spec.uuid}_disk.local")["size"] == 1024**3
        root = image_info(ceph_cluster, f"{spec.uuid}_disk")
        assert "parent" not in root and root["size"] == 1024**3  # a whole copy, grown to the flavor's root_gb
        where = host.instances_dir / spec.uuid
        assert not (where / "disk").exists() and not (where / "disk.eph0").exists()
        # the raw copy holds the qcow2's data: the image's virtual size compared through qemu-img
        compared = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "raw", str(tiny_image.path),
                                   f"rbd:vms/{spec.uuid}_disk:id={ceph_cluster.client}:conf={ceph_cluster.conf}"],
                                  capture_output=True, text=True, timeout=300)
        assert compared.returncode == 0, compared.stdout + compared.stderr
        shell = unix_shell(host.console_socket(spec.uuid, "serial")).ready(180)
        assert shell.run("ls /sys/block").split() == ["vda", "vdb"]
        assert read_at(shell, "vdb", 1024 + 120, 10) == "ephemeral0"
        shell.close()
    finally:
        host.destroy(spec.uuid)
    assert not {n for n in ceph_cluster.images("vms") if n.startswith(spec.uuid)}


@long_test
def test_a_guest_made_while_the_osd_is_down_fails_clearly_and_is_made_once_it_is_back(ceph_cluster, tiny_image,
                                                                                       tmp_path):
    """The cluster unreachable (its OSD stopped): the spawn fails with the reason, leaves no guest and no
    marker; once the OSD is back the same spawn makes every disk and the guest boots with them."""
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        ceph = Ceph(ceph_cluster.conf, ceph_cluster.client, ceph_cluster.keyring, timeout=8)
        host = QemuDriver(tmp_path / "host", accel=accel.choose(Path.home() / ".cache" / "onestack")[0],
                          rbd_disks=RBDDisks(ceph, "vms"))
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1,
                       ephemeral_gb=1, swap_mb=64)
        ceph_cluster.stop_osd()
        try:
            with pytest.raises(DriverError, match="did not answer"):
                host.spawn(spec)
            assert host.list_instances() == []
            assert not list((host.instances_dir / spec.uuid).glob("*.rbd"))
        finally:
            ceph_cluster.start_osd()
        try:
            host.spawn(spec)
            assert {f"{spec.uuid}_disk", f"{spec.uuid}_disk.local", f"{spec.uuid}_disk.swap"} <= \
                ceph_cluster.images("vms")
            shell = unix_shell(host.console_socket(spec.uuid, "serial")).ready(180)
            sees_its_disks(shell)
            shell.close()
        finally:
            host.destroy(spec.uuid)
        assert not {n for n in ceph_cluster.images("vms") if n.startswith(spec.uuid)}
