"""The QEMU driver booting onestack-tiny for real (TCG here; KVM where it works).

One guest is booted with a config drive and a NIC on a private bridge, then taken through the
power actions in order (one test, ``test_guest_lifecycle``, so no test runner can reorder or split
the steps: each builds on the state the previous one left; a failure names its step).
The network is a bridge with no address on the host, a veth into a namespace made here and
busybox udhcpd in it: guest traffic never reaches the host's own networks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from onestack.drivers import configdrive
from onestack.drivers.compute import NIC, DriverError, InstanceSpec, PowerState
from onestack.drivers.pidfiles import wait_gone
from onestack.drivers.qemu import QemuDriver, accel
from onestack.drivers.qemu.disks import info as disk_info
from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.qemu.process import running_pid

pytestmark = pytest.mark.qemu

if os.geteuid() != 0:
    pytest.skip("tap devices and network namespaces need root", allow_module_level=True)
if not shutil.which(accel.QEMU):
    pytest.skip("qemu-system-x86 is not installed (make install installs it)", allow_module_level=True)

SUFFIX = uuid.uuid4().hex[:6]
BRIDGE, NETNS, VETH_HOST, VETH_NS = f"osbr{SUFFIX}", f"ostest-{SUFFIX}", f"osvh{SUFFIX}", f"osvn{SUFFIX}"
GATEWAY = "10.213.0.1"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOnestackTinyTestKeyOnlyForTheTest test@onestack"
BOOT_SECONDS = 90  # TCG on a loaded 2-core machine; a boot takes ~5s when idle


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def accel_choice():
    # Remembered per host boot outside the test's state dir, so only the first run pays the probe.
    return accel.choose(Path.home() / ".cache" / "onestack")


@pytest.fixture(scope="module")
def driver(tmp_path_factory, accel_choice):
    return QemuDriver(tmp_path_factory.mktemp("qemu-state"), accel=accel_choice[0])


@pytest.fixture(scope="module")
def lan(tmp_path_factory):
    """A bridge the test's taps join, and a namespace on it serving DHCP."""
    work = tmp_path_factory.mktemp("lan")
    sh("ip", "netns", "add", NETNS)
    dhcpd = httpd = None
    try:
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "link", "set", BRIDGE, "up")
        sh("ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS)
        sh("ip", "link", "set", VETH_HOST, "master", BRIDGE, "up")
        sh("ip", "link", "set", VETH_NS, "netns", NETNS)
        sh("ip", "-n", NETNS, "addr", "add", f"{GATEWAY}/24", "dev", VETH_NS)
        sh("ip", "-n", NETNS, "link", "set", VETH_NS, "up")
        sh("ip", "-n", NETNS, "link", "set", "lo", "up")
        conf = work / "udhcpd.conf"
        conf.write_text(f"start 10.213.0.100\nend 10.213.0.150\ninterface {VETH_NS}\n"
                        f"lease_file {work / 'leases'}\noption subnet 255.255.255.0\noption router {GATEWAY}\n")
        (work / "leases").touch()
        dhcpd = subprocess.Popen(["ip", "netns", "exec", NETNS, "busybox", "udhcpd", "-f", str(conf)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the metadata service, as guests reach it: 169.254.169.254 behind their default gateway
        metadata = work / "metadata" / "openstack" / "latest"
        metadata.mkdir(parents=True)
        (metadata / "meta_data.json").write_text('{"uuid": "x", "hostname": "tiny-md", "public_keys": {}}')
        (metadata / "user_data").write_text("#!/bin/sh\necho metadata user-data ran\n")
        sh("ip", "-n", NETNS, "addr", "add", "169.254.169.254/32", "dev", VETH_NS)
        httpd = subprocess.Popen(["ip", "netns", "exec", NETNS, "busybox", "httpd", "-f", "-p", "169.254.169.254:80",
                                  "-h", str(work / "metadata")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield BRIDGE
    finally:
        for server in (dhcpd, httpd):
            if server:
                server.send_signal(signal.SIGTERM)
                server.wait(10)
        sh("ip", "link", "del", VETH_HOST, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)
        sh("ip", "netns", "del", NETNS, check=False)


def make_nic(bridge: str | None, index: int) -> NIC:
    port = str(uuid.uuid4())
    nic = NIC(port_id=port, mac_address=f"fa:16:3e:{SUFFIX[:2]}:{SUFFIX[2:4]}:{index:02x}",
              tap_name=f"tap{port[:11]}")
    if bridge:  # the network data plane's job: plug the tap into its bridge before the guest starts
        sh("ip", "tuntap", "add", "dev", nic.tap_name, "mode", "tap")
        sh("ip", "link", "set", nic.tap_name, "master", bridge, "up")
    return nic


@pytest.fixture(scope="module")
def guest(driver, tiny_image, lan, tmp_path_factory):
    work = tmp_path_factory.mktemp("guest")
    spec_uuid = str(uuid.uuid4())
    meta = {"uuid": spec_uuid, "name": "tiny", "hostname": "tiny-test", "public_keys": {"test": KEY + "\n"}}
    drive = configdrive.build(work / "config.iso", {
        "openstack/latest/meta_data.json": json.dumps(meta).encode(),
        "openstack/latest/user_data": b"#!/bin/sh\necho \"user-data says hello from $(hostname)\"\n"})
    spec = InstanceSpec(uuid=spec_uuid, name="instance-00000001", hostname="tiny-test", vcpus=1, memory_mb=256,
                        root_gb=1, swap_mb=32, image_path=str(tiny_image.path), image_format="qcow2",
                        nics=(make_nic(lan, 1),), config_drive=str(drive))
    yield spec
    driver.destroy(spec.uuid)
    for nic in spec.nics:  # even if a failed step lost the instance's files, leave no tap behind
        sh("ip", "link", "del", nic.tap_name, check=False)


def markers(driver: QemuDriver, uuid_: str) -> list[str]:
    return re.findall(r"onestack-tiny: up .*", driver.console_output(uuid_))


def wait_for_boot(driver: QemuDriver, uuid_: str, count: int) -> str:
    """The ``count``-th marker line once it is on the console."""
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        found = markers(driver, uuid_)
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.2)
    pytest.fail(f"no boot #{count} within {BOOT_SECONDS}s; console:\n{driver.console_output(uuid_, 30)}")


def wait_state(driver: QemuDriver, uuid_: str, state: PowerState, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while driver.instance_info(uuid_).power_state != state and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.instance_info(uuid_).power_state == state


def ping(address: str, tries: int = 10) -> bool:
    for _ in range(tries):
        if sh("ip", "netns", "exec", NETNS, "busybox", "ping", "-c", "1", "-W", "1", address, check=False).returncode == 0:
            return True
    return False


def guest_address(marker: str) -> str:
    return re.search(r"addresses=(10\.213\.0\.\d+)", marker).group(1)


def test_accel_is_decided_by_trying(accel_choice):
    chosen, why = accel_choice
    assert chosen in ("kvm", "tcg") and why
    if chosen != "kvm":
        pytest.skip(f"KVM does not run guests on this host ({why}); guests run under TCG")


def step_boot_with_config_drive(driver, guest):
    driver.spawn(guest)
    driver.spawn(guest)  # idempotent: still one QEMU
    marker = wait_for_boot(driver, guest.uuid, 1)
    assert "hostname=tiny-test" in marker and "source=config-drive" in marker and "keys=1" in marker
    deadline = time.monotonic() + 30
    while "user-data exit=0" not in driver.console_output(guest.uuid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "user-data says hello from tiny-test" in driver.console_output(guest.uuid)
    assert ping(guest_address(marker))
    info = driver.instance_info(guest.uuid)
    assert (info.power_state, info.vcpus, info.memory_mb) == (PowerState.RUNNING, 1, 256)
    assert driver.list_instances() == [guest.uuid]


def step_pause_and_unpause(driver, guest):
    driver.pause(guest.uuid)
    driver.pause(guest.uuid)
    assert driver.instance_info(guest.uuid).power_state == PowerState.PAUSED
    assert not ping(guest_address(markers(driver, guest.uuid)[-1]), tries=1)
    driver.unpause(guest.uuid)
    assert driver.instance_info(guest.uuid).power_state == PowerState.RUNNING
    assert ping(guest_address(markers(driver, guest.uuid)[-1]))


def step_a_new_driver_adopts_the_running_guest(driver, guest):
    where = driver.instances_dir / guest.uuid
    pid = running_pid(InstanceDir(where), guest.uuid)
    assert pid
    adopter = QemuDriver(driver.state_dir, accel=driver.accel)
    assert adopter.list_instances() == [guest.uuid]
    assert adopter.instance_info(guest.uuid).power_state == PowerState.RUNNING
    adopter.pause(guest.uuid)
    assert driver.instance_info(guest.uuid).power_state == PowerState.PAUSED
    adopter.unpause(guest.uuid)
    del adopter
    assert running_pid(InstanceDir(where), guest.uuid) == pid  # nobody killed it


def step_soft_reboot(driver, guest):
    driver.reboot(guest, hard=False)
    marker = wait_for_boot(driver, guest.uuid, 2)
    assert ping(guest_address(marker))


def step_power_off_and_on(driver, guest):
    started = time.monotonic()
    driver.power_off(guest.uuid, timeout=30)
    assert time.monotonic() - started < 25, "the guest ignored the ACPI power button"
    assert driver.instance_info(guest.uuid).power_state == PowerState.SHUTDOWN
    assert "onestack-tiny: shutting down" in driver.console_output(guest.uuid)
    driver.power_off(guest.uuid)  # already off: nothing to do
    driver.power_on(guest)
    wait_for_boot(driver, guest.uuid, 3)


def step_suspend_and_resume(driver, guest):
    driver.suspend(guest.uuid)
    assert driver.instance_info(guest.uuid).power_state == PowerState.SUSPENDED
    assert (driver.instances_dir / guest.uuid / "suspended.state").stat().st_size > 0
    driver.resume(guest)
    assert driver.instance_info(guest.uuid).power_state == PowerState.RUNNING
    assert len(markers(driver, guest.uuid)) == 3  # the same boot continues
    assert ping(guest_address(markers(driver, guest.uuid)[-1]))


def step_attach_and_detach_interface(driver, guest):
    extra = make_nic(None, 2)  # the driver creates the tap itself
    driver.attach_interface(guest.uuid, extra)
    assert Path("/sys/class/net", extra.tap_name).exists()
    spec_text = (driver.instances_dir / guest.uuid / "spec.json").read_text()
    assert extra.port_id in spec_text
    time.sleep(1)  # let the guest finish the ACPI hot-add before asking it to eject
    driver.detach_interface(guest.uuid, extra)
    assert not Path("/sys/class/net", extra.tap_name).exists()
    assert extra.port_id not in (driver.instances_dir / guest.uuid / "spec.json").read_text()


def step_snapshot_boots_with_its_identity_from_the_metadata_service(driver, guest, lan, tmp_path):
    """The snapshot boots as a new guest with no config drive, on the LAN: its name and user data come from the
    metadata service behind its gateway."""
    target = tmp_path / "snap.qcow2"
    assert driver.snapshot(guest.uuid, str(target)) == "qcow2"
    assert driver.instance_info(guest.uuid).power_state == PowerState.RUNNING
    facts = disk_info(target)
    assert facts["format"] == "qcow2" and "backing-filename" not in facts
    copy = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-00000002", hostname="copy", vcpus=1,
                        memory_mb=192, root_gb=1, image_path=str(target), image_format="qcow2",
                        nics=(make_nic(lan, 4),))
    driver.spawn(copy)
    try:
        marker = wait_for_boot(driver, copy.uuid, 1)
        assert "hostname=tiny-md" in marker and "source=metadata-service" in marker
        deadline = time.monotonic() + 30
        while "user-data exit=0" not in driver.console_output(copy.uuid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "metadata user-data ran" in driver.console_output(copy.uuid)
        # a QEMU that dies is a guest that is off, not a missing one
        pid = int((driver.instances_dir / copy.uuid / "qemu.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        wait_state(driver, copy.uuid, PowerState.SHUTDOWN)
    finally:
        driver.destroy(copy.uuid)
        tap_left = Path("/sys/class/net", copy.nics[0].tap_name).exists()
        sh("ip", "link", "del", copy.nics[0].tap_name, check=False)
    assert not tap_left


def step_resize(driver, guest):
    bigger = InstanceSpec(**{**guest.__dict__, "vcpus": 2, "memory_mb": 320, "root_gb": 2})
    driver.resize(bigger)
    wait_for_boot(driver, guest.uuid, 4)
    info = driver.instance_info(guest.uuid)
    assert (info.vcpus, info.memory_mb) == (2, 320)
    assert disk_info(driver.instances_dir / guest.uuid / "disk", force_share=True)["virtual-size"] == 2 * 1024**3


def test_tap_that_cannot_exist_is_a_driver_error(driver, tiny_image):
    bad = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-00000003", hostname="bad", vcpus=1, memory_mb=128,
                       root_gb=1, image_path=str(tiny_image.path),
                       nics=(NIC(port_id="x", mac_address="fa:16:3e:00:00:09", tap_name="tap-name-far-too-long"),))
    with pytest.raises(DriverError):
        driver.spawn(bad)
    driver.destroy(bad.uuid)


def step_destroy_leaves_nothing(driver, guest):
    pid = int((driver.instances_dir / guest.uuid / "qemu.pid").read_text())
    driver.destroy(guest.uuid)
    driver.destroy(guest.uuid)
    assert wait_gone(pid, 5)  # gone, or a zombie until the host's init reaps it
    assert not (driver.instances_dir / guest.uuid).exists()
    assert not any(Path("/sys/class/net", nic.tap_name).exists() for nic in guest.nics)
    assert driver.instance_info(guest.uuid).power_state == PowerState.NOSTATE
    assert driver.list_instances() == []


def test_host_resources(driver):
    found = driver.host_resources()
    assert found.vcpus == os.cpu_count() and found.memory_mb > 0 and found.disk_gb >= 0


def test_guest_lifecycle(driver, guest, lan, tmp_path):
    step_boot_with_config_drive(driver, guest)
    step_pause_and_unpause(driver, guest)
    step_a_new_driver_adopts_the_running_guest(driver, guest)
    step_soft_reboot(driver, guest)
    step_power_off_and_on(driver, guest)
    step_suspend_and_resume(driver, guest)
    step_attach_and_detach_interface(driver, guest)
    step_snapshot_boots_with_its_identity_from_the_metadata_service(driver, guest, lan, tmp_path)
    step_resize(driver, guest)
    step_destroy_leaves_nothing(driver, guest)
