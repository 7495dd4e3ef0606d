"""Backups of RBD volumes as Cinder's Ceph backup driver makes them: a full backup is the ``rbd export-diff``
stream of an RBD snapshot ``backup.<id>`` of the volume, an incremental one the diff from the previous
backup's snapshot (which then goes: only the latest backup's stays on the volume), both kept in the backup
store; a restore applies the full stream and the incremental ones with ``rbd import-diff``.  Checked by
checksums: each restore (into a new file volume, a new RBD volume made from the backup, an RBD volume that
held other data) holds exactly the data of the snapshot the backup read, not what was written after it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest

from tests.api.helpers import ok, wait
from tests.api.test_volumes_rbd import rbd_snaps, uri, write_rbd
from tests.api.volume_helpers import Project, volume_file
from tests.clients.test_volume_crash import admin_clients
from tests.cloudfixture import Cloud

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
MiB = 1024**2
GiB = 1024**3


@pytest.fixture(scope="module")
def cloud(ceph_cluster, tmp_path_factory):
    """Backups in the default (posix) store; a type ``rbd`` on the cluster beside the default file one."""
    made = Cloud(tmp_path_factory.mktemp("rbd-diff-backups"), settings={"ceph": ceph_cluster.settings()}).start()
    made.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "rbd")
    yield made
    made.stop()


def write_random(cluster, image: str, tmp_path, size: int) -> None:
    data = tmp_path / "random.raw"
    data.write_bytes(os.urandom(size))
    subprocess.run(["qemu-img", "convert", "-q", "-n", "-f", "raw", "-O", "raw", str(data), uri(cluster, image)],
                   check=True, timeout=120)


def checksum(source: str, work, fmt: str = "raw") -> str:
    """The SHA-256 of a volume's data (1 GiB) read through qemu-img."""
    raw = work / "checked.raw"
    raw.unlink(missing_ok=True)
    subprocess.run(["qemu-img", "convert", "-q", "-f", fmt, "-O", "raw", source, str(raw)], check=True, timeout=300)
    assert raw.stat().st_size == GiB
    digest = hashlib.sha256()
    with open(raw, "rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            digest.update(block)
    raw.unlink()
    return digest.hexdigest()


def manifest(cloud, backup: dict) -> dict:
    prefix = (cloud.data_dir / "backups" / backup["container"])
    found = list(prefix.rglob(f"*backup_{backup['id']}_metadata"))
    assert len(found) == 1, found
    return json.loads(found[0].read_bytes())


def test_incremental_backups_are_rbd_diffs_and_restore_to_the_snapshots_data(cloud, ceph_cluster, tmp_path):
    with cloud.client() as admin:
        project = Project(cloud, admin)
    http = project.http
    volume = project.volume(volume_type="rbd", size=1)
    image = f"volume-{volume['id']}"
    write_random(ceph_cluster, image, tmp_path, 8 * MiB)

    full = project.backup(volume["id"])
    assert full["is_incremental"] is False
    assert set(rbd_snaps(ceph_cluster, image)) == {f"backup.{full['id']}"}
    first = manifest(cloud, full)
    assert (first["kind"], first["from_snap"], first["base"]) == ("rbd-diff", None, None)
    assert full["object_count"] == len(first["diff"]) + 1 >= 3  # 8 MiB of random data: 3 pieces of 4 MiB

    write_rbd(ceph_cluster, image, 0x5C, offset=512 * MiB)
    increment = project.backup(volume["id"], incremental=True)
    assert increment["is_incremental"] is True
    second = manifest(cloud, increment)
    # the diff from the full backup's snapshot: 64 KiB changed, one small piece
    assert second["from_snap"] == f"backup.{full['id']}" and second["base"]["prefix"] == first["prefix"]
    assert increment["object_count"] == 2 and second["diff"][0]["length"] < MiB
    # the latest backup's snapshot only stays on the volume
    assert set(rbd_snaps(ceph_cluster, image)) == {f"backup.{increment['id']}"}
    expected = checksum(f"rbd:volumes/{image}@backup.{increment['id']}:id={ceph_cluster.client}:"
                        f"conf={ceph_cluster.conf}", tmp_path)
    write_rbd(ceph_cluster, image, 0x6D, offset=0)  # after the backup: no restore may hold it
    assert checksum(uri(ceph_cluster, image), tmp_path) != expected

    # into a new volume of the default (file) type: the streams go through a temporary image
    restored = ok(http.post(f"/backups/{increment['id']}/restore", json={"restore": {}}), 202)["restore"]
    project.wait(restored["volume_id"], "available")
    assert checksum(str(volume_file(cloud, restored["volume_id"])), tmp_path, "qcow2") == expected

    # a new RBD volume made from the backup: import-diff straight into it, its snapshots removed after
    created = ok(http.post("/volumes", json={"volume": {"backup_id": increment["id"], "volume_type": "rbd"}}),
                 202)["volume"]
    project.wait(created["id"], "available")
    assert checksum(uri(ceph_cluster, f"volume-{created['id']}"), tmp_path) == expected
    assert rbd_snaps(ceph_cluster, f"volume-{created['id']}") == {}

    # an RBD volume holding other data: restored whole (what the backup does not hold reads as zeros)
    other = project.volume(volume_type="rbd", size=1)
    write_rbd(ceph_cluster, f"volume-{other['id']}", 0x99, offset=900 * MiB)
    ok(http.post(f"/backups/{increment['id']}/restore", json={"restore": {"volume_id": other["id"]}}), 202)
    project.wait(other["id"], "available")
    assert checksum(uri(ceph_cluster, f"volume-{other['id']}"), tmp_path) == expected
    assert not {name for name in ceph_cluster.images("volumes") if name.endswith(".partial")}

    # deleting the backups takes the snapshot the latest one read
    for backup in (increment, full):
        ok(http.delete(f"/backups/{backup['id']}"), 202)
        project.gone(f"/backups/{backup['id']}")
    assert rbd_snaps(ceph_cluster, image) == {}
    for made in (volume["id"], restored["volume_id"], created["id"], other["id"]):
        ok(http.delete(f"/volumes/{made}"), 202)
    for made in (volume["id"], restored["volume_id"], created["id"], other["id"]):
        project.gone(f"/volumes/{made}")


def test_a_kill_9_mid_diff_backup_leaves_no_piece_and_no_snapshot(cloud, ceph_cluster, tmp_path):
    """Cinder's start-up cleanup for an RBD diff backup: the server killed while the export-diff stream is
    being stored, the restart ends the backup in ``error``, purges the pieces it stored and takes its RBD
    snapshot off the volume, which is ``available`` again and backs up afresh.  The module's server,
    restarted (this test is the module's last)."""
    volumes, images = admin_clients(cloud)
    images.close()
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "rbd"}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available", 60,
         "available")
    image = f"volume-{volume['id']}"
    write_random(ceph_cluster, image, tmp_path, 256 * MiB)  # a stream long enough for the kill to land in
    backup = ok(volumes.post("/backups", json={"backup": {"volume_id": volume["id"]}}), 202)["backup"]
    store = cloud.data_dir / "backups"
    wait(lambda: store.exists() and any(store.rglob(f"*backup_{backup['id']}-*")), 120,
         "the backup's first pieces stored")
    assert f"backup.{backup['id']}" in rbd_snaps(ceph_cluster, image)
    cloud.kill_9()
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    volumes, images = admin_clients(cloud)
    images.close()
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"
    ended = ok(volumes.get(f"/backups/{backup['id']}"))["backup"]
    assert ended["status"] == "error" and "restarted" in ended["fail_reason"], ended
    wait(lambda: not any(store.rglob(f"*backup_{backup['id']}*")), 60, "the cut backup's pieces purged")
    wait(lambda: rbd_snaps(ceph_cluster, image) == {}, 60, "its snapshot taken off the volume")
    ok(volumes.delete(f"/backups/{backup['id']}"), 202)
    again = ok(volumes.post("/backups", json={"backup": {"volume_id": volume["id"]}}), 202)["backup"]
    wait(lambda: ok(volumes.get(f"/backups/{again['id']}"))["backup"]["status"] == "available", 300,
         "a backup after the restart")
    assert set(rbd_snaps(ceph_cluster, image)) == {f"backup.{again['id']}"}
    ok(volumes.delete(f"/backups/{again['id']}"), 202)
    wait(lambda: volumes.get(f"/backups/{again['id']}").status_code == 404, 60, "the backup deleted")
    ok(volumes.delete(f"/volumes/{volume['id']}"), 202)
    wait(lambda: image not in ceph_cluster.images("volumes"), 60, "the volume's image removed")
    volumes.close()
