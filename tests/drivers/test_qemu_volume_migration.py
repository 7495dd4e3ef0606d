"""An attached volume migrated to another file backend under a running guest, through the openstack CLI
(`openstack volume migrate`): the guest's QEMU copies its disk onto the new backend's file while it runs and
switches to it (as Cinder has Nova swap the volume), the guest's data are the same before and after (the
SHA-256 of what the host reads), what the guest writes next lands in the new file, and the old one is gone."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from onestack.drivers.qemu.layout import InstanceDir
from tests.api.helpers import ok, wait
from tests.api.volume_helpers import cinder, holds_pattern, read_at
from tests.cloudfixture import Cloud
from tests.drivers.test_qemu_server_volumes import CLI_VERSION, active, boot, cli, shell, volume_status
from tests.drivers.test_qemu_volume_swap_crash import FILLED, compute, open_files, restart

pytestmark = pytest.mark.qemu
MiB = 1024 ** 2


def digest(path, tmp_path, mib: int = 9) -> str:
    """SHA-256 of the volume's first ``mib`` MiB as the host reads them (``-U``: the guest holds the file)."""
    raw = tmp_path / "read.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", str(path), str(raw)], check=True,
                   capture_output=True)
    try:
        with raw.open("rb") as read:
            return hashlib.sha256(read.read(mib * MiB)).hexdigest()
    finally:
        raw.unlink()


def test_an_attached_volume_moves_to_another_backend_under_its_guest(tmp_path, tiny_image):
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"},
                                               "volume": {"file_backends": {"fast": ""}}}).start()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)
    host = socket.gethostname()
    console = None
    try:
        cloud.onestack("image", "register")
        server = boot(cloud, "vm1")
        cloud.openstack("volume", "type", "create", "--property", "volume_backend_name=file", "slow")
        volume_id = cli(cloud, "volume", "create", "--size", "1", "--type", "slow", "v1")["id"]
        wait(lambda: volume_status(cloud, "v1") == "available", 60, "v1 available")
        active(nova, server)
        console = shell(nova, server)
        cloud.openstack(*CLI_VERSION, "server", "add", "volume", "vm1", "v1")
        wait(lambda: "vdb" in console.run("ls /sys/block"), 30, "vm1 to see /dev/vdb")
        assert console.run("echo moved-with-me | dd of=/dev/vdb conv=fsync 2>/dev/null && "
                           "dd if=/dev/urandom of=/dev/vdb bs=1M seek=1 count=8 conv=fsync 2>/dev/null && "
                           "echo written") == "written"
        old = cloud.data_dir / "volumes" / f"volume-{volume_id}.qcow2"
        new = cloud.data_dir / "volumes-fast" / f"volume-{volume_id}.qcow2"
        before = digest(old, tmp_path)

        cloud.openstack("volume", "migrate", "--host", f"{host}@fast", "v1")
        shown = wait(lambda: (v := cli(cloud, "volume", "show", "v1"))["os-vol-mig-status-attr:migstat"]
                     in ("success", "error") and v, 180, "the migration to end")
        assert shown["os-vol-mig-status-attr:migstat"] == "success", shown
        assert shown["os-vol-host-attr:host"] == f"{host}@fast#fast" and shown["status"] == "in-use"
        (attached,) = shown["attachments"]
        assert attached["server_id"] == server and attached["device"] == "/dev/vdb"
        assert not old.exists() and digest(new, tmp_path) == before
        # the guest runs on, on the new file: it reads its data and what it writes lands there
        assert console.run("head -c 13 /dev/vdb") == "moved-with-me"
        assert console.run("echo after-the-move | dd of=/dev/vdb bs=1M seek=10 conv=fsync 2>/dev/null && "
                           "echo written") == "written"
        assert read_at(new, 10 * MiB, 14) == b"after-the-move"

        # detached and attached again: the server's connection names the new file
        cloud.openstack("server", "remove", "volume", "vm1", "v1")
        assert volume_status(cloud, "v1") == "available"
        cloud.openstack(*CLI_VERSION, "server", "add", "volume", "vm1", "v1")
        wait(lambda: "vdb" in console.run("ls /sys/block"), 30, "vm1 to see /dev/vdb again")
        assert console.run("dd if=/dev/vdb bs=1M skip=10 count=1 2>/dev/null | head -c 14") == "after-the-move"

        # an attached encrypted volume: Cinder accepts the migration and asks Nova to swap, which Nova's libvirt
        # driver refuses for a natively decrypted (LUKS) volume; the migration ends ``error``, the guest still
        # on its file, reading its data through its key, and the server shows the failed swap
        started = time.monotonic()
        # made and polled over HTTP (a CLI run costs seconds on a loaded host); attached and migrated by the CLI
        with cinder(cloud, cloud.token(), None) as http:
            kind = ok(http.post("/types", json={"volume_type": {
                "name": "luks", "extra_specs": {"volume_backend_name": "file"}}}))["volume_type"]
            ok(http.post(f"/types/{kind['id']}/encryption", json={"encryption": {
                "provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256, "control_location": "front-end"}}))
            secret_id = ok(http.post("/volumes", json={"volume": {"size": 1, "volume_type": "luks", "name": "ev"}}),
                           202)["volume"]["id"]

            def ev() -> dict:
                return ok(http.get(f"/volumes/{secret_id}"))["volume"]

            wait(lambda: ev()["status"] == "available", 60, "ev available")
            cloud.openstack(*CLI_VERSION, "server", "add", "volume", "vm1", "ev")
            wait(lambda: "vdc" in console.run("ls /sys/block"), 30, "vm1 to see /dev/vdc")
            assert console.run("echo kept-under-luks | dd of=/dev/vdc conv=fsync 2>/dev/null && echo written") \
                == "written"
            cloud.openstack("volume", "migrate", "--host", f"{host}@fast", "ev")
            refused = wait(lambda: (v := ev())["migration_status"] in ("success", "error") and v, 180,
                           "the encrypted volume's migration to end")
        assert refused["migration_status"] == "error" and refused["status"] == "in-use", refused
        assert refused["os-vol-host-attr:host"] == f"{host}@file#file"
        assert not (cloud.data_dir / "volumes-fast" / f"volume-{secret_id}.qcow2").exists()
        # read from the disk (not the guest's page cache): through QEMU's LUKS layer, with the volume's key
        assert console.run("echo 3 > /proc/sys/vm/drop_caches; head -c 15 /dev/vdc") == "kept-under-luks"
        actions = ok(nova.get(f"/servers/{server}/os-instance-actions"))["instanceActions"]
        # v1's move, then ev's refused one (nothing more: giving the guest its source back is no swap)
        swaps = [a for a in actions if a["action"] == "swap_volume"]
        assert sorted(str(a["message"]) for a in swaps) == ["Error", "None"], actions
        failed = [a for a in swaps if a["message"] == "Error"]
        (event,) = ok(nova.get(f"/servers/{server}/os-instance-actions/{failed[0]['request_id']}"))[
            "instanceAction"]["events"]
        assert event["event"] == "compute_swap_volume" and event["result"] == "Error"
        assert "Swap volume is not supported for encrypted volumes when native LUKS decryption is enabled." \
            in event["traceback"]
        print(f"the encrypted volume's refused migration, from its type's creation: {time.monotonic() - started:.1f}s")
    finally:
        if console is not None:
            console.close()
        nova.close()
        cloud.purge(check=False)


def test_kill_9_while_the_guest_copies_a_migrating_volume(tmp_path, tiny_image):
    """The process killed while the guest's QEMU mirrors 384 MiB to the new backend (QEMU held still once part
    is written): after the restart the migration ends ``success``, the same QEMU writes the new file only, and
    no block job is left."""
    cloud = Cloud(tmp_path / "data", settings={"compute": {"driver": "qemu"},
                                               "volume": {"file_backends": {"fast": ""}}}).start()
    host = socket.gethostname()
    console = None
    try:
        cloud.onestack("image", "register")
        server = boot(cloud, "vm1")
        volume_id = cli(cloud, "volume", "create", "--size", "1", "v1")["id"]
        wait(lambda: volume_status(cloud, "v1") == "available", 60, "v1 available")
        old = cloud.data_dir / "volumes" / f"volume-{volume_id}.qcow2"
        new = cloud.data_dir / "volumes-fast" / f"volume-{volume_id}.qcow2"
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P 0x5a 0 {FILLED}", str(old)], check=True,
                       capture_output=True)
        nova = compute(cloud)
        active(nova, server)
        where = InstanceDir(cloud.data_dir / "compute" / "instances" / server)
        qemu_pid = int(where.pidfile.read_text())
        ok(nova.post(f"/servers/{server}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume_id}}))
        wait(lambda: volume_status(cloud, "v1") == "in-use", 60, "v1 in-use")

        with cinder(cloud, cloud.token(), None) as http:
            ok(http.post(f"/volumes/{volume_id}/action", json={"os-migrate_volume": {"host": f"{host}@fast"}}), 202)
        wait(lambda: new.exists() and new.stat().st_blocks * 512 > 8 * MiB, 120, "the guest's copy to start",
             every=0.005)
        os.kill(qemu_pid, signal.SIGSTOP)
        try:
            assert new.stat().st_blocks * 512 < FILLED, "the copy was over before it was caught"
            with cinder(cloud, cloud.token(), None) as http:
                assert ok(http.get(f"/volumes/{volume_id}"))["volume"]["migration_status"] == "migrating"
        finally:
            restart(cloud, qemu_pid)
        shown = wait(lambda: (v := cli(cloud, "volume", "show", "v1"))["os-vol-mig-status-attr:migstat"]
                     in ("success", "error") and v, 180, "the migration to end after the restart")
        assert shown["os-vol-mig-status-attr:migstat"] == "success" and shown["status"] == "in-use"
        assert shown["os-vol-host-attr:host"] == f"{host}@fast#fast"
        assert not old.exists()
        assert str(new) in open_files(where) and str(old) not in open_files(where)
        assert holds_pattern(new, 0x5a, 0) and holds_pattern(new, 0x5a, FILLED - 64 * 1024)
        console = shell(compute(cloud), server)
        console.run("echo after-the-crash | dd of=/dev/vdb bs=512 seek=4096 conv=fsync 2>/dev/null; echo written")
        assert read_at(new, 4096 * 512, 15) == b"after-the-crash"
        assert int(where.pidfile.read_text()) == qemu_pid  # the same QEMU all along
    finally:
        if console is not None:
            console.close()
        cloud.purge(check=False)
