"""The QEMU command line of a rescued guest: Nova's rescue puts the rescue disk first in the root disk's place;
a stable device rescue keeps every disk (a boot volume too) where it was and adds the rescue disk last, on the
bus the rescue image names, first in the boot order."""

from __future__ import annotations

import json

import pytest

from onestack.drivers.compute import RESCUE_DEVICES, InstanceSpec, VolumeDisk
from onestack.drivers.qemu import command
from onestack.drivers.qemu.layout import InstanceDir


def devices(args: list[str]) -> list[dict]:
    """Each -device as a dict, in command-line order (key=value lists or JSON)."""
    found = []
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-device" and value.startswith("{"):
            found.append(json.loads(value))
        elif flag == "-device":  # "isa-serial,chardev=console": a leading bare word is the driver
            options = [o.split("=", 1) if "=" in o else ("driver", o) for o in value.split(",")]
            found.append({"id": "", **dict(options)})
    return found


def boot_order(args: list[str]) -> list[tuple[str, str]]:
    return sorted((str(d["bootindex"]), d["id"]) for d in devices(args) if "bootindex" in d)


@pytest.fixture
def where(tmp_path):
    found = InstanceDir(tmp_path / "instance")
    found.root.mkdir()
    for disk in (found.root_disk, found.rescue_disk):
        disk.write_bytes(b"")
    return found


def spec(**changes) -> InstanceSpec:
    return InstanceSpec(**{"uuid": "u1", "name": "instance-00000001", "hostname": "h", "vcpus": 1, "memory_mb": 128,
                           "root_gb": 1, "image_path": "/images/i", **changes})


def test_the_rescue_before_stable_rescue_boots_the_rescue_disk_in_the_root_disks_place(where):
    args = command.argv(spec(rescue_image_path="/images/r"), where, "tcg")
    assert [d["id"] for d in devices(args) if d["id"].startswith("disk")] == ["disk-rescue", "disk0"]
    assert boot_order(args) == [("0", "disk-rescue")]


@pytest.mark.parametrize(("device", "bus", "driver", "controller"), [
    ("disk", "virtio", "virtio-blk-pci", None), ("disk", "scsi", "scsi-hd", "virtio-scsi-pci"),
    ("cdrom", "scsi", "scsi-cd", "virtio-scsi-pci"), ("disk", "usb", "usb-storage", "qemu-xhci"),
    ("disk", "ide", "ide-hd", None), ("cdrom", "ide", "ide-cd", None)])
def test_a_stable_rescue_adds_the_rescue_disk_last_on_its_bus_booted_first(where, device, bus, driver, controller):
    args = command.argv(spec(rescue_image_path="/images/r", rescue_device=device, rescue_bus=bus), where, "tcg")
    disks = [d for d in devices(args) if d["id"].startswith("disk")]
    assert [d["id"] for d in disks] == ["disk0", "disk-rescue"]
    assert disks[-1]["driver"] == driver
    assert boot_order(args) == [("0", "disk-rescue"), ("1", "disk0")]
    assert any(d["driver"] == controller for d in devices(args)) is (controller is not None)
    rescue_drive = next(a for a in args if a.startswith(f"file={where.rescue_disk}"))
    assert ("readonly=on" in rescue_drive) is (device == "cdrom")


def test_a_stable_rescue_keeps_a_boot_volume_first_of_the_guests_own_disks(where):
    boot = VolumeDisk(volume_id="v1", path="/volumes/v1", format="raw", boot=True)
    data = VolumeDisk(volume_id="v2", path="/volumes/v2", format="raw")
    where.root_disk.unlink()
    args = command.argv(spec(image_path=None, volumes=(boot, data), rescue_image_path="/images/r",
                             rescue_device="disk", rescue_bus="virtio"), where, "tcg")
    ids = [d["id"] for d in devices(args)]
    assert ids.index("disk-rescue") == len(ids) - 1  # after both volumes
    order = boot_order(args)
    assert order[0] == ("0", "disk-rescue") and order[1][0] == "1" and len(order) == 2


def test_every_rescue_device_the_api_accepts_has_a_qemu_device():
    assert set(command.STABLE_RESCUE_DEVICES) == RESCUE_DEVICES
