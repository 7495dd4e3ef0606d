"""Rebuild of a volume-backed server (2.93) on the fake driver, over HTTP: the root volume is re-imaged
through Block Storage's os-reimage (its file then holds exactly the new image's bytes), the server keeps
its volume, moved to a new attachment, and is ACTIVE again; below 2.93 Nova's 400 (but for the image the
volume holds: then rebuilt on the volume as it is); a re-image the volume
refuses leaves the server in ERROR and the volume in-use with its old data, never reserved."""

import os

from tests.api import test_server_volumes, test_servers
from tests.api.helpers import ok
from tests.api.helpers import wait as settle
from tests.api.test_server_volumes import at, boot_with, wait_volume
from tests.api.test_servers import wait
from tests.api.test_volumes_images import make_image
from tests.api.test_volumes_reimage import volume_bytes
from tests.api.volume_helpers import volume_file

tenant, volumes = test_servers.tenant, test_server_volumes.volumes
MiB = 1024**2


def _root_from(cloud, tenant, volumes, data: bytes) -> tuple[dict, dict]:
    """A server booted from a volume made from an image holding ``data``; (server, volume)."""
    token = tenant.headers["X-Auth-Token"]
    image = make_image(cloud, token, data, disk_format="raw")
    made = ok(volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}}), 202)["volume"]
    volume = wait_volume(volumes, made["id"], "available")
    server = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": volume["id"],
                                 "boot_index": 0}])["server"]
    server = wait(tenant, server["id"], "ACTIVE", "ERROR")
    assert server["status"] == "ACTIVE", server.get("fault")
    return server, volume


def _attachment_id(volumes, volume_id: str) -> str:
    (attachment,) = ok(volumes.get(f"/volumes/{volume_id}"))["volume"]["attachments"]
    return attachment["attachment_id"]


def test_rebuild_reimages_the_root_volume(cloud, tenant, volumes):
    old_data, new_data = os.urandom(MiB), os.urandom(2 * MiB)
    server, volume = _root_from(cloud, tenant, volumes, old_data)
    path = volume_file(cloud, volume["id"])
    assert volume_bytes(path, MiB) == old_data
    first_attachment = _attachment_id(volumes, volume["id"])
    new_image = make_image(cloud, tenant.headers["X-Auth-Token"], new_data, disk_format="raw", os_distro="new")
    action = f"/servers/{server['id']}/action"

    # Nova before 2.93: a volume-backed server is not rebuilt with another image
    old = tenant.post(action, json={"rebuild": {"imageRef": new_image["id"]}}, headers=at("2.92"))
    assert old.status_code == 400 and "volume-backed" in old.text, old.text
    assert ok(tenant.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE"
    # ... but on the image its volume holds, rebuilt on the volume as it is (no re-image)
    own = volume["volume_image_metadata"]["image_id"]
    ok(tenant.post(action, json={"rebuild": {"imageRef": own}}, headers=at("2.92")), 202)
    assert wait(tenant, server["id"], "ACTIVE", "ERROR")["status"] == "ACTIVE"
    assert _attachment_id(volumes, volume["id"]) == first_attachment and volume_bytes(path, MiB) == old_data

    reply = ok(tenant.post(action, json={"rebuild": {"imageRef": new_image["id"], "name": "rebuilt"}},
                           headers=at("2.93")), 202)["server"]
    assert reply["status"] == "REBUILD" and reply["image"] == "" and reply["name"] == "rebuilt"
    rebuilt = wait(tenant, server["id"], "ACTIVE", "ERROR")
    assert rebuilt["status"] == "ACTIVE", rebuilt.get("fault")
    assert rebuilt["image"] == ""  # still volume-backed: no image of its own, as Nova shows it

    shown = ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]
    assert shown["status"] == "in-use" and shown["volume_image_metadata"]["image_id"] == new_image["id"]
    (attachment,) = shown["attachments"]
    assert attachment["server_id"] == server["id"] and attachment["device"] == "/dev/vda"
    assert attachment["attachment_id"] != first_attachment  # Nova's flow: a new attachment, the old one gone
    assert ok(volumes.get(f"/attachments/{attachment['attachment_id']}"))["attachment"]["status"] == "attached"
    assert volumes.get(f"/attachments/{first_attachment}").status_code == 404
    assert volume_bytes(path, 2 * MiB) == new_data  # the guest's disk now holds the new image, exactly
    listed = ok(tenant.get(f"/servers/{server['id']}/os-volume_attachments"))["volumeAttachments"]
    assert [(a["volumeId"], a["device"]) for a in listed] == [(volume["id"], "/dev/vda")]
    actions = ok(tenant.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]
    assert actions[0]["action"] == "rebuild"
    events = ok(tenant.get(f"/servers/{server['id']}/os-instance-actions/{actions[0]['request_id']}",
                           headers=at("2.51")))["instanceAction"]["events"]
    assert [(e["event"], e["result"]) for e in events] == [("compute_rebuild_instance", "Success")]

    # and again, on the same volume: reimaged once more
    ok(tenant.post(action, json={"rebuild": {"imageRef": new_image["id"]}}, headers=at("2.93")), 202)
    assert wait(tenant, server["id"], "ACTIVE", "ERROR")["status"] == "ACTIVE"
    assert volume_bytes(path, 2 * MiB) == new_data
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    wait_volume(volumes, volume["id"], "available")


def test_a_refused_reimage_leaves_the_volume_in_use_and_the_server_in_error(cloud, tenant, volumes):
    old_data = os.urandom(MiB)
    server, volume = _root_from(cloud, tenant, volumes, old_data)
    # an image the 1 GB volume cannot take: Block Storage refuses it (400), after the guest was destroyed
    too_big = make_image(cloud, tenant.headers["X-Auth-Token"], os.urandom(MiB), disk_format="raw", min_disk=2)
    ok(tenant.post(f"/servers/{server['id']}/action", json={"rebuild": {"imageRef": too_big["id"]}},
                   headers=at("2.93")), 202)
    failed = wait(tenant, server["id"], "ERROR", "ACTIVE")
    assert failed["status"] == "ERROR" and "re-imaged" in failed["fault"]["message"], failed
    shown = wait_volume(volumes, volume["id"], "in-use")  # never left reserved
    assert shown["volume_image_metadata"]["image_id"] != too_big["id"]
    assert volume_bytes(volume_file(cloud, volume["id"]), MiB) == old_data
    # a server in ERROR is rebuilt again, with an image that fits
    fits = make_image(cloud, tenant.headers["X-Auth-Token"], os.urandom(MiB), disk_format="raw")
    ok(tenant.post(f"/servers/{server['id']}/action", json={"rebuild": {"imageRef": fits["id"]}},
                   headers=at("2.93")), 202)
    assert wait(tenant, server["id"], "ACTIVE", "ERROR")["status"] == "ACTIVE"
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["volume_image_metadata"]["image_id"] == fits["id"]



def test_a_server_deleted_while_its_root_volume_is_reimaged_lets_the_volume_go(cloud, tenant, volumes):
    server, volume = _root_from(cloud, tenant, volumes, os.urandom(MiB))
    big = make_image(cloud, tenant.headers["X-Auth-Token"], os.urandom(MiB) * 128, disk_format="raw")
    ok(tenant.post(f"/servers/{server['id']}/action", json={"rebuild": {"imageRef": big["id"]}},
                   headers=at("2.93")), 202)
    settle(lambda: ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "downloading", 60,
           "the root volume downloading")
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    # the re-image ends, and with the server gone nothing holds the volume: available, not reserved
    shown = wait_volume(volumes, volume["id"], "available")
    assert shown["attachments"] == []
    assert ok(volumes.get("/attachments", params={"volume_id": volume["id"]}))["attachments"] == []
