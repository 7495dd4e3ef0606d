"""Revert a volume to its latest snapshot (3.40) over HTTP, data checked in the files: what was written after
the snapshot is gone, what was before is back; only the latest snapshot, of the volume's size, both available;
an encrypted volume reverts too; refused below 3.40 and to another project."""

from tests.api.helpers import ok
from tests.api.test_volumes_encryption import _encrypted_type, _holds_mark, _passphrase, _qemu_io
from tests.api.volume_helpers import Project, holds_pattern, volume_file, write_pattern


def _revert(storage, volume_id: str, snapshot_id, version: str = "3.40"):
    return storage.http.post(f"/volumes/{volume_id}/action", json={"revert": {"snapshot_id": snapshot_id}},
                             headers={"OpenStack-API-Version": f"volume {version}"})


def test_a_volume_goes_back_to_its_latest_snapshot(cloud, admin, storage):
    volume = storage.volume()
    path = volume_file(cloud, volume["id"])
    write_pattern(path, 0x11)
    first = storage.snapshot(volume["id"])
    write_pattern(path, 0x22)
    latest = storage.snapshot(volume["id"])
    write_pattern(path, 0x33)
    write_pattern(path, 0x44, offset=1024 * 1024)  # where the snapshot holds nothing
    # only the latest snapshot
    older = _revert(storage, volume["id"], first["id"])
    assert older.status_code == 400 and "not the latest" in older.text, older.text
    assert _revert(storage, volume["id"], None).status_code == 400
    # not before 3.40
    assert _revert(storage, volume["id"], latest["id"], version="3.39").status_code == 404
    # another project sees no such volume
    assert _revert(Project(cloud, admin), volume["id"], latest["id"]).status_code == 404

    ok(_revert(storage, volume["id"], latest["id"]), 202)
    storage.wait(volume["id"], "available")
    assert ok(storage.http.get(f"/snapshots/{latest['id']}"))["snapshot"]["status"] == "available"
    assert holds_pattern(path, 0x22) and not holds_pattern(path, 0x44, offset=1024 * 1024)
    # again, after more writes: the snapshot is unchanged by the first revert
    write_pattern(path, 0x55)
    ok(_revert(storage, volume["id"], latest["id"]), 202)
    storage.wait(volume["id"], "available")
    assert holds_pattern(path, 0x22)
    # the snapshots still go as before (the reverted file backs on the latest one)
    for snapshot in (latest, first):
        ok(storage.http.delete(f"/snapshots/{snapshot['id']}"), 202)
        storage.gone(f"/snapshots/{snapshot['id']}")
    assert holds_pattern(path, 0x22)


def test_a_revert_is_refused_for_a_busy_volume_or_another_size(cloud, storage):
    volume = storage.volume()
    snapshot = storage.snapshot(volume["id"])
    # the volume must be available (409), as must the snapshot
    reserved = ok(storage.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"]}}), 200)
    busy = _revert(storage, volume["id"], snapshot["id"])
    assert busy.status_code == 409 and "available" in busy.text, busy.text
    ok(storage.http.delete(f"/attachments/{reserved['attachment']['id']}"))
    storage.wait(volume["id"], "available")
    # an extended volume cannot go back to a smaller snapshot
    ok(storage.http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}}), 202)
    storage.wait(volume["id"], "available")
    bigger = _revert(storage, volume["id"], snapshot["id"])
    assert bigger.status_code == 400 and "size" in bigger.text, bigger.text
    # a volume with no snapshot
    bare = storage.volume()
    assert _revert(storage, bare["id"], snapshot["id"]).status_code == 400
    # malformed bodies are 400, never 500
    for body in ({"revert": {"snapshot_id": 5}}, {"revert": "x"}):
        assert storage.http.post(f"/volumes/{volume['id']}/action", json=body,
                                 headers={"OpenStack-API-Version": "volume 3.40"}).status_code == 400


def test_an_encrypted_volume_reverts(cloud, cinder_admin, storage):
    volume = storage.volume(volume_type=_encrypted_type(cinder_admin))
    path = volume_file(cloud, volume["id"])
    passphrase = _passphrase(cloud, volume["encryption_key_id"])
    assert _qemu_io(path, passphrase, "write -P 90 0 64k").returncode == 0
    snapshot = storage.snapshot(volume["id"])
    assert _qemu_io(path, passphrase, "write -P 91 0 64k").returncode == 0
    ok(_revert(storage, volume["id"], snapshot["id"]), 202)
    storage.wait(volume["id"], "available")
    assert _holds_mark(path, passphrase)  # 90 (0x5A), the mark, is back
    assert bytes([90]) * 4096 not in path.read_bytes()
    assert _qemu_io(path, None, "read 0 4k").returncode != 0
