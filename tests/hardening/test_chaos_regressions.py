"""What the chaos run (test_chaos.py) found, each held by a test of its own: the state a `kill -9` leaves
in the window it struck is made directly (the cloud stopped, the row or file put as the crash left it),
then the cloud restarts and is read through the API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    c = Cloud(tmp_path_factory.mktemp("chaos-regressions")).start()
    yield c
    c.stop()


def restart_with(cloud: Cloud, *statements: tuple[str, tuple]) -> None:
    """kill the cloud at rest, apply ``statements`` to its database as the crash left it, start it again."""
    cloud.stop()
    with sqlite3.connect(cloud.data_dir / "onestack.db") as db:
        for sql, args in statements:
            db.execute(sql, args)
    cloud.start()


def test_an_upload_cut_after_its_data_was_in_place_leaves_no_file(cloud):
    """The upload's data renamed into the store, the row still `saving` when the process died: the client was
    never told 204, so after the restart the image waits for data (queued) and its file is gone, not left
    beside a queued row for ever.  A new upload then works."""
    glance = httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": cloud.token()}, timeout=30)
    image = ok(glance.post("/images", json={"name": "cut", "disk_format": "raw", "container_format": "bare"}), 201)
    ok(glance.put(f"/images/{image['id']}/file", content=b"x" * 4096,
                  headers={"Content-Type": "application/octet-stream"}), 204)
    restart_with(cloud, ("update image_image set status = 'saving', size = null, checksum = null where id = ?",
                         (image["id"],)))
    glance.headers["X-Auth-Token"] = cloud.token()
    after = ok(glance.get(f"/images/{image['id']}"))
    assert after["status"] == "queued" and after["size"] is None
    assert not (cloud.data_dir / "images" / image["id"]).exists()
    assert glance.get(f"/images/{image['id']}/file").status_code == 204
    ok(glance.put(f"/images/{image['id']}/file", content=b"y" * 4096,
                  headers={"Content-Type": "application/octet-stream"}), 204)
    assert glance.get(f"/images/{image['id']}/file").content == b"y" * 4096


def test_a_restore_cut_while_it_imported_the_data_leaves_no_temporary_file(cloud):
    """A `kill -9` while a backup's data were being turned into the volume's file (a restore, Cinder's
    import of a backup) left that file's temporary, ``.volume-<id>.qcow2.partial``, under the data dir for
    good: start-up took the name for a snapshot's overlay, and the volume existed. The temporary is named for
    what it is now (``.volume-<id>.import.partial``) and start-up removes both; the restore is reported
    failed (``error_restoring``), its backup is available again, and deleting the volume leaves nothing."""
    from tests.api.volume_helpers import Project

    with cloud.client() as admin:
        storage = Project(cloud, admin)
    source = storage.volume()
    backup = storage.backup(source["id"])
    target = storage.volume()
    volumes = cloud.data_dir / "volumes"
    left = [volumes / f".volume-{target['id']}.qcow2.partial", volumes / f".volume-{target['id']}.import.partial"]
    cloud.stop()
    for path in left:
        path.write_bytes(b"QFI\xfb half imported")
    restart_with(cloud, ("update volume set status = 'restoring-backup' where id = ?", (target["id"],)),
                 ("update volume_backup set status = 'restoring', task = 'restore', restore_volume_id = ? where id = ?",
                  (target["id"], backup["id"])))
    storage.http.headers["X-Auth-Token"] = cloud.token(storage.user["name"], "secret-pass-1", storage.project["name"])
    after = ok(storage.http.get(f"/volumes/{target['id']}"))["volume"]
    assert after["status"] == "error_restoring"
    assert sorted(p.name for p in volumes.iterdir() if p.name.startswith(".")) == []
    assert ok(storage.http.get(f"/backups/{backup['id']}"))["backup"]["status"] == "available"
    ok(storage.http.delete(f"/volumes/{target['id']}"), 202)
    wait(lambda: storage.http.get(f"/volumes/{target['id']}").status_code == 404, 30, "the volume gone")
    assert not [p for p in volumes.iterdir() if target["id"] in p.name]


def test_a_container_no_row_wants_is_destroyed_at_start_and_the_chaos_check_sees_one(tmp_path):
    """A container server's row deleted while its container ran (a `kill -9` between the two): the container
    runs on, apart from the server by design (its own session, cgroup and namespace). At start the host's sync
    destroys what no row wants: the container, its cgroup's processes, its DHCP client, namespace, mount and
    directory, so the chaos run's container check (``invariants.check_containers``) finds nothing; and that
    check does find a directory no server owns."""
    import os

    from onestack.drivers.runc import runtime
    from onestack.guestimage import container as container_image
    from tests.hardening import invariants
    from tests.hardening.chaos import Chaos

    if os.geteuid() != 0 or not runtime.installed():
        pytest.skip("container servers need root and runc (make install installs it)")
    cloud = Cloud(tmp_path, settings={"compute": {"driver": "qemu", "containers": True}}).start()
    try:
        built = container_image.build().path
        nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=60)
        glance = httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": cloud.token()}, timeout=60)
        image = ok(glance.post("/images", json={"name": "ctr", "disk_format": "raw", "container_format": "oci"}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=built.read_bytes(),
                      headers={"Content-Type": "application/octet-stream"}), 204)
        server = ok(nova.post("/servers", headers={"OpenStack-API-Version": "compute 2.37"}, json={"server": {
            "name": "orphan", "imageRef": image["id"], "flavorRef": "42", "networks": "none"}}), 202)["server"]
        wait(lambda: ok(nova.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE", 120, "ACTIVE")
        runc_root = cloud.data_dir / "compute" / "runc"
        assert (runc_root / "runc" / server["id"] / "state.json").exists()
        restart_with(cloud, ("update compute_instance set deleted = 1 where id = ?", (server["id"],)))
        wait(lambda: not (runc_root / "instances" / server["id"]).exists(), 60, "the orphan container destroyed")
        check = Chaos(cloud, container_image=built)
        check.admin = check.client(cloud.token())
        try:
            invariants.check_containers(check)
            assert check.report.violations == []
            planted = runc_root / "instances" / "0badc0de-0000-4000-8000-000000000000"
            planted.mkdir()
            invariants.check_containers(check)
            assert check.report.violations == [
                f"instance directory compute/runc/instances/{planted.name}: no container server {planted.name} exists"]
            planted.rmdir()
        finally:
            check.payloads.shutdown()
        assert not [line for line in Path("/proc/mounts").read_text().splitlines() if server["id"] in line]
    finally:
        cloud.purge(check=False)
