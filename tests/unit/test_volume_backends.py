"""The pieces between Block Storage's backends and QEMU, without a cluster: which backend a type chooses,
the ``rbd`` connection Block Storage answers, and the QEMU block nodes compute's driver makes of it."""

import json
import shutil

import pytest

from onestack.config import CephSettings, ComputeSettings, Settings, VolumeSettings
from onestack.drivers.compute import DriverError, InstanceSpec, VolumeDisk
from onestack.drivers.qemu import command, volumes
from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.volumefiles import VolumeFileError
from onestack.drivers.volumerbd import Ceph, CephError
from onestack.services.compute.service.host_drivers import rbd_disks
from onestack.services.volume.public import Connection
from onestack.services.volume.service.stores import VolumeStores


def stores(tmp_path, **ceph) -> VolumeStores:
    return VolumeStores(Settings(data_dir=tmp_path, ceph=CephSettings(**ceph),
                                volume=VolumeSettings(default_backend="file")))


def test_a_type_chooses_its_backend_and_an_unknown_one_is_no_valid_backend(tmp_path):
    plain = stores(tmp_path)
    assert plain.rbd is None and plain.names() == ["file"]
    assert plain.of(None) is plain.files and plain.of("file") is plain.files
    with pytest.raises(VolumeFileError, match="No valid backend was found.*'ceph'"):
        plain.of("ceph")
    with_ceph = stores(tmp_path, conf="/etc/ceph/ceph.conf", volume_backend_name="fast")
    assert with_ceph.names() == ["file", "fast"]
    assert with_ceph.backend_for({"volume_backend_name": "fast"}) == "fast"
    assert with_ceph.backend_for({}) == "file"
    assert with_ceph.of("fast") is with_ceph.rbd and with_ceph.rbd.pool == "volumes"
    assert with_ceph.is_rbd("fast") and not with_ceph.is_rbd(None)


def test_an_rbd_connection_becomes_a_librbd_block_node(tmp_path):
    connection = Connection(path="volumes/volume-abc", access_mode="ro", volume_id="abc", format="raw",
                            driver_volume_type="rbd",
                            rbd={"conf": "/c/ceph.conf", "auth_username": "onestack", "keyring": "/c/k"}).as_dict()
    data = connection["data"]
    assert connection["driver_volume_type"] == "rbd" and "path" not in data
    assert (data["name"], data["auth_username"], data["auth_enabled"]) == ("volumes/volume-abc", "onestack", True)
    disk = VolumeDisk.from_connection(connection)
    assert (disk.path, disk.format, disk.read_only) == ("volumes/volume-abc", "raw", True)
    node = volumes.block_nodes(disk)[0]
    assert node["driver"] == "raw" and node["read-only"] is True
    assert node["file"] == {"driver": "rbd", "pool": "volumes", "image": "volume-abc", "conf": "/c/ceph.conf",
                            "user": "onestack"}


def test_a_connection_this_host_cannot_use_is_refused():
    with pytest.raises(DriverError, match="iscsi"):
        VolumeDisk.from_connection({"driver_volume_type": "iscsi", "data": {"volume_id": "x"}})
    with pytest.raises(DriverError):  # an rbd connection without the cluster's conf
        VolumeDisk.from_connection({"driver_volume_type": "rbd", "data": {"name": "volumes/v", "volume_id": "x"}})


@pytest.mark.skipif(not shutil.which("ceph"), reason="Ceph's tools are not installed: make ceph-packages")
def test_a_cluster_that_cannot_be_reached_is_a_clear_error(tmp_path):
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\nmon host = v2:127.0.0.1:9\n")
    with pytest.raises(CephError, match="did not answer ceph fsid within 3 s"):
        Ceph(str(conf), "onestack", timeout=3).check()


def test_root_disks_go_to_ceph_only_with_images_type_rbd_and_a_cluster(tmp_path):
    assert rbd_disks(Settings(data_dir=tmp_path, compute=ComputeSettings(images_type="rbd"))) is None
    assert rbd_disks(Settings(data_dir=tmp_path, ceph=CephSettings(conf="/c/ceph.conf"))) is None
    chosen = rbd_disks(Settings(data_dir=tmp_path, ceph=CephSettings(conf="/c/ceph.conf"),
                                compute=ComputeSettings(images_type="rbd")))
    assert chosen.pool == "vms" and chosen.name("u1") == "vms/u1_disk"
    where = InstanceDir(tmp_path / "i1")
    spec = InstanceSpec(uuid="u1", name="instance-1", hostname="h", vcpus=1, memory_mb=64, root_gb=1)
    args = command.argv(spec, where, "tcg", rbd_root=chosen.block_node("vms/u1_disk", "root-disk"))
    root = json.loads(args[args.index("-blockdev") + 1])
    assert root["file"] == {"driver": "rbd", "pool": "vms", "image": "u1_disk", "conf": "/c/ceph.conf",
                            "user": "onestack"}
    assert "drive=root-disk" in args[args.index("-blockdev") + 3] and "bootindex=0" in args[args.index("-blockdev") + 3]
    assert str(where.root_disk) not in " ".join(args)


def test_ephemeral_and_swap_disks_in_ceph_keep_the_guests_disk_order(tmp_path):
    """Whether a disk is a file or in Ceph, the guest sees root, ephemeral, swap, config drive in that order
    (PCI slots follow the command line); files keep drive ids numbered among files, the ids a live migration
    mirrors, and a disk in Ceph is never one of them."""
    chosen = rbd_disks(Settings(data_dir=tmp_path, ceph=CephSettings(conf="/c/ceph.conf"),
                                compute=ComputeSettings(images_type="rbd")))
    assert chosen.extra_name("u1", "ephemeral") == "vms/u1_disk.local"
    assert chosen.extra_name("u1", "swap") == "vms/u1_disk.swap"
    where = InstanceDir(tmp_path / "i1")
    where.root.mkdir()
    for made in (where.root_disk, where.swap_disk, where.config_drive):  # a legacy swap file, ephemeral in Ceph
        made.write_bytes(b"")
    spec = InstanceSpec(uuid="u1", name="instance-1", hostname="h", vcpus=1, memory_mb=64, root_gb=1,
                        ephemeral_gb=1, swap_mb=32)
    extras = {"ephemeral": chosen.block_node("vms/u1_disk.local", "ephemeral-disk")}
    args = command.argv(spec, where, "tcg", rbd_extras=extras)
    devices = disk_devices(args)
    assert [d.split(",")[2] for d in devices] == ["id=disk0", "id=disk-ephemeral", "id=disk1", "id=disk2"]
    assert "bootindex=0" in devices[0] and all("bootindex" not in d for d in devices[1:])
    node = json.loads(args[args.index("-blockdev") + 1])
    assert node["file"]["image"] == "u1_disk.local" and node["node-name"] == "ephemeral-disk"
    assert command.writable_drives(spec, where) == ["drive0", "drive1"]  # root and swap files, not the RBD disk
    # everything in Ceph: the root first and the boot device, then ephemeral and swap, then the config drive
    where.root_disk.unlink()
    where.swap_disk.unlink()
    extras["swap"] = chosen.block_node("vms/u1_disk.swap", "swap-disk")
    args = command.argv(spec, where, "tcg", rbd_root=chosen.block_node("vms/u1_disk", "root-disk"), rbd_extras=extras)
    devices = disk_devices(args)
    assert [d.split(",")[2] for d in devices] == ["id=disk-root", "id=disk-ephemeral", "id=disk-swap", "id=disk0"]
    assert command.writable_drives(spec, where) == []


def disk_devices(args: list[str]) -> list[str]:
    return [arg for previous, arg in zip(args, args[1:], strict=False) if previous == "-device" and "virtio-blk" in arg]
