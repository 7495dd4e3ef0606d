"""Volumes attached to servers (os-volume_attachments) on the fake driver: Nova and Cinder agree on every
status, device names, tags and delete_on_termination by microversion, a server's delete letting its volumes
go, tenant walls, and malformed requests answered 400."""

import json

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import grant, make_user, member_of_new_project, nova, ok
from tests.api.helpers import wait as settle
from tests.api.test_servers import boot, wait
from tests.api.volume_helpers import cinder, image_info, volume_file

tenant, image_id = test_servers.tenant, test_servers.image_id


def at(version: str) -> dict:
    return {"X-OpenStack-Nova-API-Version": version}


@pytest.fixture
def volumes(cloud, tenant):
    """The tenant's Block Storage client."""
    with cinder(cloud, tenant.headers["X-Auth-Token"], tenant.project_id) as client:
        yield client


def new_volume(volumes, **asked) -> dict:
    made = ok(volumes.post("/volumes", json={"volume": {"size": 1, **asked}}), 202)["volume"]
    return wait_volume(volumes, made["id"], "available")


def wait_volume(volumes, volume_id: str, status: str) -> dict:
    def reached():
        volume = ok(volumes.get(f"/volumes/{volume_id}"))["volume"]
        return volume if volume["status"] == status else None
    return settle(reached, 30, f"volume {volume_id} {status}")


@pytest.fixture
def server(tenant, image_id) -> dict:
    return wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")


def attach(tenant, server_id: str, volume_id: str, version: str = "2.1", status: int = 200, **extra) -> dict:
    reply = tenant.post(f"/servers/{server_id}/os-volume_attachments",
                        json={"volumeAttachment": {"volumeId": volume_id, **extra}}, headers=at(version))
    return ok(reply, status)


def a_server_with_a_volume(tenant, image_id: str, volumes) -> tuple[dict, dict]:
    """An ACTIVE server with a new volume attached and in use."""
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    volume = new_volume(volumes)
    attach(tenant, server["id"], volume["id"])
    wait_volume(volumes, volume["id"], "in-use")
    return server, volume


def test_attach_show_list_and_detach_walk_the_statuses(tenant, volumes, server):
    first, second = new_volume(volumes, name="v1"), new_volume(volumes, name="v2")
    path = f"/servers/{server['id']}/os-volume_attachments"
    made = attach(tenant, server["id"], first["id"], "2.79", tag="data", delete_on_termination=True)
    assert made["volumeAttachment"] == {"id": first["id"], "serverId": server["id"], "volumeId": first["id"],
                                        "device": "/dev/vdb", "tag": "data", "delete_on_termination": True}
    shown = ok(volumes.get(f"/volumes/{first['id']}"))["volume"]
    assert shown["status"] == "in-use"
    (attachment,) = shown["attachments"]
    assert (attachment["server_id"], attachment["device"]) == (server["id"], "/dev/vdb")
    assert ok(volumes.get(f"/attachments/{attachment['attachment_id']}"))["attachment"]["status"] == "attached"

    assert attach(tenant, server["id"], second["id"])["volumeAttachment"]["device"] == "/dev/vdc"
    listed = ok(tenant.get(path))["volumeAttachments"]
    assert [(a["volumeId"], a["device"]) for a in listed] == [(first["id"], "/dev/vdb"), (second["id"], "/dev/vdc")]
    assert [a["volumeId"] for a in ok(tenant.get(path, params={"limit": 1, "offset": 1}))["volumeAttachments"]] \
        == [second["id"]]
    one = ok(tenant.get(f"{path}/{first['id']}", headers=at("2.89")))["volumeAttachment"]
    assert "id" not in one and one["attachment_id"] == attachment["attachment_id"] and one["bdm_uuid"]
    assert one["tag"] == "data" and one["delete_on_termination"] is True
    assert ok(tenant.get(f"{path}/{first['id']}"))["volumeAttachment"] == {
        "id": first["id"], "serverId": server["id"], "volumeId": first["id"], "device": "/dev/vdb"}
    body = ok(tenant.get(f"/servers/{server['id']}", headers=at("2.3")))["server"]
    assert body["os-extended-volumes:volumes_attached"] == [{"id": first["id"], "delete_on_termination": True},
                                                            {"id": second["id"], "delete_on_termination": False}]
    assert ok(tenant.get(f"/servers/{server['id']}"))["server"]["os-extended-volumes:volumes_attached"] == [
        {"id": first["id"]}, {"id": second["id"]}]

    # the same volume again, or a volume in use elsewhere: Cinder's 400
    assert tenant.post(path, json={"volumeAttachment": {"volumeId": first["id"]}}).status_code == 400
    assert tenant.delete(f"{path}/{first['id']}").status_code == 202
    assert ok(volumes.get(f"/volumes/{first['id']}"))["volume"]["status"] == "available"
    assert ok(volumes.get(f"/volumes/{first['id']}"))["volume"]["attachments"] == []
    assert [a["volumeId"] for a in ok(tenant.get(path))["volumeAttachments"]] == [second["id"]]
    assert tenant.get(f"{path}/{first['id']}").status_code == 404
    assert tenant.delete(f"{path}/{first['id']}").status_code == 404
    # the freed name is the next one given
    assert attach(tenant, server["id"], first["id"])["volumeAttachment"]["device"] == "/dev/vdb"
    actions = [a["action"] for a in ok(tenant.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]]
    assert actions.count("attach_volume") == 3 and actions.count("detach_volume") == 1


def test_a_deleted_server_lets_its_volumes_go(tenant, volumes, server):
    kept, doomed = new_volume(volumes), new_volume(volumes)
    attach(tenant, server["id"], kept["id"])
    attach(tenant, server["id"], doomed["id"], "2.79", delete_on_termination=True)
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    wait_volume(volumes, kept["id"], "available")
    settle(lambda: volumes.get(f"/volumes/{doomed['id']}").status_code == 404, 30, "the volume deleted")


def test_stopped_and_locked_servers_and_updates(tenant, volumes, server):
    volume = new_volume(volumes)
    path = f"/servers/{server['id']}/os-volume_attachments"
    ok(tenant.post(f"/servers/{server['id']}/action", json={"os-stop": None}), 202)
    wait(tenant, server["id"], "SHUTOFF")
    attach(tenant, server["id"], volume["id"])
    assert wait_volume(volumes, volume["id"], "in-use")
    # 2.85: delete_on_termination may change, nothing else; before 2.85 there is nothing to update
    same = {"volumeAttachment": {"volumeId": volume["id"], "delete_on_termination": True}}
    assert tenant.put(f"{path}/{volume['id']}", json=same).status_code == 400
    ok(tenant.put(f"{path}/{volume['id']}", json=same, headers=at("2.85")), 202)
    assert ok(tenant.get(f"{path}/{volume['id']}", headers=at("2.85")))["volumeAttachment"][
        "delete_on_termination"] is True
    moved = {"volumeAttachment": {"volumeId": volume["id"], "device": "/dev/vdz"}}
    assert tenant.put(f"{path}/{volume['id']}", json=moved, headers=at("2.85")).status_code == 400
    # swapping for another volume is an admin's (tests/api/test_server_volume_swap.py)
    other = new_volume(volumes)
    swap = {"volumeAttachment": {"volumeId": other["id"]}}
    assert tenant.put(f"{path}/{volume['id']}", json=swap).status_code == 403
    ok(tenant.post(f"/servers/{server['id']}/action", json={"lock": None}), 202)
    # Nova's lock holds off the owner too
    assert tenant.delete(f"{path}/{volume['id']}").status_code == 409
    assert tenant.post(path, json={"volumeAttachment": {"volumeId": other["id"]}}).status_code == 409
    ok(tenant.post(f"/servers/{server['id']}/action", json={"unlock": None}), 202)
    assert tenant.delete(f"{path}/{volume['id']}").status_code == 202
    assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available"


def test_tenants_are_walls(cloud, admin, tenant, volumes, server):
    mine = new_volume(volumes)
    project, _, token = member_of_new_project(cloud, admin)
    with cinder(cloud, token, project["id"]) as theirs_cinder, \
            httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token}, timeout=60) as theirs:
        theirs_volume = ok(theirs_cinder.post("/volumes", json={"volume": {"size": 1}}), 202)["volume"]
        # a volume of another project is not found, nor is another project's server
        reply = tenant.post(f"/servers/{server['id']}/os-volume_attachments",
                            json={"volumeAttachment": {"volumeId": theirs_volume["id"]}})
        assert reply.status_code == 404 and "itemNotFound" in reply.json()
        assert theirs.get(f"/servers/{server['id']}/os-volume_attachments").status_code == 404
        assert theirs.post(f"/servers/{server['id']}/os-volume_attachments",
                           json={"volumeAttachment": {"volumeId": mine["id"]}}).status_code == 404
    assert ok(volumes.get(f"/volumes/{mine['id']}"))["volume"]["status"] == "available"


def test_a_reader_may_look_but_not_attach(cloud, admin, tenant, volumes, server):
    volume = new_volume(volumes)
    attach(tenant, server["id"], volume["id"])
    reader = make_user(admin)
    grant(admin, tenant.project_id, reader["id"], "reader")
    project_name = ok(admin.get(f"/projects/{tenant.project_id}"))["project"]["name"]
    token = cloud.token(reader["name"], "secret-pass-1", project_name)
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token}, timeout=60) as reader:
        path = f"/servers/{server['id']}/os-volume_attachments"
        assert [a["volumeId"] for a in ok(reader.get(path))["volumeAttachments"]] == [volume["id"]]
        assert reader.delete(f"{path}/{volume['id']}").status_code == 403


@pytest.mark.parametrize(("version", "body"), [
    ("2.1", {}),
    ("2.1", {"volumeAttachment": {}}),
    ("2.1", {"volumeAttachment": {"volumeId": "not-a-uuid"}}),
    ("2.1", {"volumeAttachment": {"volumeId": 42}}),
    ("2.1", {"volumeAttachment": {"volumeId": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11", "device": "sdb; rm"}}),
    ("2.1", {"volumeAttachment": {"volumeId": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11", "tag": "t"}}),
    ("2.49", {"volumeAttachment": {"volumeId": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11", "tag": "a/b"}}),
    ("2.78", {"volumeAttachment": {"volumeId": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11",
                                   "delete_on_termination": True}}),
    ("2.79", {"volumeAttachment": {"volumeId": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11",
                                   "delete_on_termination": "yes"}}),
    ("2.79", {"volumeAttachment": {"volumeId": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11", "extra": 1}}),
    ("2.79", [1, 2]),
])
def test_malformed_attach_requests_are_400(tenant, server, version, body):
    reply = tenant.post(f"/servers/{server['id']}/os-volume_attachments", json=body, headers=at(version))
    assert reply.status_code == 400 and "badRequest" in reply.json()


def test_bad_listing_parameters_and_unknown_volumes(tenant, server):
    path = f"/servers/{server['id']}/os-volume_attachments"
    assert tenant.get(path, params={"offset": "-1"}).status_code == 400
    assert tenant.get(path, params={"limit": "x"}).status_code == 400
    assert tenant.post(path, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    missing = "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11"
    assert tenant.post(path, json={"volumeAttachment": {"volumeId": missing}}).status_code == 404
    assert tenant.get(f"{path}/{missing}").status_code == 404
    assert tenant.get(f"/servers/{missing}/os-volume_attachments").status_code == 404


def test_multiattach_volumes_need_2_60(tenant, volumes, server, cinder_admin):
    kind = ok(cinder_admin.post("/types", json={"volume_type": {
        "name": f"multi-{server['id'][:8]}", "extra_specs": {"multiattach": "<is> True"}}}))["volume_type"]
    volume = new_volume(volumes, volume_type=kind["id"])
    reply = tenant.post(f"/servers/{server['id']}/os-volume_attachments",
                        json={"volumeAttachment": {"volumeId": volume["id"]}}, headers=at("2.59"))
    assert reply.status_code == 400 and "2.60" in reply.text
    attach(tenant, server["id"], volume["id"], "2.60")


# -- assisted volume snapshots: Cinder's remotefs drivers' call, declined here as Nova's libvirt declines it --
def test_assisted_snapshots_are_checked_then_declined_to_the_waiting_snapshot(cloud, tenant, volumes, server,
                                                                             cinder_admin):
    volume = new_volume(volumes)
    snapshot = ok(volumes.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}), 202)["snapshot"]
    settle(lambda: ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 30,
           "the snapshot available")
    info = {"snapshot_id": snapshot["id"], "type": "qcow2", "new_file": "volume.snap"}
    body = {"snapshot": {"volume_id": volume["id"], "create_info": info}}
    with nova(cloud) as admin:
        # a member may not; a volume attached nowhere, or a malformed body, is 400
        assert tenant.post("/os-assisted-volume-snapshots", json=body).status_code == 403
        refused = admin.post("/os-assisted-volume-snapshots", json=body)
        assert refused.status_code == 400 and "Block Device Mapping" in refused.text
        for bad in ({**info, "type": "raw"}, {"type": "qcow2", "new_file": "f"}, {**info, "extra": 1}):
            reply = admin.post("/os-assisted-volume-snapshots",
                               json={"snapshot": {"volume_id": volume["id"], "create_info": bad}})
            assert reply.status_code == 400, bad
        attach(tenant, server["id"], volume["id"])
        wait_volume(volumes, volume["id"], "in-use")
        # the snapshot waits on compute (as a remotefs driver leaves it): compute reports it failed
        ok(cinder_admin.post(f"/snapshots/{snapshot['id']}/action", json={"os-reset_status": {"status": "creating"}}),
           202)
        answer = ok(admin.post("/os-assisted-volume-snapshots", json=body))
        assert answer == {"snapshot": {"id": None, "volumeId": volume["id"]}}
        assert ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "error"
        given = {"snapshot": {"volume_id": volume["id"], "create_info": {**info, "id": snapshot["id"]}}}
        assert ok(admin.post("/os-assisted-volume-snapshots", json=given))["snapshot"]["id"] == snapshot["id"]
        # delete: delete_info must name the volume; the snapshot being deleted is reported failed
        path = f"/os-assisted-volume-snapshots/{snapshot['id']}"
        assert admin.delete(path).status_code == 400
        assert admin.delete(path, params={"delete_info": "not json"}).status_code == 400
        ok(cinder_admin.post(f"/snapshots/{snapshot['id']}/action", json={"os-reset_status": {"status": "deleting"}}),
           202)
        ok(admin.delete(path, params={"delete_info": json.dumps({"volume_id": volume["id"]})}), 204)
        assert ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "error_deleting"
        assert tenant.delete(path, params={"delete_info": json.dumps({"volume_id": volume["id"]})}).status_code == 403


# -- servers built with volumes (block_device_mapping_v2) ------------------------------------------------------
def boot_with(tenant, mappings: list[dict], image: str = "", status: int = 202, **extra) -> dict:
    body = {"server": {"name": "bfv", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": tenant.network_id}],
                       "block_device_mapping_v2": mappings, **extra}}
    return ok(tenant.post("/servers", json=body, headers=at("2.67")), status)


def bootable_volume(volumes, **asked) -> dict:
    volume = new_volume(volumes, **asked)
    ok(volumes.post(f"/volumes/{volume['id']}/action", json={"os-set_bootable": {"bootable": True}}))
    return volume


def test_boot_from_an_existing_volume(tenant, volumes):
    root = bootable_volume(volumes)
    made = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": root["id"],
                               "boot_index": 0}])["server"]
    server = wait(tenant, made["id"], "ACTIVE", "ERROR")
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["image"] == ""  # booted from a volume: no image, as Nova shows it
    server = ok(tenant.get(f"/servers/{server['id']}", headers=at("2.3")))["server"]
    assert server["os-extended-volumes:volumes_attached"] == [{"id": root["id"], "delete_on_termination": False}]
    shown = ok(volumes.get(f"/volumes/{root['id']}"))["volume"]
    assert shown["status"] == "in-use" and shown["attachments"][0]["device"] == "/dev/vda"
    path = f"/servers/{server['id']}/os-volume_attachments"
    assert [(a["volumeId"], a["device"]) for a in ok(tenant.get(path))["volumeAttachments"]] == [(root["id"],
                                                                                               "/dev/vda")]
    refused = tenant.delete(f"{path}/{root['id']}")
    assert refused.status_code == 400 and "root device" in refused.text
    # what needs a root disk of the host's own is refused, not failed
    base = f"/servers/{server['id']}/action"
    assert tenant.post(base, json={"createBackup": {"name": "b", "backup_type": "daily",
                                                    "rotation": 1}}).status_code == 409
    assert tenant.post(base, json={"shelve": None}).status_code == 409
    assert tenant.post(base, json={"rescue": None}).status_code == 400
    assert tenant.post(base, json={"rebuild": {"imageRef": server["id"]}}).status_code == 400
    assert ok(tenant.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE"
    # an attached volume comes after the root one
    extra = new_volume(volumes)
    assert attach(tenant, server["id"], extra["id"])["volumeAttachment"]["device"] == "/dev/vdb"
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    wait_volume(volumes, root["id"], "available")
    wait_volume(volumes, extra["id"], "available")


def rescue_image(cloud, **properties) -> str:
    """A public image (the admin's) carrying ``properties``, such as a stable device rescue's."""
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": cloud.token()}, timeout=60) as glance:
        image = ok(glance.post("/images", json={"name": "rescue", "disk_format": "raw", "container_format": "bare",
                                                "visibility": "public", **properties}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=b"\0" * 4096,
                      headers={"Content-Type": "application/octet-stream"}), 204)
    return image["id"]


def test_a_volume_backed_server_rescues_from_2_87_with_a_stable_rescue_image(cloud, tenant, volumes):
    root = bootable_volume(volumes)
    made = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": root["id"],
                               "boot_index": 0}])["server"]
    assert wait(tenant, made["id"], "ACTIVE", "ERROR")["status"] == "ACTIVE"
    act = f"/servers/{made['id']}/action"
    stable = rescue_image(cloud, hw_rescue_device="disk", hw_rescue_bus="virtio")
    bus_only = rescue_image(cloud, hw_rescue_bus="virtio")
    plain = rescue_image(cloud)

    def rescue(image: str, version: str) -> httpx.Response:
        return tenant.post(act, json={"rescue": {"rescue_image_ref": image}}, headers=at(version))

    refused = rescue(stable, "2.86")  # before stable device rescue, never
    assert refused.status_code == 400 and "volume-backed" in refused.json()["badRequest"]["message"]
    # from 2.87, only with an image naming both the device and the bus
    assert rescue(plain, "2.87").status_code == 400
    assert rescue(bus_only, "2.87").status_code == 400
    assert tenant.post(act, json={"rescue": None}, headers=at("2.87")).status_code == 400  # no image of its own
    assert ok(tenant.get(f"/servers/{made['id']}"))["server"]["status"] == "ACTIVE"
    assert "adminPass" in ok(rescue(stable, "2.87"), 200)
    wait(tenant, made["id"], "RESCUE")
    assert ok(volumes.get(f"/volumes/{root['id']}"))["volume"]["status"] == "in-use"  # still attached
    ok(tenant.post(act, json={"unrescue": None}), 202)
    assert wait(tenant, made["id"], "ACTIVE", "ERROR")["status"] == "ACTIVE"
    ok(tenant.delete(f"/servers/{made['id']}"), 204)


def test_a_rescue_image_asking_for_a_device_qemu_cannot_attach_is_400(cloud, tenant, image_id):
    server = boot(tenant, image_id)
    assert wait(tenant, server["id"], "ACTIVE", "ERROR")["status"] == "ACTIVE"
    act = f"/servers/{server['id']}/action"
    for properties in ({"hw_rescue_device": "cdrom", "hw_rescue_bus": "virtio"}, {"hw_rescue_bus": "floppy"}):
        refused = tenant.post(act, json={"rescue": {"rescue_image_ref": rescue_image(cloud, **properties)}})
        assert refused.status_code == 400 and "not supported" in refused.json()["badRequest"]["message"], properties
    assert ok(tenant.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE"
    # the image-backed server rescues with a stable rescue image at any version
    ok(tenant.post(act, json={"rescue": {"rescue_image_ref": rescue_image(cloud, hw_rescue_bus="scsi")}},
                   headers=at("2.1")), 200)
    wait(tenant, server["id"], "RESCUE")


def test_a_volume_backed_server_resizes_to_a_flavor_without_a_disk(cloud, tenant, volumes):
    """Its root disk is its volume, so the flavor's disk size does not bind it (Nova's rule)."""
    root = bootable_volume(volumes)
    made = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": root["id"],
                               "boot_index": 0}])["server"]
    assert wait(tenant, made["id"], "ACTIVE")["flavor"]["id"] == "1"  # m1.tiny: 1 GB of disk
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}) as admin:
        flavor = ok(admin.post("/flavors", json={"flavor": {"name": f"no-disk-{made['id'][:8]}", "ram": 128,
                                                            "vcpus": 1, "disk": 0}}))["flavor"]
        ok(tenant.post(f"/servers/{made['id']}/action", json={"resize": {"flavorRef": flavor["id"]}}), 202)
        resized = wait(tenant, made["id"], "VERIFY_RESIZE", "ERROR")
        assert resized["status"] == "VERIFY_RESIZE" and resized["flavor"]["id"] == flavor["id"], resized.get("fault")
        ok(tenant.delete(f"/servers/{made['id']}"), 204)
        ok(admin.delete(f"/flavors/{flavor['id']}"), 202)


def test_a_volume_backed_servers_snapshot_is_an_image_that_boots_from_new_volumes(cloud, tenant, volumes):
    root = bootable_volume(volumes, name="root")
    made = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": root["id"],
                               "boot_index": 0, "delete_on_termination": False}])["server"]
    server = wait(tenant, made["id"], "ACTIVE", "ERROR")
    reply = tenant.post(f"/servers/{server['id']}/action", json={"createImage": {"name": "bfv-snap",
                                                                                  "metadata": {"kind": "test"}}},
                        headers=at("2.45"))
    image_id = ok(reply, 202)["image_id"]
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": tenant.headers["X-Auth-Token"]},
                      timeout=60) as glance:
        image = ok(glance.get(f"/images/{image_id}"))
    # Nova's shape: no data, active at once, the volume snapshots named in block_device_mapping
    assert (image["status"], image["size"], image["bdm_v2"], image["root_device_name"]) == ("active", 0, "True",
                                                                                           "/dev/vda")
    assert (image["kind"], image["image_type"], image["instance_uuid"]) == ("test", "snapshot", server["id"])
    (mapping,) = json.loads(image["block_device_mapping"])
    assert (mapping["source_type"], mapping["boot_index"], mapping["volume_size"]) == ("snapshot", 0, 1)
    snapshot = ok(volumes.get(f"/snapshots/{mapping['snapshot_id']}"))["snapshot"]
    assert (snapshot["volume_id"], snapshot["name"]) == (root["id"], "snapshot for bfv-snap")
    assert ok(tenant.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE"
    settle(lambda: ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 30,
           "the root volume's snapshot")

    # a boot from the image boots from a new volume made from the snapshot, as if the mapping were asked for
    again = ok(tenant.post("/servers", json={"server": {"name": "from-bfv-snap", "imageRef": image_id,
                                                        "flavorRef": "1",
                                                        "networks": [{"uuid": tenant.network_id}]}}), 202)
    second = wait(tenant, again["server"]["id"], "ACTIVE", "ERROR")
    assert second["status"] == "ACTIVE", second.get("fault")
    assert second["image"] == ""
    second = ok(tenant.get(f"/servers/{second['id']}", headers=at("2.3")))["server"]
    (new_root,) = second["os-extended-volumes:volumes_attached"]
    made_from = ok(volumes.get(f"/volumes/{new_root['id']}"))["volume"]
    assert made_from["snapshot_id"] == snapshot["id"] and made_from["id"] != root["id"]


def test_boot_makes_volumes_from_a_snapshot_and_blank(tenant, volumes):
    origin = bootable_volume(volumes)
    snapshot = ok(volumes.post("/snapshots", json={"snapshot": {"volume_id": origin["id"]}}), 202)["snapshot"]
    settle(lambda: ok(volumes.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 30,
           "the snapshot")
    made = boot_with(tenant, [
        {"source_type": "snapshot", "destination_type": "volume", "uuid": snapshot["id"], "boot_index": 0,
         "delete_on_termination": True},
        {"source_type": "blank", "destination_type": "volume", "volume_size": 2, "boot_index": -1}])["server"]
    server = wait(tenant, made["id"], "ACTIVE", "ERROR")
    assert server["status"] == "ACTIVE", server.get("fault")
    server = ok(tenant.get(f"/servers/{server['id']}", headers=at("2.3")))["server"]
    root, blank = server["os-extended-volumes:volumes_attached"]
    assert (root["delete_on_termination"], blank["delete_on_termination"]) == (True, False)
    root_volume = ok(volumes.get(f"/volumes/{root['id']}"))["volume"]
    assert root_volume["snapshot_id"] == snapshot["id"] and root_volume["status"] == "in-use"
    blank_volume = ok(volumes.get(f"/volumes/{blank['id']}"))["volume"]
    assert (blank_volume["size"], blank_volume["status"], blank_volume["name"]) == (2, "in-use",
                                                                                    f"{server['id']}-blank-vol")
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    settle(lambda: volumes.get(f"/volumes/{root['id']}").status_code == 404, 30, "the root volume deleted")
    wait_volume(volumes, blank["id"], "available")


def test_a_volume_the_boot_cannot_make_is_the_servers_fault(tenant, volumes, cinder_admin):
    # a snapshot of another project is not the caller's: the block storage service refuses, the build aborts
    project_volume = ok(cinder_admin.post("/volumes", json={"volume": {"size": 1}}), 202)["volume"]
    settle(lambda: ok(cinder_admin.get(f"/volumes/{project_volume['id']}"))["volume"]["status"] == "available", 30,
           "the admin's volume")
    snapshot = ok(cinder_admin.post("/snapshots", json={"snapshot": {"volume_id": project_volume["id"]}}),
                  202)["snapshot"]
    made = boot_with(tenant, [{"source_type": "snapshot", "destination_type": "volume", "uuid": snapshot["id"],
                               "boot_index": 0}])["server"]
    server = wait(tenant, made["id"], "ERROR")
    assert "aborted" in server["fault"]["message"]
    ok(tenant.delete(f"/servers/{server['id']}"), 204)


def test_boot_from_an_image_into_a_volume(tenant, volumes, image_id):
    probe = volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": image_id}})
    if probe.status_code == 400 and "not provided" in probe.text:
        pytest.skip("the block storage service makes no volumes from images yet")
    made = boot_with(tenant, [{"source_type": "image", "destination_type": "volume", "uuid": image_id,
                               "boot_index": 0, "volume_size": 1, "delete_on_termination": True}])["server"]
    server = wait(tenant, made["id"], "ACTIVE", "ERROR", timeout=60)
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["image"] == ""
    (root,) = server["os-extended-volumes:volumes_attached"]
    assert ok(volumes.get(f"/volumes/{root['id']}"))["volume"]["bootable"] == "true"


@pytest.mark.parametrize("mappings", [
    [{"source_type": "volume", "destination_type": "volume", "boot_index": 0}],
    [{"source_type": "blank", "destination_type": "volume", "uuid": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11",
      "volume_size": 1}],
    [{"source_type": "image", "destination_type": "volume", "uuid": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11",
      "boot_index": 0}],
    [{"source_type": "floppy", "destination_type": "volume", "uuid": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11"}],
    [{"source_type": "volume", "destination_type": "volume", "uuid": "8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11",
      "boot_index": 0}],
    [{"source_type": "blank", "destination_type": "volume", "volume_size": "big"}],
    [{"source_type": "blank", "destination_type": "local", "volume_size": 1}],
    [{"source_type": "blank", "destination_type": "volume", "volume_size": 1, "boot_index": "first"}],
    [{"source_type": "volume", "destination_type": "volume", "uuid": "x", "unknown": 1}],
    "not-a-list",
])
def test_malformed_block_device_mappings_are_400(tenant, mappings):
    reply = boot_with(tenant, mappings, status=400)
    assert "badRequest" in reply


def test_bootable_checks_and_no_image_at_all(tenant, volumes, image_id):
    plain = new_volume(volumes)
    reply = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": plain["id"],
                                "boot_index": 0}], status=400)
    assert "not bootable" in reply["badRequest"]["message"]
    assert "imageRef" in boot_with(tenant, [], status=400)["badRequest"]["message"]
    two_roots = [{"source_type": "blank", "destination_type": "volume", "volume_size": 1, "boot_index": 0}] * 2
    assert boot_with(tenant, two_roots, status=400)
    # an imageRef beside a blank root volume (how Tempest asks): the server boots from the volume, as Nova's;
    # the image must still be one the caller may boot
    blank_root = [{"source_type": "blank", "destination_type": "volume", "volume_size": 1, "boot_index": 0,
                   "delete_on_termination": True}]
    assert "could not be found" in boot_with(tenant, blank_root, image="8a1f8f0e-3a4c-4b7e-9a55-0e6f8f3f5a11",
                                             status=400)["badRequest"]["message"]
    made = boot_with(tenant, blank_root, image=image_id)["server"]
    server = wait(tenant, made["id"], "ACTIVE", "ERROR")
    assert server["status"] == "ACTIVE" and server["image"] == "", server.get("fault")
    ok(tenant.delete(f"/servers/{made['id']}"), 204)
    # one existing volume cannot go to several servers at once
    root = bootable_volume(volumes)
    many = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "uuid": root["id"],
                               "boot_index": 0}], status=400, min_count=2)
    assert "multiple instances" in many["badRequest"]["message"]
    assert ok(volumes.get(f"/volumes/{plain['id']}"))["volume"]["status"] == "available"


# -- an attached volume grows (3.42), and its type's front-end QoS reaches the host ----------------------------
def test_an_attached_volume_grows_online_from_3_42(cloud, tenant, volumes, server):
    volume = new_volume(volumes)
    attach(tenant, server["id"], volume["id"])
    action = f"/volumes/{volume['id']}/action"
    # before 3.42 only an available volume grows, as Cinder's
    reply = volumes.post(action, json={"os-extend": {"new_size": 2}}, headers={"OpenStack-API-Version": "volume 3.41"})
    assert reply.status_code == 400 and "must be available" in reply.text
    ok(volumes.post(action, json={"os-extend": {"new_size": 2}}, headers={"OpenStack-API-Version": "volume 3.42"}),
       202)
    grown = wait_volume(volumes, volume["id"], "in-use")
    assert grown["size"] == 2 and grown["attachments"][0]["server_id"] == server["id"]
    # the fake guest holds no file open: the file itself grew
    assert image_info(volume_file(cloud, volume["id"]))["virtual-size"] == 2 * 1024 ** 3
    # compute records the event as Nova does for Cinder's volume-extended (what Tempest waits for)
    actions = ok(tenant.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]
    (extended,) = [a for a in actions if a["action"] == "extend_volume"]
    shown = ok(tenant.get(f"/servers/{server['id']}/os-instance-actions/{extended['request_id']}",
                          headers=at("2.51")))["instanceAction"]
    assert [(e["event"], e["result"]) for e in shown["events"]] == [("compute_extend_volume", "Success")]
    assert shown["events"][0]["finish_time"]
    # not smaller, and not while another task runs
    reply = volumes.post(action, json={"os-extend": {"new_size": 1}}, headers={"OpenStack-API-Version": "volume 3.42"})
    assert reply.status_code == 400
    ok(tenant.delete(f"/servers/{server['id']}/os-volume_attachments/{volume['id']}"), 202)
    wait_volume(volumes, volume["id"], "available")


def qos_type(cinder_admin, name: str, consumer: str, **specs) -> dict:
    qos = ok(cinder_admin.post("/qos-specs", json={"qos_specs": {"name": name, "consumer": consumer, **specs}}))
    kind = ok(cinder_admin.post("/types", json={"volume_type": {"name": name}}))["volume_type"]
    ok(cinder_admin.get(f"/qos-specs/{qos['qos_specs']['id']}/associate", params={"vol_type_id": kind["id"]}), 202)
    return kind


def test_a_types_front_end_qos_reaches_the_guests_host(tenant, volumes, server, cinder_admin):
    suffix = server["id"][:8]
    limited = qos_type(cinder_admin, f"fe-{suffix}", "front-end", total_iops_sec="500",
                       read_bytes_sec_per_gb="1048576", write_bytes_sec_per_gb="1", write_bytes_sec_per_gb_min="4096")
    backend = qos_type(cinder_admin, f"be-{suffix}", "back-end", total_iops_sec="500")
    first = new_volume(volumes, size=3, volume_type=limited["id"])
    second = new_volume(volumes, volume_type=backend["id"])
    attach(tenant, server["id"], first["id"])
    attach(tenant, server["id"], second["id"])

    def connection(volume_id: str) -> dict:
        (attachment,) = ok(volumes.get("/attachments", params={"volume_id": volume_id}))["attachments"]
        return ok(volumes.get(f"/attachments/{attachment['id']}"))["attachment"]["connection_info"]

    # per-GB keys become the volume's own limit (at least their _min), as Cinder computes them
    assert connection(first["id"])["qos_specs"] == {"total_iops_sec": "500", "read_bytes_sec": str(3 * 1048576),
                                                    "write_bytes_sec": "4096"}
    assert connection(second["id"])["qos_specs"] is None  # the storage's limits, not the host's
