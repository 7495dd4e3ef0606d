"""A volume between two real guests through the openstack CLI: `volume create` of a type with front-end QoS,
`server add volume` (QEMU throttles the disk with the type's limits), the guest writes a marker to /dev/vdb,
`server remove volume`, the volume added to a second server holds the marker and grows while attached (the guest
sees the new size); a hard reboot keeps an attached volume; deleting the servers leaves the volume available.  The guests are driven
through their serial consoles, as a user at the console would."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest

from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.qemu.qmp import QMP
from onestack.drivers.qemu.volumes import Names
from tests.api.helpers import ok, wait
from tests.api.volume_helpers import read_at, volume_file
from tests.cloudfixture import Cloud
from tests.drivers import serial

pytestmark = pytest.mark.qemu
GiB, MiB = 1024 ** 3, 1024 ** 2
CLI_VERSION = ("--os-compute-api-version", "2.79")


def cli(cloud: Cloud, *args: str) -> dict | list:
    return json.loads(cloud.openstack(*args, "-f", "json").stdout)


def volume_status(cloud: Cloud, volume: str) -> str:
    return cli(cloud, "volume", "show", volume)["status"]


def boot(cloud: Cloud, name: str) -> str:
    # no network and no config drive: the guest's first volume is its second disk, /dev/vdb
    server = cli(cloud, *CLI_VERSION, "server", "create", "--image", "onestack-tiny", "--flavor", "m1.nano",
                 "--nic", "none", name)
    return server["id"]


def shell(nova: httpx.Client, server_id: str) -> serial.Shell:
    body = {"remote_console": {"protocol": "serial", "type": "serial"}}
    url = ok(nova.post(f"/servers/{server_id}/remote-consoles", json=body,
                       headers={"X-OpenStack-Nova-API-Version": "2.6"}))["remote_console"]["url"]
    return serial.websocket_shell(url).ready(180)


def active(nova: httpx.Client, server_id: str) -> None:
    found = wait(lambda: (s := ok(nova.get(f"/servers/{server_id}"))["server"])["status"] in ("ACTIVE", "ERROR")
                 and s, 180, f"{server_id} ACTIVE")
    assert found["status"] == "ACTIVE", found.get("fault")


def throttle_limits(cloud: Cloud, server_id: str, volume_id: str) -> dict:
    """The limits QEMU enforces on the volume's disk (its throttle group's), asked over the guest's QMP."""
    where = InstanceDir(cloud.data_dir / "compute" / "instances" / server_id)
    with QMP(where.qmp_socket) as qmp:
        limits = qmp.execute("qom-get", path=f"/objects/{Names.of(volume_id).group}", property="limits")
    return {key: value for key, value in limits.items() if value and not key.endswith("-length")}


def qemu_cloud_with_two_guests(tmp_path) -> tuple[Cloud, httpx.Client, str, str]:
    """A cloud on the QEMU driver, a compute client, and two servers of onestack-tiny being built (vm1, vm2)."""
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}}).start()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)
    cloud.onestack("image", "register")
    return cloud, nova, boot(cloud, "vm1"), boot(cloud, "vm2")


def test_a_volume_carries_a_marker_from_one_guest_to_another(tmp_path, tiny_image):
    cloud, nova, first, second = qemu_cloud_with_two_guests(tmp_path)
    shells: list[serial.Shell] = []
    try:
        # a type whose front-end QoS the guest's QEMU enforces (limits high enough not to slow the test)
        cloud.openstack("volume", "qos", "create", "--consumer", "front-end", "--property", "total_bytes_sec=104857600",
                        "--property", "total_iops_sec_per_gb=1000", "fe-limits")
        cloud.openstack("volume", "type", "create", "limited")
        cloud.openstack("volume", "qos", "associate", "fe-limits", "limited")
        cli(cloud, "volume", "create", "--size", "1", "--type", "limited", "v1")
        wait(lambda: volume_status(cloud, "v1") == "available", 60, "v1 available")
        active(nova, first)
        one = shell(nova, first)
        shells.append(one)
        assert one.run("ls /sys/block").split() == ["vda"]

        started = time.monotonic()
        cloud.openstack(*CLI_VERSION, "server", "add", "volume", "--tag", "data", "vm1", "v1")
        wait(lambda: "vdb" in one.run("ls /sys/block"), 30, "vm1 to see /dev/vdb")
        print(f"`server add volume` until the guest sees /dev/vdb: {time.monotonic() - started:.2f}s")
        assert volume_status(cloud, "v1") == "in-use"
        (attached,) = cli(cloud, "volume", "show", "v1")["attachments"]
        assert (attached["server_id"], attached["device"]) == (first, "/dev/vdb")
        volume_id = attached["volume_id"]
        assert one.run("cat /sys/block/vdb/serial") == volume_id[:20]
        # what QEMU itself holds: the disk goes through a throttle group with the type's limits
        assert throttle_limits(cloud, first, volume_id) == {"bps-total": 104857600, "iops-total": 1000}
        # a change of the type's QoS reaches the running guest at once
        cloud.openstack("volume", "qos", "set", "--property", "total_bytes_sec=52428800", "fe-limits")
        assert throttle_limits(cloud, first, volume_id) == {"bps-total": 52428800, "iops-total": 1000}
        cloud.openstack("volume", "qos", "unset", "--property", "total_bytes_sec", "fe-limits")
        assert throttle_limits(cloud, first, volume_id) == {"iops-total": 1000}
        cloud.openstack("volume", "qos", "set", "--property", "total_bytes_sec=104857600", "fe-limits")
        assert one.run("echo carried-by-v1 | dd of=/dev/vdb conv=fsync 2>/dev/null && echo written") == "written"

        # a hard reboot is a new QEMU from the spec: the volume is still there, with the data
        cloud.openstack("server", "reboot", "--hard", "--wait", "vm1")
        one.close()
        one = shell(nova, first)
        shells.append(one)
        assert one.run("head -c 13 /dev/vdb") == "carried-by-v1"

        started = time.monotonic()
        cloud.openstack("server", "remove", "volume", "vm1", "v1")
        print(f"`server remove volume` (the guest lets the disk go): {time.monotonic() - started:.2f}s")
        assert volume_status(cloud, "v1") == "available"
        assert one.run("ls /sys/block").split() == ["vda"]

        active(nova, second)
        two = shell(nova, second)
        shells.append(two)
        started = time.monotonic()  # through the API this time: the figure without the CLI's own start
        ok(nova.post(f"/servers/{second}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume_id}}))
        wait(lambda: "vdb" in two.run("ls /sys/block"), 30, "vm2 to see /dev/vdb")
        print(f"POST os-volume_attachments until the guest sees /dev/vdb: {time.monotonic() - started:.2f}s")
        assert two.run("head -c 13 /dev/vdb") == "carried-by-v1"

        # grown while attached (3.42): the running guest sees 2 GiB, the data stay
        assert two.run("cat /sys/block/vdb/size") == str(GiB // 512)
        cloud.openstack("--os-volume-api-version", "3.42", "volume", "set", "--size", "2", "v1")
        wait(lambda: (v := cli(cloud, "volume", "show", "v1"))["status"] == "in-use" and v["size"] == 2, 60,
             "v1 in-use at 2 GiB")
        wait(lambda: two.run("cat /sys/block/vdb/size") == str(2 * GiB // 512), 30, "vm2 to see 2 GiB")
        assert two.run("head -c 13 /dev/vdb") == "carried-by-v1"
        # per-GB limits follow the size at the next attach, as in Cinder; the running guest keeps its own
        assert throttle_limits(cloud, second, volume_id) == {"bps-total": 104857600, "iops-total": 1000}

        # a snapshot of the attached volume is taken live (QMP): what the guest writes next is not in it
        cli(cloud, "--os-volume-api-version", "3.66", "volume", "snapshot", "create", "--volume", "v1", "s1")
        wait(lambda: cli(cloud, "volume", "snapshot", "show", "s1")["status"] == "available", 60, "s1 available")
        assert two.run("echo after-the-snapshot | dd of=/dev/vdb bs=1M seek=1 conv=fsync 2>/dev/null; "
                       "echo written") == "written"
        cli(cloud, "volume", "create", "--snapshot", "s1", "v2")
        wait(lambda: volume_status(cloud, "v2") == "available", 60, "v2 available")
        v2 = volume_file(cloud, cli(cloud, "volume", "show", "v2")["id"])
        assert read_at(v2, 0, 13) == b"carried-by-v1" and read_at(v2, MiB, 18) != b"after-the-snapshot"
        assert read_at(volume_file(cloud, volume_id), MiB, 18) == b"after-the-snapshot"
        assert two.run("head -c 13 /dev/vdb") == "carried-by-v1"
        listed = cli(cloud, "server", "volume", "list", "vm2")
        assert [(v["Volume ID"], v["Device"]) for v in listed] == [(volume_id, "/dev/vdb")]

        cloud.openstack("server", "delete", "--wait", "vm1", "vm2")
        assert volume_status(cloud, "v1") == "available"
        assert cli(cloud, "volume", "show", "v1")["attachments"] == []
        # the snapshot goes once no guest holds the files backing on it (its data copied into them)
        cloud.openstack("volume", "snapshot", "delete", "s1")
        wait(lambda: not cli(cloud, "volume", "snapshot", "list"), 60, "s1 gone")
        assert read_at(v2, 0, 13) == b"carried-by-v1"
        assert read_at(volume_file(cloud, volume_id), MiB, 18) == b"after-the-snapshot"
    finally:
        for one_shell in shells:
            one_shell.close()
        nova.close()
        cloud.purge(check=False)


def bootable_volume(cloud: Cloud, name: str, tiny_image) -> str:
    """A 1 GiB volume holding onestack-tiny: made from the image where the block storage service makes volumes
    from images; otherwise a blank volume whose file the test fills with the image's disk from the host, the one
    thing that path would have done for it."""
    made = cloud.openstack("volume", "create", "--image", "onestack-tiny", "--size", "1", "--bootable", name,
                           check=False)
    if made.returncode != 0:
        assert "not provided" in made.stderr, made.stderr
        cli(cloud, "volume", "create", "--size", "1", name)
        wait(lambda: volume_status(cloud, name) == "available", 60, f"{name} available")
        volume_id = cli(cloud, "volume", "show", name)["id"]
        path = volume_file(cloud, volume_id)
        subprocess.run(["qemu-img", "convert", "-n", "-O", "qcow2", str(tiny_image.path), str(path)], check=True)
        cloud.openstack("volume", "set", "--bootable", name)
    wait(lambda: volume_status(cloud, name) == "available", 120, f"{name} available")
    return cli(cloud, "volume", "show", name)["id"]


def test_a_server_boots_from_a_volume(tmp_path, tiny_image):
    """Boot from a volume made from the image, then from a volume made from a snapshot of it."""
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}}).start()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)
    console = None
    try:
        cloud.onestack("image", "register")
        volume_id = bootable_volume(cloud, "bv", tiny_image)
        server = cli(cloud, *CLI_VERSION, "server", "create", "--volume", "bv", "--flavor", "m1.nano", "--nic", "none",
                     "bfv")
        active(nova, server["id"])
        assert volume_status(cloud, "bv") == "in-use"
        console = shell(nova, server["id"])
        # its root disk is the volume: the serial is the volume's id, and there is no disk of the instance's own
        assert console.run("cat /sys/block/vda/serial") == volume_id[:20]
        shown = cli(cloud, "server", "show", "bfv")
        assert shown["image"] in ("", "N/A (booted from volume)")
        assert not (cloud.data_dir / "compute" / "instances" / server["id"] / "disk").exists()
        assert "onestack-tiny: up" in ok(nova.post(f"/servers/{server['id']}/action",
                                                   json={"os-getConsoleOutput": {}}))["output"]
        # a hard reboot boots the same volume again
        cloud.openstack("server", "reboot", "--hard", "--wait", "bfv")
        console.close()
        console = shell(nova, server["id"])
        assert console.run("cat /sys/block/vda/serial") == volume_id[:20]
        # past the image's data, so the guest's own boot never touches it
        console.run("echo written-on-bv | dd of=/dev/vda bs=1M seek=512 conv=fsync 2>/dev/null; echo written")
        cloud.openstack("server", "delete", "--wait", "bfv")
        assert volume_status(cloud, "bv") == "available"

        # the story: snapshot -> volume from the snapshot -> boot from it (a copy-on-write overlay)
        cli(cloud, "volume", "snapshot", "create", "--volume", "bv", "s1")
        wait(lambda: cli(cloud, "volume", "snapshot", "show", "s1")["status"] == "available", 60, "s1 available")
        cli(cloud, "volume", "create", "--snapshot", "s1", "from-s1")
        wait(lambda: volume_status(cloud, "from-s1") == "available", 60, "from-s1 available")
        copy = cli(cloud, "volume", "show", "from-s1")
        assert copy["bootable"] in ("true", True)
        server = cli(cloud, *CLI_VERSION, "server", "create", "--volume", "from-s1", "--flavor", "m1.nano",
                     "--nic", "none", "from-snapshot")
        active(nova, server["id"])
        console.close()
        console = shell(nova, server["id"])
        assert console.run("cat /sys/block/vda/serial") == copy["id"][:20]
        assert console.run("dd if=/dev/vda bs=1M skip=512 count=1 2>/dev/null | head -c 13") == "written-on-bv"
        assert "onestack-tiny: up" in ok(nova.post(f"/servers/{server['id']}/action",
                                                   json={"os-getConsoleOutput": {}}))["output"]
        cloud.openstack("server", "delete", "--wait", "from-snapshot")
        assert volume_status(cloud, "from-s1") == "available"
    finally:
        if console is not None:
            console.close()
        nova.close()
        cloud.purge(check=False)
