"""A volume's connection as the guest's disk: what a host can open, its QoS keys as QEMU's throttle limits, and
the QEMU objects a disk becomes (the same on the command line and over QMP)."""

import json

import pytest

from onestack.drivers import specfile
from onestack.drivers.compute import DriverError, InstanceSpec, VolumeDisk
from onestack.drivers.qemu import volumes

VOLUME = "0f6b1f0e-3a4c-4b7e-9a55-0e6f8f3f5a11"


def connection(**data) -> dict:
    return {"driver_volume_type": "file", "data": {"path": "/v/volume.qcow2", "format": "qcow2",
                                                  "access_mode": "rw", "volume_id": VOLUME, **data}}


def test_a_file_connection_is_a_disk_with_its_front_end_limits():
    disk = VolumeDisk.from_connection(connection(qos_specs={
        "total_iops_sec": "500", "read_bytes_sec_max": 2048, "write_iops_sec": "0", "consumer": "front-end",
        "total_iops_sec_per_gb": "10"}))
    assert (disk.volume_id, disk.path, disk.format, disk.read_only) == (VOLUME, "/v/volume.qcow2", "qcow2", False)
    # zero means unlimited, and keys that are no limit of QEMU's are left out
    assert disk.throttle == {"iops-total": 500, "bps-read-max": 2048}
    assert VolumeDisk.from_connection(connection(access_mode="ro")).read_only


@pytest.mark.parametrize("bad", [
    {"driver_volume_type": "iscsi", "data": {"volume_id": VOLUME}},
    connection(path=""),
    connection(format="vmdk"),
    {},
])
def test_connections_a_host_cannot_open_are_driver_errors(bad):
    with pytest.raises(DriverError):
        VolumeDisk.from_connection(bad)


def test_every_disk_is_a_throttle_group_a_filter_and_a_device_with_the_volume_as_serial():
    disk = VolumeDisk(VOLUME, "/v/volume.qcow2", throttle={"bps-write": 1048576})
    names = volumes.Names.of(VOLUME)
    assert all(len(name) <= 31 for name in (names.node, names.throttled, names.group))
    argv = volumes.argv(disk)
    assert argv[0::2] == ["-object", "-blockdev", "-blockdev", "-device"]
    group, node, throttle, device = (json.loads(value) for value in argv[1::2])
    assert group == {"qom-type": "throttle-group", "id": names.group, "limits": {"bps-write": 1048576}}
    assert node["file"] == {"driver": "file", "filename": "/v/volume.qcow2"} and node["node-name"] == names.node
    assert (throttle["file"], throttle["throttle-group"]) == (names.node, names.group)
    assert (device["drive"], device["serial"], device["id"]) == (names.throttled, VOLUME, names.device)
    assert "bootindex" not in device
    # an unlimited disk has its (empty) group and filter too, so limits can come while the guest runs
    plain = [json.loads(value) for value in volumes.argv(VolumeDisk(VOLUME, "/v/v.qcow2", boot=True))[1::2]]
    assert plain[0] == {"qom-type": "throttle-group", "id": names.group, "limits": {}}
    assert plain[-1]["drive"] == names.throttled and plain[-1]["bootindex"] == 0


def test_the_spec_file_keeps_the_volumes(tmp_path):
    disk = VolumeDisk(VOLUME, "/v/volume.qcow2", boot=True, throttle={"iops-total": 5})
    spec = InstanceSpec(uuid="u", name="instance-1", hostname="h", vcpus=1, memory_mb=64, root_gb=0, volumes=(disk,))
    specfile.save(tmp_path / "spec.json", spec)
    assert specfile.load(tmp_path / "spec.json") == spec
    assert spec.boot_volume == disk
