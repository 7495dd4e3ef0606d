"""The container driver running onestack-tiny-container under real runc.

One container with one NIC is taken through its life in order (one test, so no runner can reorder
the steps; a failure names its step).  Its NIC's host end joins a bridge made here, beside a
namespace serving DHCP (busybox udhcpd) from which the test fetches the container's page: the
container's traffic never reaches the host's own networks.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from onestack.drivers import pidfiles
from onestack.drivers.compute import NIC, DriverError, InstanceSpec, PowerState
from onestack.drivers.runc import RuncDriver, network, overlay, runtime
from onestack.guestimage import container

if os.geteuid() != 0:
    pytest.skip("containers, veth pairs and namespaces need root", allow_module_level=True)
if not runtime.installed():
    pytest.skip("runc is not installed (make install installs it)", allow_module_level=True)

SUFFIX = uuid.uuid4().hex[:6]
BRIDGE, NETNS, VETH_HOST, VETH_NS = f"osbr{SUFFIX}", f"ostest-{SUFFIX}", f"osvh{SUFFIX}", f"osvn{SUFFIX}"
GATEWAY = "10.215.0.1"
CGROUPS = Path("/sys/fs/cgroup")


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def lan(tmp_path_factory):
    """A bridge for the container's host end, and a namespace on it serving DHCP."""
    work = tmp_path_factory.mktemp("lan")
    sh("ip", "netns", "add", NETNS)
    dhcpd = None
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
        conf.write_text(f"start 10.215.0.100\nend 10.215.0.150\ninterface {VETH_NS}\n"
                        f"lease_file {work / 'leases'}\noption subnet 255.255.255.0\noption router {GATEWAY}\n"
                        f"option dns {GATEWAY}\n")
        (work / "leases").touch()
        dhcpd = subprocess.Popen(["ip", "netns", "exec", NETNS, "busybox", "udhcpd", "-f", str(conf)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield BRIDGE
    finally:
        if dhcpd:
            dhcpd.send_signal(signal.SIGTERM)
            dhcpd.wait(10)
        sh("ip", "link", "del", VETH_HOST, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)
        sh("ip", "netns", "del", NETNS, check=False)


@pytest.fixture(scope="module")
def image():
    return container.build()


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("runc-state")


@pytest.fixture
def spec(image, lan, state_dir):
    port = str(uuid.uuid4())
    nic = NIC(port_id=port, mac_address=f"fa:16:3e:{SUFFIX[:2]}:{SUFFIX[2:4]}:01", tap_name=f"tap{port[:11]}")
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000c1", hostname="tiny-container", vcpus=1,
                        memory_mb=64, root_gb=1, image_path=str(image.path), nics=(nic,))
    yield spec
    RuncDriver(state_dir).destroy(spec.uuid)
    sh("ip", "link", "del", nic.tap_name, check=False)  # whatever a failed step left
    sh("ip", "netns", "del", network.netns_name(spec.uuid), check=False)


def wait_for(what, seconds: float, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(step)
    return what()


def markers(driver: RuncDriver, uuid_: str) -> list[str]:
    return re.findall(r"onestack-tiny-container: up hostname=\S+ addresses=(\S+)", driver.console_output(uuid_))


def page(address: str) -> str | None:
    # under timeout(1): Debian's static busybox wget crashes with -T
    done = sh("ip", "netns", "exec", NETNS, "timeout", "2", "busybox", "wget", "-q", "-O", "-", f"http://{address}/",
              check=False)
    return done.stdout if done.returncode == 0 else None


def cgroup_dirs(uuid_: str) -> list[Path]:
    return [p for p in CGROUPS.glob(f"*/onestack/{uuid_}") if p.exists()]


def cgroup_value(controller: str, uuid_: str, name: str) -> str:
    return (CGROUPS / controller / "onestack" / uuid_ / name).read_text().strip()


def plug(nic: NIC, bridge: str) -> None:
    """The network data plane's job: the host end, named as the tap, into the port's bridge."""
    sh("ip", "link", "set", nic.tap_name, "master", bridge, "up")


def test_container_lifecycle(spec, lan, state_dir):
    driver = RuncDriver(state_dir)
    nic = spec.nics[0]

    # spawn: the image unpacked once, the container running at once
    started = time.monotonic()
    driver.spawn(spec)
    first_spawn = time.monotonic() - started
    assert driver.instance_info(spec.uuid).power_state == PowerState.RUNNING, "spawn"
    plug(nic, lan)
    found = wait_for(lambda: markers(driver, spec.uuid), 30)
    assert found and found[0].startswith("10.215.0."), f"no address: {driver.console_output(spec.uuid)}"
    address = found[0]
    served = wait_for(lambda: page(address), 10)  # httpd starts right after the marker
    assert f"onestack-tiny-container: up hostname=tiny-container addresses={address}" in (served or "")
    driver.spawn(spec)  # again: nothing happens
    assert len(markers(driver, spec.uuid)) == 1, "a second spawn started another container"
    inside = sh("ip", "-n", network.netns_name(spec.uuid), "-o", "link", "show").stdout
    assert nic.mac_address in inside, "the container end has the port's MAC"
    resolv = (Path(state_dir) / "instances" / spec.uuid / "etc" / "resolv.conf").read_text()
    assert f"nameserver {GATEWAY}" in resolv, "the lease's DNS server"

    # the flavor's limits
    assert cgroup_value("memory", spec.uuid, "memory.limit_in_bytes") == str(64 * 2**20)
    assert cgroup_value("cpu", spec.uuid, "cpu.cfs_quota_us") == "100000"

    # pause freezes: no answer; unpause thaws
    driver.pause(spec.uuid)
    assert driver.instance_info(spec.uuid).power_state == PowerState.PAUSED, "pause"
    assert cgroup_value("freezer", spec.uuid, "freezer.state") == "FROZEN"
    assert page(address) is None, "a paused container answered"
    driver.unpause(spec.uuid)
    assert driver.instance_info(spec.uuid).power_state == PowerState.RUNNING, "unpause"
    assert page(address) is not None

    # re-adoption: a new driver on the same state dir finds the running container and leaves it running
    adopted = RuncDriver(state_dir)
    assert spec.uuid in adopted.list_instances()
    assert adopted.instance_info(spec.uuid).power_state == PowerState.RUNNING, "re-adoption"
    assert "onestack-tiny-container: up" in adopted.console_output(spec.uuid, length=5)
    pid = adopted.runc.state(spec.uuid)["pid"]

    # resize: the new limits on the running container, no restart
    bigger = InstanceSpec(**{**spec.__dict__, "memory_mb": 96, "vcpus": 2})
    adopted.resize(bigger)
    assert cgroup_value("memory", spec.uuid, "memory.limit_in_bytes") == str(96 * 2**20)
    assert cgroup_value("cpu", spec.uuid, "cpu.cfs_quota_us") == "200000"
    assert adopted.runc.state(spec.uuid)["pid"] == pid, "resize restarted the container"

    # power off: the init takes SIGTERM; no process, mount or cgroup left, the NIC's host end stays
    started = time.monotonic()
    adopted.power_off(spec.uuid, timeout=10)
    assert time.monotonic() - started < 5, "the container ignored SIGTERM"
    assert adopted.instance_info(spec.uuid).power_state == PowerState.SHUTDOWN, "power off"
    assert not pidfiles.alive(pid), "the init still runs"
    assert not overlay.mounted(Path(state_dir) / "instances" / spec.uuid / "rootfs")
    assert cgroup_dirs(spec.uuid) == []
    assert Path(f"/sys/class/net/{nic.tap_name}/master").resolve().name == lan, "the host end left its bridge"
    with pytest.raises(DriverError):
        adopted.pause(spec.uuid)

    # power on: the same container again, its console log appended
    adopted.power_on(bigger)
    assert adopted.instance_info(spec.uuid).power_state == PowerState.RUNNING, "power on"
    assert wait_for(lambda: len(markers(adopted, spec.uuid)) == 2, 30), adopted.console_output(spec.uuid)
    assert cgroup_value("memory", spec.uuid, "memory.limit_in_bytes") == str(96 * 2**20)
    again = markers(adopted, spec.uuid)[1]
    assert wait_for(lambda: page(again), 10), "no page after power on"

    # hard reboot: a new init
    pid = adopted.runc.state(spec.uuid)["pid"]
    adopted.reboot(bigger, hard=True)
    assert adopted.runc.state(spec.uuid)["pid"] != pid, "reboot"
    assert wait_for(lambda: len(markers(adopted, spec.uuid)) == 3, 30)

    # destroy: nothing left but the cached image
    pid = adopted.runc.state(spec.uuid)["pid"]
    lower = adopted._dir(spec.uuid).load_lower()[0]
    adopted.destroy(spec.uuid)
    assert adopted.instance_info(spec.uuid).power_state == PowerState.NOSTATE
    assert not pidfiles.alive(pid), "a process is left"
    assert not overlay.mounted(Path(state_dir) / "instances" / spec.uuid / "rootfs"), "a mount is left"
    assert not Path(f"/sys/class/net/{nic.tap_name}").exists(), "the veth is left"
    assert network.netns_name(spec.uuid) not in sh("ip", "netns", "list").stdout, "the namespace is left"
    assert cgroup_dirs(spec.uuid) == [], "a cgroup is left"
    assert not (Path(state_dir) / "instances" / spec.uuid).exists()
    assert (lower / "sbin" / "onestack-init").exists(), "destroy touched the cached image"
    adopted.destroy(spec.uuid)  # again: nothing to do
    print(f"first spawn (image unpacked) → running: {first_spawn:.3f}s")


def test_spawn_time_from_a_cached_image(spec, lan, state_dir, image):
    """Spawn → running once the image is unpacked (the first test above paid for that)."""
    driver = RuncDriver(state_dir)
    driver.spawn(spec)  # the image cached
    driver.destroy(spec.uuid)
    times = []
    for _ in range(3):
        started = time.monotonic()
        driver.spawn(spec)
        times.append(time.monotonic() - started)
        assert driver.instance_info(spec.uuid).power_state == PowerState.RUNNING
        driver.destroy(spec.uuid)
    print(f"spawn → running: {sorted(times)[1]:.3f}s (median of 3)")
    assert sorted(times)[1] < 2.0


def test_a_file_that_is_no_container_image_is_refused(state_dir, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000c2", hostname="junk", vcpus=1, memory_mb=64,
                        root_gb=1, image_path=str(junk))
    driver = RuncDriver(state_dir)
    try:
        with pytest.raises(DriverError, match="not a tar archive"):
            driver.spawn(spec)
    finally:
        driver.destroy(spec.uuid)
    assert shutil.which("runc")


def test_half_an_unpack_a_killed_process_left_is_removed_by_the_next_driver(state_dir, image, tmp_path):
    """A `kill -9` mid-unpack left ``_images/.<key>.<pid>.partial``: no later unpack reuses that name (its
    pid is in it), so it stayed under the data dir for good.  A new driver removes it; a partial of a process
    still alive (a spawn under way elsewhere) stays."""
    cache = tmp_path / "state" / "_images"
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = cache / f".{'a' * 32}.{gone.pid}.partial"
    live = cache / f".{'b' * 32}.{os.getpid()}.partial"
    for partial in (dead, live):
        (partial / "rootfs" / "etc").mkdir(parents=True)
        (partial / "rootfs" / "etc" / "half").write_text("x")
    RuncDriver(tmp_path / "state")
    assert not dead.exists()
    assert live.exists()
