"""FakeDriver keeps the interface's rules: idempotent calls, DriverError for impossible ones."""

from __future__ import annotations

import pytest

from onestack.drivers.compute import NIC, ComputeDriver, DriverError, HostResources, InstanceSpec, PowerState
from onestack.drivers.fake import FakeDriver

SPEC = InstanceSpec(uuid="11111111-2222-3333-4444-555555555555", name="instance-00000001", hostname="vm1",
                    vcpus=2, memory_mb=512, root_gb=1)
NIC1 = NIC(port_id="p1" * 18, mac_address="fa:16:3e:00:00:01", tap_name="tapp1p1p1p1p1p")


def state(driver: FakeDriver) -> PowerState:
    return driver.instance_info(SPEC.uuid).power_state


def test_lifecycle_and_idempotence(tmp_path):
    driver: ComputeDriver = FakeDriver()
    assert driver.instance_info(SPEC.uuid).power_state == PowerState.NOSTATE
    driver.spawn(SPEC)
    driver.spawn(SPEC)
    assert driver.list_instances() == [SPEC.uuid]
    assert driver.instance_info(SPEC.uuid) == driver.instance_info(SPEC.uuid)
    assert "hostname=vm1" in driver.console_output(SPEC.uuid)
    driver.pause(SPEC.uuid)
    driver.pause(SPEC.uuid)
    assert state(driver) == PowerState.PAUSED
    driver.unpause(SPEC.uuid)
    driver.suspend(SPEC.uuid)
    assert state(driver) == PowerState.SUSPENDED
    driver.resume(SPEC)
    driver.power_off(SPEC.uuid)
    driver.power_off(SPEC.uuid)
    assert state(driver) == PowerState.SHUTDOWN
    with pytest.raises(DriverError):
        driver.pause(SPEC.uuid)
    driver.power_on(SPEC)
    assert state(driver) == PowerState.RUNNING
    driver.reboot(SPEC, hard=False)
    assert len(driver.console_output(SPEC.uuid, length=3).split("\n")) == 3  # as Tempest counts them
    assert driver.snapshot(SPEC.uuid, str(tmp_path / "snap")) == "raw"
    assert (tmp_path / "snap").exists()
    driver.destroy(SPEC.uuid)
    driver.destroy(SPEC.uuid)
    assert driver.list_instances() == []


def test_resize_and_interfaces():
    driver = FakeDriver()
    driver.spawn(SPEC)
    bigger = InstanceSpec(**{**SPEC.__dict__, "vcpus": 4, "memory_mb": 1024})
    driver.resize(bigger)
    info = driver.instance_info(SPEC.uuid)
    assert (info.vcpus, info.memory_mb, info.power_state) == (4, 1024, PowerState.RUNNING)
    driver.attach_interface(SPEC.uuid, NIC1)
    driver.attach_interface(SPEC.uuid, NIC1)
    driver.reboot(bigger, hard=True)
    driver.detach_interface(SPEC.uuid, NIC1)
    with pytest.raises(DriverError):
        driver.attach_interface("missing", NIC1)


def test_host_resources_are_configurable():
    assert FakeDriver(HostResources(vcpus=2, memory_mb=1024, disk_gb=5)).host_resources().vcpus == 2
    assert FakeDriver().host_resources().vcpus > 0
