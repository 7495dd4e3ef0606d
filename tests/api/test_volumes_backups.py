"""Backups over HTTP on the store on disk: full and incremental backups as compressed, checksummed chunks
with a manifest, restores into new and existing volumes, the statuses on the way, quotas, exported and
imported records, damaged data, and what another project sees."""

import hashlib
import json
import zlib

import pytest

from tests.api.helpers import ok, wait
from tests.api.volume_helpers import Project, cinder, holds_pattern, volume_file, write_pattern

MiB = 1024**2
CHUNK = 4 * MiB


def objects(cloud, backup_id: str) -> dict[str, bytes]:
    """The backup's own objects in the store on disk, by name (manifest included)."""
    root = cloud.data_dir / "backups" / "volumebackups"
    return {p.name: p.read_bytes() for p in root.rglob(f"*_backup_{backup_id}*") if p.is_file()}


def manifest(cloud, backup_id: str) -> dict:
    (data,) = [v for k, v in objects(cloud, backup_id).items() if k.endswith("_metadata")]
    return json.loads(data)


def write(cloud, volume_id: str, byte: int, offset: int) -> None:
    write_pattern(volume_file(cloud, volume_id), byte, offset)


def test_full_and_incremental_backups_store_only_what_changed(cloud, storage):
    volume = storage.volume(size=1)
    write(cloud, volume["id"], 0x61, 0)
    write(cloud, volume["id"], 0x62, 9 * MiB)
    full = storage.backup(volume["id"], name="full", description="first")
    assert (full["is_incremental"], full["size"], full["container"], full["object_count"]) == (
        False, 1, "volumebackups", 3)
    assert (full["fail_reason"], full["volume_id"], full["snapshot_id"]) == (None, volume["id"], None)
    stored = manifest(cloud, full["id"])
    chunks = stored["chunks"]
    assert len(chunks) == 256 and [i for i, c in enumerate(chunks) if c] == [0, 2]  # zeros are not stored
    for number, entry in ((1, chunks[0]), (3, chunks[2])):
        assert entry["object"].endswith(f"-{number:05d}")
        data = zlib.decompress(objects(cloud, full["id"])[entry["object"].rsplit("/", 1)[1]])
        assert len(data) == CHUNK and hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"
    write(cloud, volume["id"], 0x63, 9 * MiB)
    incremental = storage.backup(volume["id"], name="incr", incremental=True)
    assert incremental["is_incremental"] and incremental["object_count"] == 2  # one changed chunk, a manifest
    again = manifest(cloud, incremental["id"])
    assert again["chunks"][0] == chunks[0] and again["chunks"][2] != chunks[2]
    assert ok(storage.http.get(f"/backups/{full['id']}"))["backup"]["has_dependent_backups"] is True
    refused = storage.http.delete(f"/backups/{full['id']}")
    assert refused.status_code == 400 and "Incremental backups exist" in refused.text
    # Restoring the incremental reads chunks of both.
    restored = ok(storage.http.post(f"/backups/{incremental['id']}/restore", json={"restore": {"name": "back"}}),
                  202)["restore"]
    assert restored["backup_id"] == incremental["id"] and restored["volume_name"] == "back"
    back = storage.wait(restored["volume_id"], "available")
    assert back["size"] == 1 and back["name"] == "back"
    path = volume_file(cloud, back["id"])
    assert holds_pattern(path, 0x61, 0) and holds_pattern(path, 0x63, 9 * MiB) and holds_pattern(path, 0, 5 * MiB)
    storage.wait_backup(incremental["id"], "available")
    for backup in (incremental, full):
        ok(storage.http.delete(f"/backups/{backup['id']}"), 202)
        storage.gone(f"/backups/{backup['id']}")
        assert objects(cloud, backup["id"]) == {}


def test_restore_into_an_existing_volume_and_a_volume_from_a_backup(cloud, storage):
    source = storage.volume(size=1, metadata={"role": "db"})
    write(cloud, source["id"], 0x44, 0)
    ok(storage.http.post(f"/volumes/{source['id']}/action", json={"os-set_bootable": {"bootable": True}}))
    backup = storage.backup(source["id"])
    target = storage.volume(size=2)
    write(cloud, target["id"], 0x99, 0)
    ok(storage.http.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target["id"]}}), 202)
    restored = storage.wait(target["id"], "available")
    assert restored["size"] == 2 and restored["bootable"] == "true" and restored["metadata"] == {"role": "db"}
    assert holds_pattern(volume_file(cloud, target["id"]), 0x44)
    made = ok(storage.http.post("/volumes", json={"volume": {"backup_id": backup["id"], "name": "from-backup"}}),
              202)["volume"]
    made = storage.wait(made["id"], "available")
    assert made["size"] == 1 and holds_pattern(volume_file(cloud, made["id"]), 0x44)
    assert made["metadata"] == {"role": "db"} and made["bootable"] == "true"
    small = storage.volume(size=1)
    big = storage.volume(size=2)
    big_backup = storage.backup(big["id"])
    resp = storage.http.post(f"/backups/{big_backup['id']}/restore", json={"restore": {"volume_id": small["id"]}})
    assert resp.status_code == 400 and "too small" in resp.text
    resp = storage.http.post("/volumes", json={"volume": {"backup_id": big_backup["id"], "size": 1}})
    assert resp.status_code == 400 and "smaller" in resp.text


def test_what_may_be_backed_up(cloud, storage):
    volume = storage.volume()
    ok(storage.http.post(f"/volumes/{volume['id']}/action", json={"os-attach": {
        "instance_uuid": "6b9bb30c-2a27-4b4e-9a3f-35ef4b5e8f01", "mountpoint": "/dev/vdb"}}), 202)
    resp = storage.http.post("/backups", json={"backup": {"volume_id": volume["id"]}})
    assert resp.status_code == 400 and "in-use" in resp.text
    forced = storage.backup(volume["id"], force=True)
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "in-use"  # back where it was
    snapshot = storage.snapshot(volume["id"], force=True)
    of_snapshot = storage.backup(volume["id"], snapshot_id=snapshot["id"])
    assert of_snapshot["snapshot_id"] == snapshot["id"] and forced["snapshot_id"] is None
    assert storage.wait_snapshot(snapshot["id"], "available")
    fresh = storage.volume()
    resp = storage.http.post("/backups", json={"backup": {"volume_id": fresh["id"], "incremental": True}})
    assert resp.status_code == 400 and "No backups available" in resp.text
    other_snapshot = storage.snapshot(fresh["id"])
    resp = storage.http.post("/backups", json={"backup": {"volume_id": volume["id"],
                                                          "snapshot_id": other_snapshot["id"]}})
    assert resp.status_code == 400 and "is not of volume" in resp.text


def test_statuses_while_a_backup_runs(cloud, storage):
    volume = storage.volume(size=1)
    for offset in range(0, 64 * MiB, 4 * MiB):
        write(cloud, volume["id"], 0x10 + offset // (4 * MiB), offset)
    created = storage.backup(volume["id"], status=None)
    seen = {ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["status"]}
    backup = ok(storage.http.get(f"/backups/{created['id']}"))["backup"]
    assert backup["status"] in ("creating", "available")
    seen.add(storage.wait(volume["id"], "available")["status"])
    assert seen <= {"backing-up", "available"}
    storage.wait_backup(created["id"], "available")
    new = ok(storage.http.post(f"/backups/{created['id']}/restore", json={"restore": None}), 202)["restore"]
    status = ok(storage.http.get(f"/volumes/{new['volume_id']}"))["volume"]["status"]
    assert status in ("restoring-backup", "available")
    assert new["volume_name"] == f"restore_backup_{created['id']}"
    storage.wait(new["volume_id"], "available")


def test_lists_updates_metadata_and_microversions(cloud, storage):
    volume = storage.volume()
    first = storage.backup(volume["id"], name="b-one", metadata={"k": "v"})
    second = storage.backup(volume["id"], name="b-two")
    listed = ok(storage.http.get("/backups"))["backups"]
    assert {b["id"] for b in listed} >= {first["id"], second["id"]} and set(listed[0]) == {"id", "name", "links"}
    detail = ok(storage.http.get("/backups/detail", params={"name": "b-one"}))["backups"]
    assert [b["id"] for b in detail] == [first["id"]] and detail[0]["metadata"] == {"k": "v"}
    assert detail[0]["user_id"] == storage.user["id"]
    page = ok(storage.http.get("/backups/detail", params={"limit": 1, "with_count": "true", "sort": "name:asc"}))
    assert page["count"] >= 2 and len(page["backups"]) == 1 and "backups_links" in page
    updated = ok(storage.http.put(f"/backups/{first['id']}", json={"backup": {"name": "renamed",
                                                                             "metadata": {"a": "b"}}}))
    assert updated["backup"]["name"] == "renamed"
    assert ok(storage.http.get(f"/backups/{first['id']}"))["backup"]["metadata"] == {"a": "b"}
    with cinder(cloud, storage.token, storage.id, version="3.8") as old:
        assert old.put(f"/backups/{first['id']}", json={"backup": {"name": "x"}}).status_code == 404
        shown = ok(old.get(f"/backups/{first['id']}"))["backup"]
        assert not {"metadata", "user_id"} & set(shown)


def test_backup_quotas(cloud, admin, cinder_admin):
    project = Project(cloud, admin)
    volume = project.volume(size=2)
    ok(cinder_admin.put(f"/os-quota-sets/{project.id}", json={"quota_set": {"backups": 1}}))
    project.backup(volume["id"])
    resp = project.http.post("/backups", json={"backup": {"volume_id": volume["id"]}})
    assert resp.status_code == 413 and "BackupLimitExceeded" in resp.text
    ok(cinder_admin.put(f"/os-quota-sets/{project.id}", json={"quota_set": {"backups": 5, "backup_gigabytes": 3}}))
    resp = project.http.post("/backups", json={"backup": {"volume_id": volume["id"]}})
    assert resp.status_code == 413 and "Backup gigabytes" in resp.text
    usage = ok(project.http.get(f"/os-quota-sets/{project.id}", params={"usage": "true"}))["quota_set"]
    assert usage["backups"]["in_use"] == 1 and usage["backup_gigabytes"]["in_use"] == 2
    limits = ok(project.http.get("/limits"))["limits"]["absolute"]
    assert (limits["totalBackupsUsed"], limits["totalBackupGigabytesUsed"], limits["maxTotalBackups"]) == (1, 2, 5)


def test_export_and_import_a_backup_record(cloud, storage, cinder_admin):
    volume = storage.volume()
    write(cloud, volume["id"], 0x3C, 0)
    backup = storage.backup(volume["id"], name="exported")
    refused = storage.http.get(f"/backups/{backup['id']}/export_record")
    assert refused.status_code == 403
    record = ok(cinder_admin.get(f"/backups/{backup['id']}/export_record"))["backup-record"]
    assert record["backup_service"] == "cinder.backup.drivers.posix"
    # The record is all that is left of the backup in the database (as after losing it): import brings it back.
    cloud.execute("DELETE FROM volume_backup WHERE id = :id", id=backup["id"])
    assert storage.http.get(f"/backups/{backup['id']}").status_code == 404
    imported = ok(cinder_admin.post("/backups/import_record", json={"backup-record": record}), 201)["backup"]
    assert imported["id"] == backup["id"]
    shown = wait(lambda: (b := ok(cinder_admin.get(f"/backups/{backup['id']}"))["backup"])["status"] == "available"
                 and b, 30, "the imported backup")
    assert shown["name"] == "exported" and shown["object_count"] == 2
    again = cinder_admin.post("/backups/import_record", json={"backup-record": record})
    assert again.status_code == 400 and "already exists" in again.text
    restored = ok(cinder_admin.post(f"/backups/{backup['id']}/restore", json={"restore": {}}), 202)["restore"]
    wait(lambda: ok(cinder_admin.get(f"/volumes/{restored['volume_id']}"))["volume"]["status"] == "available", 30,
         "the restore of the imported backup")
    assert holds_pattern(volume_file(cloud, restored["volume_id"]), 0x3C)


@pytest.mark.parametrize("record, status", [
    ({"backup_service": "cinder.backup.drivers.posix", "backup_url": "not base64!"}, 400),
    ({"backup_service": "cinder.backup.drivers.posix", "backup_url": "bm90IGpzb24="}, 400),
    ({"backup_service": "cinder.backup.drivers.posix", "backup_url": "WzFd"}, 400),
    ({"backup_service": "cinder.backup.drivers.nfs", "backup_url": "e30="}, 400),
    ({"backup_service": "x"}, 400),
])
def test_malformed_backup_records_are_refused(cinder_admin, record, status):
    assert cinder_admin.post("/backups/import_record", json={"backup-record": record}).status_code == status


def test_a_record_cannot_reach_outside_the_store(cloud, cinder_admin):
    import base64
    forged = {"id": "4b0b3b4e-1c0e-4b8f-9d7e-0c8e7b1f2a3c", "volume_id": "v", "size": 1, "driver": "posix",
              "container": "volumebackups", "object_prefix": "../../etc/passwd"}
    url = base64.b64encode(json.dumps(forged).encode()).decode()
    resp = cinder_admin.post("/backups/import_record", json={"backup-record": {
        "backup_service": "cinder.backup.drivers.posix", "backup_url": url}})
    assert resp.status_code == 400


def test_damaged_backup_data_fail_the_restore_with_the_reason(cloud, storage):
    volume = storage.volume()
    write(cloud, volume["id"], 0x55, 0)
    backup = storage.backup(volume["id"])
    root = cloud.data_dir / "backups" / "volumebackups"
    (chunk,) = root.rglob(f"*_backup_{backup['id']}-00001")
    chunk.write_bytes(zlib.compress(b"\x00" * CHUNK))
    target = storage.volume()
    ok(storage.http.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target["id"]}}), 202)
    wait(lambda: ok(storage.http.get(f"/volumes/{target['id']}"))["volume"]["status"] == "error_restoring", 30,
         "the restore to fail")
    assert storage.wait_backup(backup["id"], "available")["status"] == "available"


def test_tenants_are_walls_for_backups(cloud, admin, storage):
    volume = storage.volume()
    backup = storage.backup(volume["id"])
    other = Project(cloud, admin)
    mine = other.volume()
    assert backup["id"] not in {b["id"] for b in ok(other.http.get("/backups/detail"))["backups"]}
    for method, path, body in (("GET", f"/backups/{backup['id']}", None),
                               ("PUT", f"/backups/{backup['id']}", {"backup": {"name": "x"}}),
                               ("DELETE", f"/backups/{backup['id']}", None),
                               ("POST", f"/backups/{backup['id']}/restore", {"restore": {"volume_id": mine["id"]}}),
                               ("POST", "/backups", {"backup": {"volume_id": volume["id"]}})):
        resp = other.http.request(method, path, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
    # Nor may the owner restore into another project's volume.
    resp = storage.http.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": mine["id"]}})
    assert resp.status_code == 404
    reader = Project(cloud, admin, role="reader")
    resp = reader.http.post("/backups", json={"backup": {"volume_id": volume["id"]}})
    assert resp.status_code == 403, resp.text  # the reader sees the volume, but backup:create wants a member


@pytest.mark.parametrize("body", [
    {}, {"backup": {}}, {"backup": {"volume_id": "not-a-uuid"}}, {"backup": []},
    {"backup": {"volume_id": "6b9bb30c-2a27-4b4e-9a3f-35ef4b5e8f01", "incremental": "perhaps"}},
    {"backup": {"volume_id": "6b9bb30c-2a27-4b4e-9a3f-35ef4b5e8f01", "container": "a/b"}},
    {"backup": {"volume_id": "6b9bb30c-2a27-4b4e-9a3f-35ef4b5e8f01", "metadata": {"k": 1}}},
    {"backup": {"volume_id": "6b9bb30c-2a27-4b4e-9a3f-35ef4b5e8f01", "availability_zone": "mars"}},
    {"backup": {"volume_id": "6b9bb30c-2a27-4b4e-9a3f-35ef4b5e8f01", "bogus": 1}},
])
def test_malformed_backup_requests_are_400(storage, body):
    resp = storage.http.post("/backups", json=body)
    assert resp.status_code == 400, resp.text


def test_malformed_restores_and_actions_are_400(storage, cinder_admin):
    volume = storage.volume()
    backup = storage.backup(volume["id"])
    for body in ({}, {"restore": {"volume_id": "x"}}, {"restore": {"bogus": 1}}, {"restore": []}):
        assert storage.http.post(f"/backups/{backup['id']}/restore", json=body).status_code == 400, body
    path = f"/backups/{backup['id']}/action"
    assert storage.http.post(path, json={"os-reset_status": {"status": "error"}}).status_code == 403
    for body in ({}, {"os-reset_status": {}}, {"os-reset_status": {"status": "restoring"}}, {"os-bogus": {}}):
        assert cinder_admin.post(path, json=body).status_code == 400, body
    assert storage.http.get("/backups/not-a-uuid").status_code == 404
    assert storage.http.get("/backups/detail", params={"sort": "nope:asc"}).status_code == 400
