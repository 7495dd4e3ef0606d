"""Attachments over HTTP: the statuses Nova and Cinder agree on, through the attachments API (3.27+) and
the older actions, and the file connection a host uses to reach the data."""

import uuid

from tests.api.helpers import ok
from tests.api.volume_helpers import Project, cinder, volume_file

CONNECTOR = {"host": "compute-1", "platform": "x86_64", "os_type": "linux", "multipath": False}


def status(storage: Project, volume_id: str) -> str:
    return ok(storage.http.get(f"/volumes/{volume_id}"))["volume"]["status"]


def test_the_attachments_api_walks_the_statuses(cloud, storage):
    volume = storage.volume()
    server = str(uuid.uuid4())
    made = ok(storage.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                                     "instance_uuid": server}}))["attachment"]
    assert (made["status"], made["instance"], made["connection_info"]) == ("reserved", server, {})
    assert status(storage, volume["id"]) == "reserved"
    path = f"/attachments/{made['id']}"
    updated = ok(storage.http.put(path, json={"attachment": {"connector": CONNECTOR}}))["attachment"]
    info = updated["connection_info"]
    assert updated["status"] == "attaching" and status(storage, volume["id"]) == "attaching"
    assert info["driver_volume_type"] == "file" and info["path"] == str(volume_file(cloud, volume["id"]))
    assert info["access_mode"] == "rw" and info["format"] == "qcow2"
    ok(storage.http.post(f"{path}/action", json={"os-complete": None}), 204)
    shown = ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]
    assert shown["status"] == "in-use"
    (attached,) = shown["attachments"]
    assert (attached["server_id"], attached["attachment_id"], attached["host_name"]) == (server, made["id"],
                                                                                        "compute-1")
    assert ok(storage.http.get(path))["attachment"]["status"] == "attached"
    listed = ok(storage.http.get("/attachments", params={"volume_id": volume["id"]}))["attachments"]
    assert [a["id"] for a in listed] == [made["id"]]
    busy = storage.http.delete(f"/volumes/{volume['id']}")
    assert busy.status_code == 400
    second = storage.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"]}})
    assert second.status_code == 400  # not multiattach
    assert ok(storage.http.delete(path))["attachments"] == []
    assert status(storage, volume["id"]) == "available"
    assert storage.http.get(path).status_code == 404


def test_attachments_need_3_27_and_complete_needs_3_44(cloud, storage):
    volume = storage.volume()
    with cinder(cloud, storage.token, storage.id, version="3.26") as old:
        assert old.get("/attachments").status_code == 404
    made = ok(storage.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                                     "connector": CONNECTOR}}))["attachment"]
    assert made["status"] == "attaching" and made["connection_info"]["driver_volume_type"] == "file"
    with cinder(cloud, storage.token, storage.id, version="3.43") as before_complete:
        assert before_complete.post(f"/attachments/{made['id']}/action",
                                    json={"os-complete": None}).status_code == 404


def test_a_multiattach_volume_takes_two_servers(storage, cinder_admin):
    kind = ok(cinder_admin.post("/types", json={"volume_type": {
        "name": f"multi-{uuid.uuid4().hex[:8]}", "extra_specs": {"multiattach": "<is> True"}}}))["volume_type"]
    volume = storage.volume(volume_type=kind["name"])
    ids = []
    for _ in range(2):
        made = ok(storage.http.post("/attachments", json={"attachment": {
            "volume_uuid": volume["id"], "instance_uuid": str(uuid.uuid4()), "connector": CONNECTOR}}))
        ok(storage.http.post(f"/attachments/{made['attachment']['id']}/action", json={"os-complete": {}}), 204)
        ids.append(made["attachment"]["id"])
    assert len(ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["attachments"]) == 2
    ok(storage.http.delete(f"/attachments/{ids[0]}"))
    assert status(storage, volume["id"]) == "in-use"
    ok(storage.http.delete(f"/attachments/{ids[1]}"))
    assert status(storage, volume["id"]) == "available"


def test_the_older_actions(cloud, storage, cinder_admin):
    volume = storage.volume()
    act = f"/volumes/{volume['id']}/action"
    ok(storage.http.post(act, json={"os-reserve": None}), 202)
    assert status(storage, volume["id"]) == "attaching"
    ok(storage.http.post(act, json={"os-unreserve": {}}), 202)
    assert status(storage, volume["id"]) == "available"
    ok(storage.http.post(act, json={"os-reserve": {}}), 202)
    server = str(uuid.uuid4())
    ok(storage.http.post(act, json={"os-attach": {"instance_uuid": server, "mountpoint": "/dev/vdb"}}), 202)
    shown = ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]
    assert shown["status"] == "in-use" and shown["attachments"][0]["device"] == "/dev/vdb"
    connection = ok(storage.http.post(act, json={"os-initialize_connection": {"connector": CONNECTOR}}))
    assert connection["connection_info"]["data"]["path"] == str(volume_file(cloud, volume["id"]))
    ok(storage.http.post(act, json={"os-terminate_connection": {"connector": CONNECTOR}}), 202)
    ok(storage.http.post(act, json={"os-begin_detaching": {}}), 202)
    assert status(storage, volume["id"]) == "detaching"
    ok(storage.http.post(act, json={"os-roll_detaching": {}}), 202)
    assert status(storage, volume["id"]) == "in-use"
    ok(storage.http.post(act, json={"os-begin_detaching": {}}), 202)
    attachment = shown["attachments"][0]["attachment_id"]
    ok(storage.http.post(act, json={"os-detach": {"attachment_id": attachment}}), 202)
    assert status(storage, volume["id"]) == "available"
    assert storage.http.post(act, json={"os-begin_detaching": {}}).status_code == 400


def test_force_detach_is_for_admins_and_frees_the_volume(storage, cinder_admin):
    """Cinder's ``os-force_detach``: admins only (403 for the project's member), a named attachment that is
    not the volume's is 400, and the right one goes whatever the volume's status (here ``detaching``)."""
    volume = storage.volume()
    act = f"/volumes/{volume['id']}/action"
    ok(storage.http.post(act, json={"os-reserve": {}}), 202)
    ok(storage.http.post(act, json={"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}}),
       202)
    ok(storage.http.post(act, json={"os-begin_detaching": {}}), 202)
    attachment = ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["attachments"][0]["attachment_id"]
    force = {"os-force_detach": {"attachment_id": attachment, "connector": CONNECTOR}}
    assert storage.http.post(act, json=force).status_code == 403
    unknown = cinder_admin.post(act, json={"os-force_detach": {"attachment_id": str(uuid.uuid4())}})
    assert unknown.status_code == 400 and "badRequest" in unknown.json(), unknown.text
    assert status(storage, volume["id"]) == "detaching"
    ok(cinder_admin.post(act, json=force), 202)
    shown = ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]
    assert (shown["status"], shown["attachments"]) == ("available", [])


def test_admin_actions_and_flags(storage, cinder_admin):
    volume = storage.volume()
    act = f"/volumes/{volume['id']}/action"
    ok(storage.http.post(act, json={"os-set_bootable": {"bootable": True}}), 200)
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["bootable"] == "true"
    ok(storage.http.post(act, json={"os-update_readonly_flag": {"readonly": True}}), 202)
    readonly = ok(storage.http.post(act, json={"os-initialize_connection": {"connector": CONNECTOR}}))
    assert readonly["connection_info"]["data"]["access_mode"] == "ro"
    reset = {"os-reset_status": {"status": "error"}}
    assert storage.http.post(act, json=reset).status_code == 403
    ok(cinder_admin.post(act, json=reset), 202)
    assert status(storage, volume["id"]) == "error"
    assert storage.http.post(act, json={"os-force_delete": {}}).status_code == 403
    ok(cinder_admin.post(act, json={"os-force_delete": {}}), 202)
    storage.gone(f"/volumes/{volume['id']}")


def test_another_project_cannot_attach(cloud, admin, storage):
    volume = storage.volume()
    other = Project(cloud, admin)
    assert other.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"]}}).status_code == 404
    assert other.http.post(f"/volumes/{volume['id']}/action", json={"os-reserve": {}}).status_code == 404
    made = ok(storage.http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"]}}))["attachment"]
    assert other.http.get(f"/attachments/{made['id']}").status_code == 404
    assert other.http.delete(f"/attachments/{made['id']}").status_code == 404
    assert ok(other.http.get("/attachments"))["attachments"] == []
