"""kill -9 in the middle of a volume swap (Nova's ``PUT /servers/{id}/os-volume_attachments/{volume}`` naming
another volume) with a real guest, twice: once before the guest moved (its QEMU held still with SIGSTOP, the
new volume ``attaching``), once while QEMU's mirror job copies the volume (QEMU held still once the new file
grows, so the job is caught half-way and goes on by itself after the kill).  After each restart nothing
stays transitional: the old volume ``available`` with no attachment, the new one ``in-use`` with the server's
only attachment, no ``migration_status``, no block job left in QEMU, and the guest's disk on exactly one
file, the new volume's, where the guest's later writes land.  The guest is the same QEMU all along."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import httpx
import pytest

from onestack.drivers.qemu.layout import InstanceDir
from onestack.drivers.qemu.qmp import QMP
from tests.api.helpers import ok, wait
from tests.api.volume_helpers import cinder, holds_pattern, read_at, volume_file
from tests.cloudfixture import Cloud
from tests.drivers.test_qemu_server_volumes import active, boot, cli, shell, volume_status
from tests.drivers.test_qemu_volume_crash import quietly

pytestmark = pytest.mark.qemu
MiB = 1024 ** 2
FILLED = 384 * MiB  # written into the first volume from the host: a copy QEMU takes a while over


def compute(cloud: Cloud) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)


def statuses(cloud: Cloud, *ids: str) -> tuple[str, ...]:
    """The volumes' statuses in one call over HTTP: the guest's QEMU is held still meanwhile, and the swap
    gives up on a QEMU silent for 30 s, so the test asks quicker than the CLI does under load."""
    with cinder(cloud, cloud.token(), None) as http:
        found = {v["id"]: v["status"] for v in ok(http.get("/volumes/detail", params={"all_tenants": 1}))["volumes"]}
    return tuple(found[i] for i in ids)


def open_files(where: InstanceDir) -> set[str]:
    """The files the guest's QEMU has open (its protocol nodes), and fail if a block job is left."""
    with QMP(where.qmp_socket) as qmp:
        assert qmp.execute("query-block-jobs") == []
        return {n["file"] for n in qmp.execute("query-named-block-nodes", flat=True) if n.get("drv") == "file"}


def restart(cloud: Cloud, qemu_pid: int) -> None:
    cloud.kill_9()
    os.kill(qemu_pid, signal.SIGCONT)
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")


def settled(cloud: Cloud, server_id: str, old: str, new: str) -> None:
    """The swap finished: ``old`` free, ``new`` the server's only volume, neither transitional."""
    wait(lambda: (volume_status(cloud, old), volume_status(cloud, new)) == ("available", "in-use"), 180,
         f"{old} available and {new} in-use after the restart")
    old_volume, new_volume = cli(cloud, "volume", "show", old), cli(cloud, "volume", "show", new)
    assert old_volume["attachments"] == []
    assert [a["server_id"] for a in new_volume["attachments"]] == [server_id]
    assert old_volume.get("migration_status") is None and new_volume.get("migration_status") is None
    listed = ok(compute(cloud).get(f"/servers/{server_id}/os-volume_attachments"))["volumeAttachments"]
    assert [a["volumeId"] for a in listed] == [new_volume["id"]]


def test_kill_9_mid_swap_before_the_guest_moved_and_mid_copy(tmp_path, tiny_image):
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"}}).start()
    console = None
    try:
        cloud.onestack("image", "register")
        server_id = boot(cloud, "vm1")
        ids = {}
        for name in ("v1", "v2", "v3"):
            ids[name] = cli(cloud, "volume", "create", "--size", "1", name)["id"]
        for name in ids:
            wait(lambda n=name: volume_status(cloud, n) == "available", 60, f"{name} available")
        files = {name: volume_file(cloud, ids[name]) for name in ids}
        # data a mirror job takes some time over: 0x5a all through v1's first FILLED bytes
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P 0x5a 0 {FILLED}", str(files["v1"])], check=True,
                       capture_output=True)
        nova = compute(cloud)
        active(nova, server_id)
        where = InstanceDir(cloud.data_dir / "compute" / "instances" / server_id)
        qemu_pid = int(where.pidfile.read_text())
        path = f"/servers/{server_id}/os-volume_attachments"
        ok(nova.post(path, json={"volumeAttachment": {"volumeId": ids["v1"]}}))
        wait(lambda: volume_status(cloud, "v1") == "in-use", 60, "v1 in-use")

        # 1. the guest held still: the swap is written down and v2 connected, the guest not moved yet
        os.kill(qemu_pid, signal.SIGSTOP)
        try:
            swap = {"volumeAttachment": {"volumeId": ids["v2"]}}
            threading.Thread(target=quietly(lambda: nova.put(f"{path}/{ids['v1']}", json=swap)), daemon=True).start()
            wait(lambda: statuses(cloud, ids["v1"], ids["v2"]) == ("detaching", "attaching"), 20,
                 "v1 detaching and v2 attaching")
        finally:
            restart(cloud, qemu_pid)
        settled(cloud, server_id, "v1", "v2")
        assert open_files(where) & set(map(str, files.values())) == {str(files["v2"])}
        assert holds_pattern(files["v2"], 0x5a, 0) and holds_pattern(files["v2"], 0x5a, FILLED - 64 * 1024)

        # 2. the copy under way: QEMU held still once its mirror job has written part of v3
        nova = compute(cloud)
        baseline = os.stat(files["v3"]).st_blocks
        swap = {"volumeAttachment": {"volumeId": ids["v3"]}}
        threading.Thread(target=quietly(lambda: nova.put(f"{path}/{ids['v2']}", json=swap)), daemon=True).start()
        wait(lambda: (os.stat(files["v3"]).st_blocks - baseline) * 512 > 8 * MiB, 60, "the copy to v3 to start",
             every=0.005)
        os.kill(qemu_pid, signal.SIGSTOP)
        try:
            assert (os.stat(files["v3"]).st_blocks - baseline) * 512 < FILLED, "the copy was over before it was caught"
            assert statuses(cloud, ids["v2"], ids["v3"]) == ("detaching", "attaching")
        finally:
            restart(cloud, qemu_pid)
        settled(cloud, server_id, "v2", "v3")
        assert open_files(where) & set(map(str, files.values())) == {str(files["v3"])}
        assert holds_pattern(files["v3"], 0x5a, 0) and holds_pattern(files["v3"], 0x5a, FILLED - 64 * 1024)

        # the guest's disk (the device of its first volume) now writes v3's file only
        console = shell(compute(cloud), server_id)
        assert console.run("cat /sys/block/vdb/serial") == ids["v1"][:20]
        console.run("echo after-the-crashes | dd of=/dev/vdb bs=512 seek=4096 conv=fsync 2>/dev/null; echo written")
        assert read_at(files["v3"], 4096 * 512, 17) == b"after-the-crashes"
        assert read_at(files["v2"], 4096 * 512, 17) != b"after-the-crashes"
        assert int(where.pidfile.read_text()) == qemu_pid  # the same QEMU all along
    finally:
        if console is not None:
            console.close()
        cloud.purge(check=False)
