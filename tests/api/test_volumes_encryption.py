"""Volume types' encryption over HTTP (/types/{id}/encryption): admins create, show, update and delete it;
a type volumes use cannot change it; volumes of an encrypted type say so."""

import uuid

from tests.api.helpers import ok

SPEC = {"provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256, "control_location": "front-end"}


def _type(cinder_admin) -> dict:
    return ok(cinder_admin.post("/types", json={"volume_type": {"name": f"enc-{uuid.uuid4().hex[:8]}"}}))[
        "volume_type"]


def test_an_encryption_type_is_created_shown_updated_and_deleted(cinder_admin):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    assert ok(cinder_admin.get(path)) == {}
    made = ok(cinder_admin.post(path, json={"encryption": SPEC}))["encryption"]
    assert made == {**SPEC, "volume_type_id": volume_type["id"], "encryption_id": made["encryption_id"]}
    shown = ok(cinder_admin.get(path))
    assert {k: shown[k] for k in SPEC} == SPEC and shown["deleted"] is False and shown["created_at"]
    again = cinder_admin.post(path, json={"encryption": SPEC})
    assert again.status_code == 400 and "already exists" in again.text
    # cinderclient names "provider" where the encryption id goes: the id in the URL is not compared
    changed = ok(cinder_admin.put(f"{path}/provider", json={"encryption": {"key_size": "128",
                                                                            "control_location": "back-end"}}))
    assert changed == {"encryption": {"key_size": 128, "control_location": "back-end"}}
    assert ok(cinder_admin.get(f"{path}/cipher")) == {"cipher": "aes-xts-plain64"}
    assert ok(cinder_admin.get(f"{path}/key_size")) == {"key_size": 128}
    assert cinder_admin.get(f"{path}/nothing").status_code == 404
    ok(cinder_admin.delete(f"{path}/{made['encryption_id']}"), 202)
    assert ok(cinder_admin.get(path)) == {}
    assert cinder_admin.delete(f"{path}/{made['encryption_id']}").status_code == 404
    assert cinder_admin.put(f"{path}/x", json={"encryption": {"cipher": "c"}}).status_code == 404
    # the type goes with its encryption
    ok(cinder_admin.post(path, json={"encryption": SPEC}))
    ok(cinder_admin.delete(f"/types/{volume_type['id']}"), 202)
    assert cinder_admin.get(path).status_code == 404


def test_bad_encryption_bodies_and_types_are_refused(cinder_admin):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    for body in ({}, {"encryption": {}}, {"encryption": {**SPEC, "control_location": "middle"}},
                 {"encryption": {**SPEC, "key_size": -1}}, {"encryption": {**SPEC, "key_size": "big"}},
                 {"encryption": {**SPEC, "colour": "red"}}, {"encryption": "luks"}):
        assert cinder_admin.post(path, json=body).status_code == 400, body
    missing = cinder_admin.post(f"/types/{uuid.uuid4()}/encryption", json={"encryption": SPEC})
    assert missing.status_code == 404 and "itemNotFound" in missing.text
    ok(cinder_admin.delete(f"/types/{volume_type['id']}"), 202)


def test_only_admins_manage_encryption(cinder_admin, storage):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    made = ok(cinder_admin.post(path, json={"encryption": SPEC}))["encryption"]
    assert storage.http.get(path).status_code == 403
    assert storage.http.post(path, json={"encryption": SPEC}).status_code == 403
    assert storage.http.put(f"{path}/x", json={"encryption": {"cipher": "c"}}).status_code == 403
    assert storage.http.delete(f"{path}/{made['encryption_id']}").status_code == 403
    ok(cinder_admin.delete(f"{path}/{made['encryption_id']}"), 202)
    ok(cinder_admin.delete(f"/types/{volume_type['id']}"), 202)


def test_a_type_in_use_keeps_its_encryption_and_its_volumes_are_encrypted(cinder_admin, storage):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    made = ok(cinder_admin.post(path, json={"encryption": SPEC}))["encryption"]
    plain = storage.volume()
    assert plain["encrypted"] is False
    volume = storage.volume(volume_type=volume_type["id"])
    assert volume["encrypted"] is True
    listed = ok(storage.http.get("/volumes/detail"))["volumes"]
    assert {v["id"]: v["encrypted"] for v in listed} == {plain["id"]: False, volume["id"]: True}
    for call, message in ((cinder_admin.put(f"{path}/x", json={"encryption": {"cipher": "c"}}), "update"),
                          (cinder_admin.delete(f"{path}/{made['encryption_id']}"), "delete"),
                          (cinder_admin.post(f"/types/{_in_use_without(cinder_admin, storage)}/encryption",
                                             json={"encryption": SPEC}), "create")):
        assert call.status_code == 400 and f"Cannot {message} encryption specs" in call.text, call.text
    assert ok(cinder_admin.get(path))["cipher"] == SPEC["cipher"]
    ok(storage.http.delete(f"/volumes/{volume['id']}"), 202)
    storage.gone(f"/volumes/{volume['id']}")
    ok(cinder_admin.delete(f"{path}/{made['encryption_id']}"), 202)


def _in_use_without(cinder_admin, storage) -> str:
    """A type with no encryption that a volume uses."""
    volume_type = _type(cinder_admin)
    storage.volume(volume_type=volume_type["id"])
    return volume_type["id"]
