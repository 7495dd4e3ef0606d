"""kill -9 in the middle of attaching a volume to a real guest and in the middle of detaching it: after the
restart nothing stays `attaching` or `detaching`.  The guest's QEMU is held still (SIGSTOP) so the attach or
detach is caught half-done, as a slow guest would leave it; the guests outlive the API process.  The
restart finishes each: the attach ends `in-use` with the disk in the guest (adopted, not plugged twice), the
detach ends `available` with the disk gone from the guest.  Both tests drive one guest on one cloud of the
module's own (they kill -9 it): booting the guest is most of their time, and each leaves it as it found it,
running with no volume."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest

from onestack.drivers.qemu.layout import InstanceDir
from tests.api.helpers import ok, wait
from tests.api.volume_helpers import cinder, read_at, snapshot_file, volume_file
from tests.cloudfixture import Cloud
from tests.drivers.test_qemu_server_volumes import active, boot, cli, shell, volume_status

# one worker runs both tests, so they share the module's cloud and guest
pytestmark = [pytest.mark.qemu, pytest.mark.xdist_group("qemu-volume-crash")]


def compute(cloud: Cloud) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)


@pytest.fixture(scope="module")
def guest(tmp_path_factory, tiny_image):
    """A cloud of the module's own on the QEMU driver and one ACTIVE guest there with no volume: (cloud, its id)."""
    cloud = Cloud(tmp_path_factory.mktemp("volume-crash") / "data", settings={"compute": {"driver": "qemu"}}).start()
    try:
        cloud.onestack("image", "register")
        server_id = boot(cloud, "vm1")
        with compute(cloud) as nova:
            active(nova, server_id)
        yield cloud, server_id
    finally:
        cloud.purge(check=False)


def kill_while(cloud: Cloud, qemu_pid: int, request, volume: str, status: str) -> None:
    """Hold the guest's QEMU still, send ``request`` (it hangs on the guest), kill -9 the API once the volume is
    ``status``, let the guest go on, start the API again."""
    os.kill(qemu_pid, signal.SIGSTOP)
    try:
        threading.Thread(target=request, daemon=True).start()
        # asked over HTTP, not by the CLI: the step gives up on the silent QEMU within seconds, and under
        # load one CLI call took longer than that, so the status came and went between two calls
        with cinder(cloud, cloud.token(), None) as http:
            wait(lambda: status_by_name(http, volume) == status, 30, f"{volume} {status}", every=0.05)
        cloud.kill_9()
    finally:
        os.kill(qemu_pid, signal.SIGCONT)
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")


def status_by_name(http: httpx.Client, volume: str) -> str | None:
    """The status of the volume named ``volume``, through a project-less block storage client."""
    found = ok(http.get("/volumes/detail", params={"all_tenants": 1}))["volumes"]
    return next((v["status"] for v in found if v["name"] == volume), None)


def quietly(call):
    def run():
        try:
            call()
        except httpx.HTTPError:
            pass  # the API died under it, as meant
    return run


def test_kill_9_mid_attach_and_mid_detach(guest):
    cloud, server_id = guest
    console = None
    try:
        volume_id = cli(cloud, "volume", "create", "--size", "1", "v1")["id"]
        wait(lambda: volume_status(cloud, "v1") == "available", 60, "v1 available")
        nova = compute(cloud)
        qemu_pid = int(InstanceDir(cloud.data_dir / "compute" / "instances" / server_id).pidfile.read_text())
        path = f"/servers/{server_id}/os-volume_attachments"

        kill_while(cloud, qemu_pid, quietly(lambda: nova.post(path, json={"volumeAttachment": {"volumeId": volume_id}})),
                   "v1", "attaching")
        assert volume_status(cloud, "v1") == "in-use"  # finished as the API started again
        nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()},
                            timeout=120)
        assert [a["volumeId"] for a in ok(nova.get(path))["volumeAttachments"]] == [volume_id]
        console = shell(nova, server_id)
        wait(lambda: "vdb" in console.run("ls /sys/block"), 30, "the guest to have /dev/vdb")
        assert console.run("cat /sys/block/vdb/serial") == volume_id[:20]
        (attachment,) = cli(cloud, "volume", "show", "v1")["attachments"]
        assert attachment["server_id"] == server_id
        console.close()  # the console is proxied by the API process, which is about to die
        console = None

        kill_while(cloud, qemu_pid, quietly(lambda: nova.delete(f"{path}/{volume_id}")), "v1", "detaching")
        assert volume_status(cloud, "v1") == "available"
        nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()},
                            timeout=120)
        assert ok(nova.get(path))["volumeAttachments"] == []
        assert cli(cloud, "volume", "show", "v1")["attachments"] == []
        console = shell(nova, server_id)
        wait(lambda: console.run("ls /sys/block").split() == ["vda"], 30, "the guest to have let /dev/vdb go")
        # the guest never restarted: the same QEMU all along
        assert int(InstanceDir(cloud.data_dir / "compute" / "instances" / server_id).pidfile.read_text()) == qemu_pid
    finally:
        if console is not None:
            console.close()


def test_kill_9_mid_live_snapshot(guest):
    """A snapshot of an attached volume cut short while the guest's QEMU was to switch the disk to the new
    overlay (QEMU held still): after the restart the snapshot is ``available`` and holds what the guest wrote
    before it, the guest's later writes land in the volume only, the volume stays ``in-use``, no temporary
    file is left, and the guest is the same QEMU."""
    cloud, server_id = guest
    console = None
    try:
        volume_id = cli(cloud, "volume", "create", "--size", "1", "snapped")["id"]
        wait(lambda: volume_status(cloud, "snapped") == "available", 60, "snapped available")
        nova = compute(cloud)
        where = InstanceDir(cloud.data_dir / "compute" / "instances" / server_id)
        qemu_pid = int(where.pidfile.read_text())
        ok(nova.post(f"/servers/{server_id}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume_id}}))
        wait(lambda: volume_status(cloud, "snapped") == "in-use", 60, "snapped in-use")
        console = shell(nova, server_id)
        wait(lambda: "vdb" in console.run("ls /sys/block"), 30, "the guest to have /dev/vdb")
        console.run("echo before-the-snapshot | dd of=/dev/vdb conv=fsync 2>/dev/null; echo written")
        console.close()  # the console is proxied by the API process, which is about to die
        console = None

        volumes = cloud.data_dir / "volumes"
        overlay = volumes / f".volume-{volume_id}.qcow2.partial"
        os.kill(qemu_pid, signal.SIGSTOP)
        try:
            threading.Thread(target=quietly(lambda: cloud.openstack(
                "--os-volume-api-version", "3.66", "volume", "snapshot", "create", "--volume", "snapped", "s1")),
                daemon=True).start()
            wait(overlay.exists, 60, "the snapshot's overlay, made before the guest is asked to switch to it",
                 every=0.01)
            cloud.kill_9()
        finally:
            os.kill(qemu_pid, signal.SIGCONT)
        cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")

        snapshot = wait(lambda: (s := cli(cloud, "volume", "snapshot", "show", "s1"))["status"] != "creating" and s,
                        120, "the snapshot to be finished after the restart")
        assert snapshot["status"] == "available", snapshot
        assert volume_status(cloud, "snapped") == "in-use"
        nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()},
                            timeout=120)
        console = shell(nova, server_id)
        console.run("echo after-the-snapshot | dd of=/dev/vdb conv=fsync 2>/dev/null; echo written")
        assert read_at(snapshot_file(cloud, snapshot["id"]), 0, 19) == b"before-the-snapshot"
        assert read_at(volume_file(cloud, volume_id), 0, 18) == b"after-the-snapshot"
        assert sorted(p.name for p in volumes.iterdir() if p.name.startswith(".")) == []
        assert int(where.pidfile.read_text()) == qemu_pid
    finally:
        if console is not None:
            console.close()
