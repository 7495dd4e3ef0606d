"""Volume migration between two file backends (``volume.file_backends``), as Cinder's: ``openstack volume
migrate --host`` and ``openstack volume set --type X --retype-policy on-demand`` through the real CLI, the
API's refusals, and a ``kill -9`` while the data are copied.  The data are checked by the SHA-256 of the
volume's contents read with qemu-img before and after each move."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud

SETTINGS = {"volume": {"file_backends": {"fast": ""}}}
ADMIN_VERSION = {"OpenStack-API-Version": "volume 3.68"}


@pytest.fixture
def two_backends(tmp_path):
    cloud = Cloud(tmp_path / "data", settings=SETTINGS).start()
    yield cloud
    cloud.stop()


def admin_volumes(cloud) -> httpx.Client:
    issued = cloud.issue()
    token, project = issued.headers["X-Subject-Token"], issued.json()["token"]["project"]["id"]
    return httpx.Client(base_url=f"{cloud.url}/volume/v3/{project}", headers={"X-Auth-Token": token, **ADMIN_VERSION},
                        timeout=60)


def file_of(cloud, backend: str, volume_id: str) -> Path:
    return cloud.data_dir / ("volumes" if backend == "file" else f"volumes-{backend}") / f"volume-{volume_id}.qcow2"


def digest(path: Path, tmp: Path) -> str:
    """SHA-256 of the volume's contents (its chain flattened), as a guest would read them."""
    raw = tmp / "read.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", str(path), str(raw)], check=True,
                   capture_output=True)
    try:
        return hashlib.sha256(raw.read_bytes()).hexdigest()
    finally:
        raw.unlink()


def fill(path: Path, tmp: Path, mib: int) -> None:
    noise = tmp / "noise.raw"
    noise.write_bytes(os.urandom(mib * 1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "qcow2", str(noise), str(path)], check=True,
                   capture_output=True)
    noise.unlink()


def shown(volumes: httpx.Client, volume_id: str) -> dict:
    return ok(volumes.get(f"/volumes/{volume_id}"))["volume"]


def migrated(volumes: httpx.Client, volume_id: str, seconds: float = 120) -> dict:
    return wait(lambda: (v := shown(volumes, volume_id))["migration_status"] in ("success", "error") and v,
                seconds, "the migration to end")


def make_types(volumes: httpx.Client) -> None:
    for name, backend in (("slow", "file"), ("fast", "fast")):
        ok(volumes.post("/types", json={"volume_type": {"name": name,
                                                         "extra_specs": {"volume_backend_name": backend}}}))


def test_migrate_and_retype_between_file_backends_with_the_cli(two_backends, tmp_path):
    cloud = two_backends
    volumes = admin_volumes(cloud)
    host = socket.gethostname()
    make_types(volumes)
    # the two backends as Cinder shows them: a pool and a volume service each
    pools = sorted(p["name"] for p in ok(volumes.get("/scheduler-stats/get_pools"))["pools"])
    assert pools == [f"{host}@fast#fast", f"{host}@file#file"]
    services = sorted(s["host"] for s in ok(volumes.get("/os-services"))["services"] if s["binary"] == "cinder-volume")
    assert services == [f"{host}@fast", f"{host}@file"]

    created = cloud.openstack("volume", "create", "--size", "1", "--type", "slow", "-f", "value", "-c", "id", "mv")
    volume_id = created.stdout.strip()
    wait(lambda: shown(volumes, volume_id)["status"] == "available", 60, "available")
    volume = shown(volumes, volume_id)
    assert volume["os-vol-host-attr:host"] == f"{host}@file#file" and volume["migration_status"] is None
    fill(file_of(cloud, "file", volume_id), tmp_path, 24)
    before = digest(file_of(cloud, "file", volume_id), tmp_path)

    # an admin's migration to the other backend: the data move, the volume keeps its id, type and status
    cloud.openstack("volume", "migrate", "--host", f"{host}@fast#fast", volume_id)
    volume = migrated(volumes, volume_id)
    assert volume["migration_status"] == "success" and volume["os-vol-mig-status-attr:migstat"] == "success"
    assert volume["os-vol-host-attr:host"] == f"{host}@fast#fast"
    assert volume["status"] == "available" and volume["volume_type"] == "slow" and volume["id"] == volume_id
    assert not file_of(cloud, "file", volume_id).exists()
    assert digest(file_of(cloud, "fast", volume_id), tmp_path) == before
    listed = cloud.openstack("volume", "show", volume_id, "-f", "json")
    assert '"os-vol-mig-status-attr:migstat": "success"' in listed.stdout
    assert f'"os-vol-host-attr:host": "{host}@fast#fast"' in listed.stdout

    # a retype to another type of the first backend, migrating on demand: back on `file`, with the new type
    ok(volumes.post("/types", json={"volume_type": {"name": "slow2", "extra_specs": {"volume_backend_name": "file"}}}))
    cloud.openstack("volume", "set", "--type", "slow2", "--retype-policy", "on-demand", volume_id)
    wait(lambda: shown(volumes, volume_id)["volume_type"] == "slow2", 120, "the retype")
    volume = shown(volumes, volume_id)
    assert volume["migration_status"] == "success" and volume["status"] == "available"
    assert volume["os-vol-host-attr:host"] == f"{host}@file#file"
    assert not file_of(cloud, "fast", volume_id).exists()
    assert digest(file_of(cloud, "file", volume_id), tmp_path) == before
    volumes.close()


def test_migration_refusals_and_policy(two_backends):
    cloud = two_backends
    volumes = admin_volumes(cloud)
    host = socket.gethostname()
    make_types(volumes)
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "slow"}}), 202)["volume"]
    wait(lambda: shown(volumes, volume["id"])["status"] == "available", 60, "available")
    act = f"/volumes/{volume['id']}/action"

    def migrate(body: dict) -> httpx.Response:
        return volumes.post(act, json={"os-migrate_volume": body})

    assert migrate({"host": f"{host}@file#file"}).status_code == 400  # where it is already
    assert migrate({"host": f"{host}@nowhere"}).status_code == 400
    assert migrate({"host": "elsewhere@fast"}).status_code == 400
    assert migrate({}).status_code == 400
    assert migrate({"host": f"{host}@fast", "bogus": 1}).status_code == 400
    assert volumes.post(f"/volumes/{'0' * 8}-0000-0000-0000-{'0' * 12}/action",
                        json={"os-migrate_volume": {"host": f"{host}@fast"}}).status_code == 404
    # retype to another backend's type without on-demand: refused, nothing changes
    never = volumes.post(act, json={"os-retype": {"new_type": "fast", "migration_policy": "never"}})
    assert never.status_code == 400 and shown(volumes, volume["id"])["volume_type"] == "slow"
    # a volume with a snapshot does not move
    snapshot = ok(volumes.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}), 202)["snapshot"]
    wait(lambda: ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 60, "snap")
    with_snapshot = migrate({"host": f"{host}@fast"})
    assert with_snapshot.status_code == 400 and "snapshots" in with_snapshot.json()["badRequest"]["message"]
    ok(volumes.delete(f"/snapshots/{snapshot['id']}"), 202)
    wait(lambda: volumes.get(f"/snapshots/{snapshot['id']}").status_code == 404, 60, "snapshot gone")

    # a member of the project may retype but not migrate (admins only, as Cinder's policy)
    project = ok(cloud.client().post("/projects", json={"project": {"name": "mig-members"}}), 201)["project"]
    admin_client = cloud.client()
    user = ok(admin_client.post("/users", json={"user": {"name": "mig-member", "password": "secret-pass-1",
                                                         "default_project_id": project["id"]}}), 201)["user"]
    roles = ok(admin_client.get("/roles", params={"name": "member"}))["roles"]
    admin_client.put(f"/projects/{project['id']}/users/{user['id']}/roles/{roles[0]['id']}").raise_for_status()
    token = cloud.issue("mig-member", "secret-pass-1", "mig-members").headers["X-Subject-Token"]
    member = httpx.Client(base_url=f"{cloud.url}/volume/v3/{project['id']}",
                          headers={"X-Auth-Token": token, **ADMIN_VERSION}, timeout=60)
    own = ok(member.post("/volumes", json={"volume": {"size": 1, "volume_type": "slow"}}), 202)["volume"]
    wait(lambda: ok(member.get(f"/volumes/{own['id']}"))["volume"]["status"] == "available", 60, "available")
    forbidden = member.post(f"/volumes/{own['id']}/action", json={"os-migrate_volume": {"host": f"{host}@fast"}})
    assert forbidden.status_code == 403
    # another project's volume is not found, whatever the action
    assert member.post(f"/volumes/{volume['id']}/action",
                       json={"os-retype": {"new_type": "fast", "migration_policy": "on-demand"}}).status_code == 404
    ok(member.post(f"/volumes/{own['id']}/action",
                   json={"os-retype": {"new_type": "fast", "migration_policy": "on-demand"}}), 202)
    wait(lambda: ok(member.get(f"/volumes/{own['id']}"))["volume"]["volume_type"] == "fast", 60, "retyped")
    mine = ok(member.get(f"/volumes/{own['id']}"))["volume"]
    assert mine["status"] == "available" and mine["migration_status"] is None  # an admin's field only
    assert shown(volumes, own["id"])["os-vol-host-attr:host"] == f"{host}@fast#fast"

    # a copy that fails (the volume's data missing behind the cloud's back): error, the volume left where it was
    lost = file_of(cloud, "file", volume["id"])
    kept = lost.read_bytes()
    lost.unlink()
    ok(volumes.post(act, json={"os-migrate_volume": {"host": f"{host}@fast"}}), 202)
    failed = migrated(volumes, volume["id"])
    assert failed["migration_status"] == "error" and failed["status"] == "available"
    assert failed["os-vol-host-attr:host"] == f"{host}@file#file"
    assert not file_of(cloud, "fast", volume["id"]).exists()
    lost.write_bytes(kept)

    # migrated with lock_volume while a locked volume is maintenance, then back to available
    ok(volumes.post(act, json={"os-migrate_volume": {"host": f"{host}@fast", "lock_volume": True,
                                                      "force_host_copy": False}}), 202)
    ended = migrated(volumes, volume["id"])
    assert ended["status"] == "available" and ended["migration_status"] == "success"
    member.close()
    volumes.close()


def test_kill_9_mid_migration_resumes_it(two_backends, tmp_path):
    cloud = two_backends
    volumes = admin_volumes(cloud)
    host = socket.gethostname()
    make_types(volumes)
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "slow"}}), 202)["volume"]
    wait(lambda: shown(volumes, volume["id"])["status"] == "available", 60, "available")
    source = file_of(cloud, "file", volume["id"])
    # 384 MiB that do not compress: the copy takes long enough for the kill to land in it
    fill(source, tmp_path, 384)
    before = digest(source, tmp_path)
    ok(volumes.post(f"/volumes/{volume['id']}/action", json={"os-migrate_volume": {"host": f"{host}@fast"}}), 202)
    partial = cloud.data_dir / "volumes-fast" / f".volume-{volume['id']}.migrate.partial"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not partial.exists():
        time.sleep(0.002)
    assert partial.exists(), "the migration's copy was never seen under way"
    assert shown(volumes, volume["id"])["migration_status"] == "migrating"
    cloud.kill_9()
    assert partial.exists() and source.exists()  # cut in the middle: the source whole, the copy half made
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    volumes = admin_volumes(cloud)
    ended = migrated(volumes, volume["id"])
    assert ended["migration_status"] == "success" and ended["status"] == "available"
    assert ended["os-vol-host-attr:host"] == f"{host}@fast#fast"
    assert not partial.exists() and not source.exists()
    assert digest(file_of(cloud, "fast", volume["id"]), tmp_path) == before
    # usable: it grows, and deletes leaving no file on either backend
    ok(volumes.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}}), 202)
    wait(lambda: shown(volumes, volume["id"])["size"] == 2 and shown(volumes, volume["id"])["status"] == "available",
         60, "extended")
    ok(volumes.delete(f"/volumes/{volume['id']}"), 202)
    wait(lambda: volumes.get(f"/volumes/{volume['id']}").status_code == 404, 60, "deleted")
    assert [p for d in ("volumes", "volumes-fast") for p in (cloud.data_dir / d).iterdir()
            if p.name.startswith(("volume-", ".volume-"))] == []
    volumes.close()


def test_migrating_an_attached_volume_records_a_swap_volume_action(two_backends):
    """Cinder's migration of an attached volume has Nova swap the server's disk: the server shows a
    ``swap_volume`` action closed by a ``compute_swap_volume`` event, once per migration (fake compute driver)."""
    cloud = two_backends
    volumes = admin_volumes(cloud)
    host = socket.gethostname()
    make_types(volumes)
    headers = {"X-Auth-Token": cloud.token()}
    with httpx.Client(base_url=f"{cloud.url}/image", headers=headers, timeout=60) as glance:
        image = ok(glance.post("/v2/images", json={"name": "tiny", "disk_format": "raw", "container_format": "bare"}),
                   201)
        ok(glance.put(f"/v2/images/{image['id']}/file", content=b"\0" * 4096,
                      headers={"Content-Type": "application/octet-stream"}), 204)
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1",
                        headers={**headers, "OpenStack-API-Version": "compute 2.37"}, timeout=60)
    server = ok(nova.post("/servers", json={"server": {"name": "mv", "imageRef": image["id"], "flavorRef": "1",
                                                       "networks": "none"}}), 202)["server"]
    wait(lambda: ok(nova.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE", 60, "ACTIVE")
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "slow"}}), 202)["volume"]
    wait(lambda: shown(volumes, volume["id"])["status"] == "available", 60, "available")
    ok(nova.post(f"/servers/{server['id']}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume["id"]}}))
    wait(lambda: shown(volumes, volume["id"])["status"] == "in-use", 60, "in-use")

    def swaps() -> list[dict]:
        actions = ok(nova.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]
        return [a for a in actions if a["action"] == "swap_volume"]

    assert swaps() == []
    ok(volumes.post(f"/volumes/{volume['id']}/action", json={"os-migrate_volume": {"host": f"{host}@fast#fast"}}),
       202)
    moved = migrated(volumes, volume["id"])
    assert moved["migration_status"] == "success" and moved["status"] == "in-use"
    assert moved["os-vol-host-attr:host"] == f"{host}@fast#fast"
    (action,) = swaps()
    assert action["instance_uuid"] == server["id"] and action["message"] is None
    detail = ok(nova.get(f"/servers/{server['id']}/os-instance-actions/{action['request_id']}"))["instanceAction"]
    assert [(e["event"], e["result"]) for e in detail["events"]] == [("compute_swap_volume", "Success")]
    # the server still holds the volume, now on the other backend; a retype back records a second swap
    attached = ok(nova.get(f"/servers/{server['id']}/os-volume_attachments"))["volumeAttachments"]
    assert [a["volumeId"] for a in attached] == [volume["id"]]
    ok(volumes.post("/types", json={"volume_type": {"name": "slow2", "extra_specs": {"volume_backend_name": "file"}}}))
    ok(volumes.post(f"/volumes/{volume['id']}/action",
                    json={"os-retype": {"new_type": "slow2", "migration_policy": "on-demand"}}), 202)
    wait(lambda: shown(volumes, volume["id"])["volume_type"] == "slow2", 120, "the retype back")
    assert shown(volumes, volume["id"])["os-vol-host-attr:host"] == f"{host}@file#file"
    assert len(swaps()) == 2

    # a multiattach volume written by two servers: Cinder accepts the migration, Nova refuses the swap it asks
    # for (400, MultiattachSwapVolumeNotSupported, before any action is recorded), so the migration ends
    # ``error`` with the volume in use where it was, and a retype on-demand leaves its type
    ok(volumes.post("/types", json={"volume_type": {"name": "shared", "extra_specs": {
        "volume_backend_name": "file", "multiattach": "<is> True"}}}))
    ok(volumes.post("/types", json={"volume_type": {"name": "shared-fast", "extra_specs": {
        "volume_backend_name": "fast", "multiattach": "<is> True"}}}))
    other = ok(nova.post("/servers", json={"server": {"name": "mv2", "imageRef": image["id"], "flavorRef": "1",
                                                      "networks": "none"}}), 202)["server"]
    wait(lambda: ok(nova.get(f"/servers/{other['id']}"))["server"]["status"] == "ACTIVE", 60, "ACTIVE")
    both = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "shared"}}), 202)["volume"]
    wait(lambda: shown(volumes, both["id"])["status"] == "available", 60, "available")
    for holder in (server, other):
        ok(nova.post(f"/servers/{holder['id']}/os-volume_attachments", json={"volumeAttachment": {"volumeId": both["id"]}},
                     headers={"OpenStack-API-Version": "compute 2.60"}))
    wait(lambda: len(shown(volumes, both["id"])["attachments"]) == 2, 60, "attached twice")
    ok(volumes.post(f"/volumes/{both['id']}/action", json={"os-migrate_volume": {"host": f"{host}@fast"}}), 202)
    refused = migrated(volumes, both["id"])
    assert refused["migration_status"] == "error" and refused["status"] == "in-use"
    assert refused["os-vol-host-attr:host"] == f"{host}@file#file" and len(refused["attachments"]) == 2
    assert not file_of(cloud, "fast", both["id"]).exists() and file_of(cloud, "file", both["id"]).exists()
    # no action on either server: Nova's API refused before recording one
    assert len(swaps()) == 2
    assert [a["action"] for a in ok(nova.get(f"/servers/{other['id']}/os-instance-actions"))["instanceActions"]
            if a["action"] == "swap_volume"] == []
    logged = "".join(log.read_text(errors="replace") for log in cloud.data_dir.rglob("*.log"))
    assert "Swapping multi-attach volumes with more than one read/write attachment is not supported." in logged
    ok(volumes.post(f"/volumes/{both['id']}/action",
                    json={"os-retype": {"new_type": "shared-fast", "migration_policy": "on-demand"}}), 202)
    retyped = migrated(volumes, both["id"])
    assert retyped["migration_status"] == "error" and retyped["status"] == "in-use"
    assert retyped["volume_type"] == "shared" and retyped["os-vol-host-attr:host"] == f"{host}@file#file"
    # read by two servers (read-only attachments, 3.54): Nova would swap it one server after the other onto the
    # same new volume, which this cloud does not do: refused up front
    readers = ok(volumes.post("/volumes", json={"volume": {"size": 1, "volume_type": "shared"}}), 202)["volume"]
    wait(lambda: shown(volumes, readers["id"])["status"] == "available", 60, "available")
    for reader in (server, other):
        made = ok(volumes.post("/attachments", headers={"OpenStack-API-Version": "volume 3.54"}, json={"attachment": {
            "volume_uuid": readers["id"], "instance_uuid": reader["id"], "mode": "ro",
            "connector": {"host": host, "platform": "x86_64", "os_type": "linux", "multipath": False}}}))
        ok(volumes.post(f"/attachments/{made['attachment']['id']}/action", json={"os-complete": None}), 204)
    assert shown(volumes, readers["id"])["status"] == "in-use"
    read_only = volumes.post(f"/volumes/{readers['id']}/action", json={"os-migrate_volume": {"host": f"{host}@fast"}})
    assert read_only.status_code == 400 and "read-only" in read_only.json()["badRequest"]["message"]
    assert shown(volumes, readers["id"])["migration_status"] is None
    nova.close()
    volumes.close()
