"""Backups into Object Storage (``volume.backup_driver: swift``): Cinder's Swift layout in the owner's own
account, reached over the Swift API with the caller's token; restores read it back; deletes empty it."""

import base64
import json

import httpx
import pytest

from tests.api.helpers import ok
from tests.api.volume_helpers import Project, holds_pattern, volume_file, write_pattern
from tests.cloudfixture import Cloud

MiB = 1024**2


@pytest.fixture(scope="module")
def swift_cloud(tmp_path_factory):
    cloud = Cloud(tmp_path_factory.mktemp("swift-backups"), settings={"volume": {"backup_driver": "swift"}}).start()
    yield cloud
    cloud.stop()


@pytest.fixture
def project(swift_cloud):
    with swift_cloud.client() as admin:
        return Project(swift_cloud, admin)


def account(cloud, project: Project) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/object-store/v1/AUTH_{project.id}",
                        headers={"X-Auth-Token": project.token}, timeout=30)


def listed(cloud, project: Project, container: str = "volumebackups") -> list[str]:
    with account(cloud, project) as swift:
        resp = swift.get(f"/{container}", params={"format": "json"})
    return [] if resp.status_code == 404 else [o["name"] for o in resp.json()]


def test_backups_go_to_the_owners_account_in_cinders_layout(swift_cloud, project):
    cloud = swift_cloud
    volume = project.volume(size=1)
    write_pattern(volume_file(cloud, volume["id"]), 0x71, 0)
    write_pattern(volume_file(cloud, volume["id"]), 0x72, 12 * MiB)
    full = project.backup(volume["id"], name="to-swift")
    assert full["container"] == "volumebackups" and full["object_count"] == 3
    prefix = f"volume_{volume['id']}/"
    names = listed(cloud, project)
    mine = sorted(n for n in names if full["id"] in n)
    assert all(n.startswith(prefix) and f"az_nova_backup_{full['id']}" in n for n in mine)
    assert [n.rsplit("_backup_", 1)[1].split(full["id"], 1)[1] for n in mine] == ["-00001", "-00004", "_metadata"]
    with account(cloud, project) as swift:
        stored = json.loads(swift.get(f"/volumebackups/{mine[-1]}").content)
    assert stored["backup_id"] == full["id"] and len(stored["chunks"]) == 256
    assert not (cloud.data_dir / "backups").exists() or not list((cloud.data_dir / "backups").rglob("*-00001"))
    write_pattern(volume_file(cloud, volume["id"]), 0x73, 12 * MiB)
    incremental = project.backup(volume["id"], incremental=True, container="elsewhere")
    assert incremental["object_count"] == 2 and len(listed(cloud, project, "elsewhere")) == 2
    restored = ok(project.http.post(f"/backups/{incremental['id']}/restore", json={"restore": {}}), 202)["restore"]
    project.wait(restored["volume_id"], "available")
    path = volume_file(cloud, restored["volume_id"])
    assert holds_pattern(path, 0x71, 0) and holds_pattern(path, 0x73, 12 * MiB)
    project.wait_backup(incremental["id"], "available")
    for backup in (incremental, full):
        ok(project.http.delete(f"/backups/{backup['id']}"), 202)
        project.gone(f"/backups/{backup['id']}")
    assert not [n for n in listed(cloud, project) + listed(cloud, project, "elsewhere")
                if full["id"] in n or incremental["id"] in n]


def test_another_project_cannot_read_the_backup_objects(swift_cloud, project):
    cloud = swift_cloud
    volume = project.volume()
    backup = project.backup(volume["id"])
    with swift_cloud.client() as admin:
        other = Project(cloud, admin)
    with httpx.Client(base_url=f"{cloud.url}/object-store/v1/AUTH_{project.id}",
                      headers={"X-Auth-Token": other.token}, timeout=30) as swift:
        assert swift.get("/volumebackups").status_code == 403
    assert other.http.get(f"/backups/{backup['id']}").status_code == 404


def test_an_imported_swift_record_may_only_name_this_clouds_object_storage(swift_cloud):
    cloud = swift_cloud
    token = cloud.token()
    project_id = httpx.get(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": token,
                                                                         "X-Subject-Token": token}
                           ).json()["token"]["project"]["id"]
    with httpx.Client(base_url=f"{cloud.url}/volume/v3/{project_id}", headers={"X-Auth-Token": token},
                      timeout=30) as admin:
        forged = {"id": "5c0b3b4e-1c0e-4b8f-9d7e-0c8e7b1f2a3c", "volume_id": "v", "size": 1, "driver": "swift",
                  "container": "volumebackups", "object_prefix": "p", "store_url": "http://attacker.example/AUTH_x"}
        url = base64.b64encode(json.dumps(forged).encode()).decode()
        resp = admin.post("/backups/import_record", json={"backup-record": {
            "backup_service": "cinder.backup.drivers.swift", "backup_url": url}})
        assert resp.status_code == 400 and "outside this cloud" in resp.text
