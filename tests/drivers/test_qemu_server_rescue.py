"""Rescue of a real guest through the compute API, with a kill -9 of onestack in the middle of the rescue and
of the unrescue: the guest's QEMU is held still (SIGSTOP) so the step is caught half-done; after the restart
the server is RESCUE booted from its rescue disk with its own root disk as /dev/vdb (the marker written on the
root before is there), then ACTIVE booted from its own root again (the marker on /dev/vda), the rescue disk
gone; deleting the server leaves no file."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from onestack.drivers.qemu.layout import InstanceDir
from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud
from tests.drivers import serial
from tests.drivers.test_qemu_server_volumes import active, boot, shell

pytestmark = pytest.mark.qemu

MARKER_MIB = 512  # inside m1.nano's 1 GB root disk, far past the tiny image's own data


def read_marker(console: serial.Shell, device: str) -> str:
    return console.run(f"dd if={device} bs=1M skip={MARKER_MIB} count=1 2>/dev/null | head -c 32 | tr -dc a-z0-9-")


def server(nova: httpx.Client, server_id: str) -> dict:
    return ok(nova.get(f"/servers/{server_id}"))["server"]


def crash_during(cloud: Cloud, nova: httpx.Client, where: InstanceDir, server_id: str, action: dict, task: str):
    """``action`` sent while the guest's QEMU is held still (its stop waits on it), onestack killed -9 once the
    server is in ``task``, the guest let go, onestack started again; the action's answer."""
    qemu = int(where.pidfile.read_text())
    os.kill(qemu, signal.SIGSTOP)
    try:
        reply = nova.post(f"/servers/{server_id}/action", json=action)
        wait(lambda: server(nova, server_id)["OS-EXT-STS:task_state"] == task, 30, task)
        cloud.kill_9()
    finally:
        os.kill(qemu, signal.SIGCONT)
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    return reply


def test_rescue_and_unrescue_survive_kill_9(tmp_path, tiny_image):
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}}).start()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)
    server_id = console = None
    try:
        cloud.onestack("image", "register")
        server_id = boot(cloud, "rs")
        where = InstanceDir(cloud.data_dir / "compute" / "instances" / server_id)
        active(nova, server_id)
        console = shell(nova, server_id)
        assert console.run("ls /sys/block | grep ^vd").split() == ["vda"]
        console.run(f"echo root-marker-42 | dd of=/dev/vda bs=1M seek={MARKER_MIB} conv=fsync 2>/dev/null")
        assert read_marker(console, "/dev/vda") == "root-marker-42"
        console.close()

        reply = crash_during(cloud, nova, where, server_id, {"rescue": {"adminPass": "rescue-pw"}}, "rescuing")
        assert ok(reply, 200) == {"adminPass": "rescue-pw"}
        found = wait(lambda: (s := server(nova, server_id))["status"] in ("RESCUE", "ERROR") and s, 180, "RESCUE")
        assert found["status"] == "RESCUE", found.get("fault")
        assert found["OS-EXT-STS:vm_state"] == "rescued" and found["OS-EXT-STS:task_state"] is None
        assert where.rescue_disk.exists() and where.root_disk.exists()
        console = shell(nova, server_id)
        assert console.run("ls /sys/block | grep ^vd").split() == ["vda", "vdb"]
        assert read_marker(console, "/dev/vdb") == "root-marker-42"  # the server's own root disk, to repair
        assert read_marker(console, "/dev/vda") == ""  # booted from the fresh rescue disk
        console.close()

        assert nova.post(f"/servers/{server_id}/action", json={"rescue": None}).status_code == 409  # already
        reply = crash_during(cloud, nova, where, server_id, {"unrescue": None}, "unrescuing")
        assert reply.status_code == 202
        found = wait(lambda: (s := server(nova, server_id))["status"] in ("ACTIVE", "ERROR") and s, 180, "ACTIVE")
        assert found["status"] == "ACTIVE", found.get("fault")
        assert not where.rescue_disk.exists()
        console = shell(nova, server_id)
        assert console.run("ls /sys/block | grep ^vd").split() == ["vda"]
        assert read_marker(console, "/dev/vda") == "root-marker-42"
        console.close()
        console = None

        ok(nova.delete(f"/servers/{server_id}"), 204)
        wait(lambda: nova.get(f"/servers/{server_id}").status_code == 404, 120, "the server to go")
        assert not where.root.exists()
        server_id = None
    finally:
        if console is not None:
            console.close()
        if server_id is not None:
            nova.delete(f"/servers/{server_id}")
        nova.close()
        cloud.stop()
