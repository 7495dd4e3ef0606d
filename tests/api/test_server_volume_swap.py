"""Swapping a server's volume for another (Nova's PUT os-volume_attachments/{volume} naming a new volumeId, with
Cinder's os-migrate_volume_completion) on the fake driver: both volumes' statuses and attachments, the
server's listing, Nova's refusals and policy (admins only), as Tempest's test_volume_swap reads them."""

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import ok
from tests.api.test_server_volumes import attach, new_volume, volumes, wait_volume  # noqa: F401 (fixtures)
from tests.api.test_servers import boot, wait

tenant, image_id = test_servers.tenant, test_servers.image_id


@pytest.fixture
def nova_admin(cloud):
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()},
                      timeout=60) as client:
        yield client


@pytest.fixture
def server(tenant, image_id) -> dict:
    return wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")


def swap(client, server_id: str, old: str, new: str):
    return client.put(f"/servers/{server_id}/os-volume_attachments/{old}",
                      json={"volumeAttachment": {"volumeId": new}})


def attached_ids(tenant, server_id: str) -> list[str]:
    return [a["volumeId"] for a in ok(tenant.get(f"/servers/{server_id}/os-volume_attachments"))["volumeAttachments"]]


def test_swap_there_and_back_as_tempest_does(cloud, tenant, volumes, server, nova_admin):  # noqa: F811
    first, second = new_volume(volumes, name="v1"), new_volume(volumes, name="v2")
    device = attach(tenant, server["id"], first["id"])["volumeAttachment"]["device"]
    # the policy is Nova's: only an admin swaps
    reply = swap(tenant, server["id"], first["id"], second["id"])
    assert reply.status_code == 403 and "forbidden" in reply.json()
    assert ok(volumes.get(f"/volumes/{second['id']}"))["volume"]["status"] == "available"

    assert swap(nova_admin, server["id"], first["id"], second["id"]).status_code == 202
    old = wait_volume(volumes, first["id"], "available")
    new = wait_volume(volumes, second["id"], "in-use")
    assert old["attachments"] == []
    (attachment,) = new["attachments"]
    assert (attachment["server_id"], attachment["device"]) == (server["id"], device)
    assert ok(volumes.get(f"/attachments/{attachment['attachment_id']}"))["attachment"]["status"] == "attached"
    assert attached_ids(tenant, server["id"]) == [second["id"]]
    shown = ok(tenant.get(f"/servers/{server['id']}/os-volume_attachments/{second['id']}"))["volumeAttachment"]
    assert shown["device"] == device
    assert tenant.get(f"/servers/{server['id']}/os-volume_attachments/{first['id']}").status_code == 404

    # and back: the server holds the first volume again, the second is free
    assert swap(nova_admin, server["id"], second["id"], first["id"]).status_code == 202
    wait_volume(volumes, second["id"], "available")
    wait_volume(volumes, first["id"], "in-use")
    assert attached_ids(tenant, server["id"]) == [first["id"]]
    actions = [a["action"] for a in ok(tenant.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]]
    assert actions.count("swap_volume") == 2
    # each closed by its compute_swap_volume event, as Nova's compute records it (events: admins)
    listed = ok(nova_admin.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]
    for action in (a for a in listed if a["action"] == "swap_volume"):
        detail = ok(nova_admin.get(f"/servers/{server['id']}/os-instance-actions/{action['request_id']}"))
        events = detail["instanceAction"]["events"]
        assert [(e["event"], e["result"]) for e in events] == [("compute_swap_volume", "Success")]
    # the volume the server now holds detaches as any other
    assert tenant.delete(f"/servers/{server['id']}/os-volume_attachments/{first['id']}").status_code == 202
    wait_volume(volumes, first["id"], "available")


def test_nova_refusals(cloud, tenant, volumes, server, nova_admin):  # noqa: F811
    attached, free, small_server_volume = new_volume(volumes, size=2), new_volume(volumes, size=2), new_volume(volumes)
    attach(tenant, server["id"], attached["id"])
    missing = "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11"
    # a volume the server does not hold, or no such new volume: 404
    assert swap(nova_admin, server["id"], free["id"], attached["id"]).status_code == 404
    assert swap(nova_admin, server["id"], attached["id"], missing).status_code == 404
    assert swap(nova_admin, missing, attached["id"], free["id"]).status_code == 404
    # smaller, or attached elsewhere: 400
    reply = swap(nova_admin, server["id"], attached["id"], small_server_volume["id"])
    assert reply.status_code == 400 and "same size or larger" in reply.json()["badRequest"]["message"]
    busy = new_volume(volumes, size=2)
    attach(tenant, server["id"], busy["id"])
    reply = swap(nova_admin, server["id"], attached["id"], busy["id"])
    assert reply.status_code == 400 and "detached" in reply.json()["badRequest"]["message"]
    # a malformed body: 400
    bad = nova_admin.put(f"/servers/{server['id']}/os-volume_attachments/{attached['id']}",
                         json={"volumeAttachment": {"volumeId": "not-a-uuid"}})
    assert bad.status_code == 400
    # a locked server (admins pass Nova's lock), a stopped one: 409
    ok(tenant.post(f"/servers/{server['id']}/action", json={"os-stop": None}), 202)
    wait(tenant, server["id"], "SHUTOFF")
    assert swap(nova_admin, server["id"], attached["id"], free["id"]).status_code == 409
    # nothing moved
    for volume, status in ((attached, "in-use"), (free, "available"), (busy, "in-use")):
        assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == status
    assert attached_ids(tenant, server["id"]) == [attached["id"], busy["id"]]


def test_os_migrate_volume_completion_is_cinders(cloud, tenant, volumes, server, cinder_admin):  # noqa: F811
    """An admin's own completion moves the server's attachment to the new volume (Cinder's swap path)."""
    first, second = new_volume(volumes), new_volume(volumes)
    attach(tenant, server["id"], first["id"])
    body = {"os-migrate_volume_completion": {"new_volume": second["id"], "error": False}}
    reply = volumes.post(f"/volumes/{first['id']}/action", json=body)
    assert reply.status_code == 403
    path = f"/volumes/{first['id']}/action"
    admin = cinder_admin
    bad = admin.post(path, json={"os-migrate_volume_completion": {"new_volume": "x"}})
    assert bad.status_code == 400 and "badRequest" in bad.json()
    missing = admin.post(path, json={"os-migrate_volume_completion": {
        "new_volume": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11"}})
    assert missing.status_code == 404, missing.text
    # with error: nothing changes, the new id answered all the same (Cinder's)
    errored = ok(admin.post(path, json={"os-migrate_volume_completion": {"new_volume": second["id"],
                                                                          "error": True}}))
    assert errored == {"save_volume_id": second["id"]}
    assert ok(volumes.get(f"/volumes/{first['id']}"))["volume"]["status"] == "in-use"
    assert ok(admin.post(path, json=body)) == {"save_volume_id": second["id"]}
    assert ok(volumes.get(f"/volumes/{first['id']}"))["volume"]["status"] == "available"
    moved = ok(volumes.get(f"/volumes/{second['id']}"))["volume"]
    assert moved["status"] == "in-use" and moved["attachments"][0]["server_id"] == server["id"]
