"""Rescue in a real QEMU guest through the driver: the guest boots from a rescue disk made from the rescue image
and sees its own root disk as its second disk (a marker written on the root before the rescue is read from
/dev/vdb); a rescue repeated (a crash retried) boots the same rescue disk; unrescue boots the original root
again (the marker on /dev/vda) and removes the rescue disk; delete leaves nothing."""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path

import pytest

from onestack.drivers import specfile
from onestack.drivers.compute import InstanceSpec
from onestack.drivers.qemu import QemuDriver, accel
from onestack.drivers.qemu.layout import InstanceDir
from tests.drivers import serial

# one worker runs both tests, so they share the module's guest
pytestmark = [pytest.mark.qemu, pytest.mark.xdist_group("qemu-rescue")]

if not shutil.which(accel.QEMU):
    pytest.skip("qemu-system-x86 is not installed (make install installs it)", allow_module_level=True)

# far past the tiny image's own data, inside the 1 GB root disk: writing here breaks nothing the guest boots
MARKER_MIB = 512


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    chosen, _ = accel.choose(Path.home() / ".cache" / "onestack")
    return QemuDriver(tmp_path_factory.mktemp("qemu-state"), accel=chosen)


def shell_of(driver: QemuDriver, uuid_: str) -> serial.Shell:
    return serial.unix_shell(driver.console_socket(uuid_, "serial")).ready()


def read_marker(shell: serial.Shell, device: str) -> str:
    return shell.run(f"dd if={device} bs=1M skip={MARKER_MIB} count=1 2>/dev/null | head -c 32 | tr -dc a-z0-9-")


def disks_seen(shell: serial.Shell) -> list[str]:
    return shell.run("ls /sys/block | grep ^vd").split()


def spawned_with_marker(driver: QemuDriver, tiny_image, number: int) -> tuple[InstanceSpec, InstanceDir, str]:
    """A tiny guest spawned with a marker written on its root disk, the only disk it sees."""
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name=f"instance-{number:08x}", hostname="rescue", vcpus=1,
                        memory_mb=192, root_gb=1, image_path=str(tiny_image.path))
    marker = f"root-{uuid.uuid4().hex[:12]}"
    try:
        driver.spawn(spec)
        shell = shell_of(driver, spec.uuid)
        assert disks_seen(shell) == ["vda"]
        shell.run(f"echo {marker} | dd of=/dev/vda bs=1M seek={MARKER_MIB} conv=fsync 2>/dev/null")
        assert read_marker(shell, "/dev/vda") == marker
        shell.close()
    except BaseException:
        driver.destroy(spec.uuid)  # a guest that did not come up as wanted is not left behind
        raise
    return spec, InstanceDir(driver.instances_dir / spec.uuid), marker


@pytest.fixture(scope="module")
def guest(driver, tiny_image):
    """One guest both tests rescue (booting it is most of their time): the stable rescue first, which leaves
    it unrescued with its marker, then the classic one, which deletes it."""
    spec, where, marker = spawned_with_marker(driver, tiny_image, 0xc1)
    yield spec, where, marker
    driver.destroy(spec.uuid)


def rescue_device_shown(driver: QemuDriver, uuid_: str) -> tuple[int, str]:
    """(the rescue device's boot index, the file its drive opened), as the running QEMU reports them."""
    with driver._qmp(uuid_) as qmp:
        index = qmp.execute("qom-get", path="/machine/peripheral/disk-rescue", property="bootindex")
        drives = {b["device"]: b for b in qmp.execute("query-block")}
    return index, drives["drive-rescue"]["inserted"]["file"]


def test_a_stable_rescue_keeps_the_root_disk_first_and_boots_the_rescue_disk_on_each_bus(driver, tiny_image, guest):
    spec, where, marker = guest
    rescue = dataclasses.replace(spec, rescue_image_path=str(tiny_image.path), rescue_device="disk",
                                 rescue_bus="virtio")
    driver.reboot(rescue, hard=True)
    shell = shell_of(driver, spec.uuid)
    assert disks_seen(shell) == ["vda", "vdb"]
    assert read_marker(shell, "/dev/vda") == marker  # the root disk stays where it was
    assert read_marker(shell, "/dev/vdb") == ""  # the rescue disk, added last
    shell.close()
    assert rescue_device_shown(driver, spec.uuid) == (0, str(where.rescue_disk))
    assert specfile.load(where.spec_file).rescue_bus == "virtio"

    # every other bus QEMU is given: it starts with the rescue disk there, first in the boot order
    for device, bus in (("disk", "scsi"), ("cdrom", "scsi"), ("disk", "usb"), ("disk", "ide"), ("cdrom", "ide")):
        driver.reboot(dataclasses.replace(rescue, rescue_device=device, rescue_bus=bus), hard=True)
        assert rescue_device_shown(driver, spec.uuid) == (0, str(where.rescue_disk)), (device, bus)

    driver.reboot(spec, hard=True)  # unrescue
    assert not where.rescue_disk.exists()
    shell = shell_of(driver, spec.uuid)
    assert disks_seen(shell) == ["vda"] and read_marker(shell, "/dev/vda") == marker
    shell.close()


def test_rescue_boots_the_rescue_disk_with_the_root_disk_second(driver, tiny_image, guest):
    spec, where, marker = guest
    try:
        rescue = dataclasses.replace(spec, rescue_image_path=str(tiny_image.path))
        driver.reboot(rescue, hard=True)
        assert where.rescue_disk.exists()
        assert specfile.load(where.spec_file).rescue_image_path == str(tiny_image.path)
        shell = shell_of(driver, spec.uuid)
        assert disks_seen(shell) == ["vda", "vdb"]
        assert read_marker(shell, "/dev/vdb") == marker  # the original root disk, to repair
        assert read_marker(shell, "/dev/vda") == ""  # booted from the fresh rescue disk (zeros there)
        shell.run(f"echo rescue-{marker} | dd of=/dev/vda bs=1M seek={MARKER_MIB} conv=fsync 2>/dev/null")
        shell.close()

        # the rescue step again (the compute service retries it after a crash): the same rescue disk boots
        driver.reboot(rescue, hard=True)
        shell = shell_of(driver, spec.uuid)
        assert read_marker(shell, "/dev/vda") == f"rescue-{marker}"
        assert read_marker(shell, "/dev/vdb") == marker
        shell.close()

        driver.reboot(spec, hard=True)  # unrescue
        assert not where.rescue_disk.exists()
        shell = shell_of(driver, spec.uuid)
        assert disks_seen(shell) == ["vda"]
        assert read_marker(shell, "/dev/vda") == marker
        shell.close()

        driver.reboot(rescue, hard=True)  # rescued again, then deleted: nothing stays
        assert where.rescue_disk.exists()
    finally:
        driver.destroy(spec.uuid)
    assert not where.root.exists()
