"""Nova's os-volumes and os-snapshots proxies (to 2.35) over HTTP on the fake driver: Cinder's volumes and
snapshots in Nova's shapes, made, listed, paged, shown attached and deleted through Nova; bad bodies are
400s; projects are walls and readers only read; 2.36 and later answer 404."""

from __future__ import annotations

import pytest

from tests.api import test_servers
from tests.api.helpers import member_of_new_project, nova, nova_error, ok
from tests.api.helpers import wait as settle
from tests.api.test_server_volumes import attach
from tests.api.test_servers import boot, wait

tenant, image_id = test_servers.tenant, test_servers.image_id

VOLUME_KEYS = {"id", "status", "size", "availabilityZone", "createdAt", "attachments", "displayName",
               "displayDescription", "volumeType", "snapshotId", "metadata"}


def proxied(tenant, path: str, status: str) -> dict:
    """The volume or snapshot at ``path`` once it has ``status``."""
    def reached():
        (shown,) = ok(tenant.get(path)).values()
        return shown if shown["status"] == status else None
    return settle(reached, 30, f"{path} {status}")


def gone(tenant, path: str) -> None:
    settle(lambda: tenant.get(path).status_code == 404, 30, f"{path} gone")


def test_volumes_made_listed_paged_attached_and_deleted_through_nova(tenant, image_id):
    made = ok(tenant.post("/os-volumes", json={"volume": {
        "size": "1", "display_name": "proxied", "display_description": "made through Nova",
        "metadata": {"purpose": "test"}}}))["volume"]
    assert set(made) == VOLUME_KEYS
    assert (made["displayName"], made["displayDescription"], made["size"]) == ("proxied", "made through Nova", 1)
    assert made["metadata"] == {"purpose": "test"} and made["snapshotId"] is None
    assert made["attachments"] == [{}]  # Nova's shape for a volume attached nowhere
    volume = proxied(tenant, f"/os-volumes/{made['id']}", "available")
    assert volume["volumeType"] and volume["availabilityZone"] == "nova"

    others = [ok(tenant.post("/os-volumes", json={"volume": {"size": 1}}))["volume"]["id"] for _ in range(2)]
    listed = [v["id"] for v in ok(tenant.get("/os-volumes"))["volumes"]]
    assert listed == [*reversed(others), made["id"]]  # newest first
    detailed = ok(tenant.get("/os-volumes/detail"))["volumes"]
    assert [v["id"] for v in detailed] == listed and all(set(v) == VOLUME_KEYS for v in detailed)
    assert [v["id"] for v in ok(tenant.get("/os-volumes?limit=1&offset=1"))["volumes"]] == listed[1:2]
    assert [v["id"] for v in ok(tenant.get("/os-volumes/detail?offset=2"))["volumes"]] == listed[2:]
    assert "offset" in nova_error(tenant.get("/os-volumes?offset=-1"), 400)

    # attached through os-volume_attachments, the proxy shows where
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    attach(tenant, server["id"], made["id"])
    shown = proxied(tenant, f"/os-volumes/{made['id']}", "in-use")
    assert shown["attachments"] == [{"id": made["id"], "volumeId": made["id"], "serverId": server["id"],
                                     "device": "/dev/vdb"}]
    assert "attached" in nova_error(tenant.delete(f"/os-volumes/{made['id']}"), 400)

    for volume_id in others:
        proxied(tenant, f"/os-volumes/{volume_id}", "available")
        assert tenant.delete(f"/os-volumes/{volume_id}").status_code == 202
        gone(tenant, f"/os-volumes/{volume_id}")


def test_snapshots_made_listed_and_deleted_through_nova(tenant):
    volume = ok(tenant.post("/os-volumes", json={"volume": {"size": 1}}))["volume"]
    proxied(tenant, f"/os-volumes/{volume['id']}", "available")
    made = ok(tenant.post("/os-snapshots", json={"snapshot": {
        "volume_id": volume["id"], "display_name": "snap", "display_description": "of it", "force": "false"}}))
    snapshot = made["snapshot"]
    assert set(snapshot) == {"id", "volumeId", "status", "size", "createdAt", "displayName", "displayDescription"}
    assert (snapshot["volumeId"], snapshot["displayName"], snapshot["size"]) == (volume["id"], "snap", 1)
    assert proxied(tenant, f"/os-snapshots/{snapshot['id']}", "available")["displayDescription"] == "of it"
    assert [s["id"] for s in ok(tenant.get("/os-snapshots"))["snapshots"]] == [snapshot["id"]]
    assert [s["id"] for s in ok(tenant.get("/os-snapshots/detail?offset=1"))["snapshots"]] == []
    # a volume made from the snapshot names it
    clone = ok(tenant.post("/os-volumes", json={"volume": {"size": 1, "snapshot_id": snapshot["id"]}}))["volume"]
    assert clone["snapshotId"] == snapshot["id"]
    proxied(tenant, f"/os-volumes/{clone['id']}", "available")
    assert "snapshots" in nova_error(tenant.delete(f"/os-volumes/{volume['id']}"), 400)
    assert tenant.delete(f"/os-snapshots/{snapshot['id']}").status_code == 202
    gone(tenant, f"/os-snapshots/{snapshot['id']}")
    nova_error(tenant.post("/os-snapshots", json={"snapshot": {"volume_id": "no-such-volume"}}), 404)
    nova_error(tenant.post("/os-volumes", json={"volume": {"size": 1, "snapshot_id": snapshot["id"]}}), 404)


@pytest.mark.parametrize("body", [
    {"volume": {"size": "#$%"}}, {"volume": {"size": ""}}, {"volume": {"size": "0"}}, {"volume": {"size": 0}},
    {"volume": {"display_name": "no size"}}, {"volume": {"size": 1, "bogus": 1}}, {"volume": "1"}, {},
    {"volume": {"size": 1, "metadata": {"k": 1}}}])
def test_malformed_volume_bodies_are_400(tenant, body):
    nova_error(tenant.post("/os-volumes", json=body), 400)


def test_missing_volumes_and_snapshots_are_404(tenant):
    for path in ("/os-volumes/8a1e0f55-5c4c-4b1a-9f54-3d0c2f3c1a11", "/os-volumes/not-a-uuid",
                 "/os-snapshots/8a1e0f55-5c4c-4b1a-9f54-3d0c2f3c1a11"):
        nova_error(tenant.get(path), 404)
        nova_error(tenant.delete(path), 404)
    nova_error(tenant.post("/os-snapshots", json={"snapshot": {}}), 400)


def test_gone_at_2_36(tenant):
    later = {"X-OpenStack-Nova-API-Version": "2.36"}
    nova_error(tenant.get("/os-volumes", headers=later), 404)
    nova_error(tenant.post("/os-volumes", json={"volume": {"size": 1}}, headers=later), 404)
    nova_error(tenant.get("/os-snapshots/detail", headers=later), 404)
    for path in ("/os-volumes", "/os-snapshots"):  # any body, or none: no longer served
        nova_error(tenant.post(path, json={}, headers=later), 404)
        nova_error(tenant.post(path, headers=later), 404)


def test_projects_are_walls_and_readers_only_read(cloud, admin, tenant):
    volume = ok(tenant.post("/os-volumes", json={"volume": {"size": 1}}))["volume"]
    _, _, stranger_token = member_of_new_project(cloud, admin)
    with nova(cloud, stranger_token, "2.1") as stranger:
        nova_error(stranger.get(f"/os-volumes/{volume['id']}"), 404)
        nova_error(stranger.delete(f"/os-volumes/{volume['id']}"), 404)
        assert ok(stranger.get("/os-volumes"))["volumes"] == []
        nova_error(stranger.post("/os-snapshots", json={"snapshot": {"volume_id": volume["id"]}}), 404)
    reader_project, _, reader_token = member_of_new_project(cloud, admin, role="reader")
    with nova(cloud, reader_token, "2.1") as reader:
        assert ok(reader.get("/os-volumes"))["volumes"] == []
        nova_error(reader.post("/os-volumes", json={"volume": {"size": 1}}), 403)
    proxied(tenant, f"/os-volumes/{volume['id']}", "available")
