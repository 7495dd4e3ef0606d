"""Retype, volume transfers, QoS specs, user messages, /resource_filters and /extensions over HTTP, each
with what another project sees and what malformed input gets."""

import pytest

from tests.api.helpers import name, ok, wait
from tests.api.volume_helpers import Project, cinder, holds_pattern, volume_file, write_pattern

# -- retype ---------------------------------------------------------------------------------------------------


def make_type(admin_http, **extra) -> dict:
    return ok(admin_http.post("/types", json={"volume_type": {"name": name("type"), **extra}}))["volume_type"]


def test_retype_in_place_keeps_the_data(cloud, storage, cinder_admin):
    gold = make_type(cinder_admin, extra_specs={"tier": "gold"})
    shared = make_type(cinder_admin, extra_specs={"multiattach": "<is> True"})
    volume = storage.volume()
    write_pattern(volume_file(cloud, volume["id"]), 0x2E)
    path = f"/volumes/{volume['id']}/action"
    for policy in ("never", "on-demand"):
        target = gold if policy == "never" else shared
        ok(storage.http.post(path, json={"os-retype": {"new_type": target["name"], "migration_policy": policy}}), 202)
        shown = ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]
        assert (shown["volume_type"], shown["status"]) == (target["name"], "available")
    assert shown["multiattach"] is True and holds_pattern(volume_file(cloud, volume["id"]), 0x2E)
    same = storage.http.post(path, json={"os-retype": {"new_type": shared["id"]}})
    assert same.status_code == 400 and "different" in same.text
    assert storage.http.post(path, json={"os-retype": {"new_type": name("none")}}).status_code == 404
    for bad in ({"os-retype": {}}, {"os-retype": {"new_type": ""}},
                {"os-retype": {"new_type": gold["id"], "migration_policy": "always"}}):
        assert storage.http.post(path, json=bad).status_code == 400, bad
    # A per-type quota is the new type's to check.
    ok(cinder_admin.put(f"/os-quota-sets/{storage.id}", json={"quota_set": {f"volumes_{gold['name']}": 0}}))
    refused = storage.http.post(path, json={"os-retype": {"new_type": gold["name"]}})
    assert refused.status_code == 413


def test_retype_refusals_and_other_projects(cloud, admin, storage, cinder_admin):
    private = make_type(cinder_admin, **{"os-volume-type-access:is_public": False})
    volume = storage.volume()
    path = f"/volumes/{volume['id']}/action"
    assert storage.http.post(path, json={"os-retype": {"new_type": private["id"]}}).status_code == 404
    other = Project(cloud, admin)
    assert other.http.post(path.replace(storage.id, other.id), json={"os-retype": {
        "new_type": "__DEFAULT__"}}).status_code == 404
    ok(storage.http.post(path, json={"os-reserve": None}), 202)
    busy = storage.http.post(path, json={"os-retype": {"new_type": make_type(cinder_admin)["name"]}})
    assert busy.status_code == 400 and "available or in-use" in busy.text


# -- transfers ------------------------------------------------------------------------------------------------


def test_a_transfer_moves_the_volume_and_its_snapshots(cloud, admin, storage):
    volume = storage.volume(name="gift")
    write_pattern(volume_file(cloud, volume["id"]), 0x6A)
    snapshot = storage.snapshot(volume["id"])
    created = ok(storage.http.post("/volume-transfers", json={"transfer": {"volume_id": volume["id"],
                                                                         "name": "to-b"}}), 202)["transfer"]
    assert len(created["auth_key"]) == 16 and created["no_snapshots"] is False and created["accepted"] is False
    assert created["source_project_id"] == storage.id and created["destination_project_id"] is None
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "awaiting-transfer"
    shown = ok(storage.http.get(f"/volume-transfers/{created['id']}"))["transfer"]
    assert "auth_key" not in shown and shown["name"] == "to-b"
    assert [t["id"] for t in ok(storage.http.get("/volume-transfers"))["transfers"]] == [created["id"]]
    refused = storage.http.delete(f"/volumes/{volume['id']}")
    assert refused.status_code == 400
    taker = Project(cloud, admin)
    assert taker.http.get(f"/volume-transfers/{created['id']}").status_code == 404  # not its to see
    wrong = taker.http.post(f"/volume-transfers/{created['id']}/accept", json={"accept": {"auth_key": "x" * 16}})
    assert wrong.status_code == 400 and "invalid auth key" in wrong.text
    accepted = ok(taker.http.post(f"/volume-transfers/{created['id']}/accept",
                                  json={"accept": {"auth_key": created["auth_key"]}}), 202)["transfer"]
    assert (accepted["id"], accepted["volume_id"]) == (created["id"], volume["id"])
    mine = ok(taker.http.get(f"/volumes/{volume['id']}"))["volume"]
    assert (mine["status"], mine["os-vol-tenant-attr:tenant_id"], mine["user_id"]) == (
        "available", taker.id, taker.user["id"])
    assert ok(taker.http.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["volume_id"] == volume["id"]
    assert storage.http.get(f"/volumes/{volume['id']}").status_code == 404
    assert storage.http.get(f"/volume-transfers/{created['id']}").status_code == 404  # spent
    assert holds_pattern(volume_file(cloud, volume["id"]), 0x6A)
    again = taker.http.post(f"/volume-transfers/{created['id']}/accept",
                            json={"accept": {"auth_key": created["auth_key"]}})
    assert again.status_code == 404


def test_transfers_without_snapshots_and_the_older_path(cloud, admin, storage):
    volume = storage.volume()
    snapshot = storage.snapshot(volume["id"])
    created = ok(storage.http.post("/volume-transfers", json={"transfer": {"volume_id": volume["id"],
                                                                         "no_snapshots": True}}), 202)["transfer"]
    taker = Project(cloud, admin)
    ok(taker.http.post(f"/volume-transfers/{created['id']}/accept", json={"accept": {"auth_key": created["auth_key"]}}),
       202)
    assert ok(storage.http.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["volume_id"] == volume["id"]
    assert taker.http.get(f"/snapshots/{snapshot['id']}").status_code == 404
    # os-volume-transfer answers at every version; a deleted transfer gives the volume back.
    other = storage.volume()
    with cinder(cloud, storage.token, storage.id, version="3.0") as old:
        made = ok(old.post("/os-volume-transfer", json={"transfer": {"volume_id": other["id"]}}), 202)["transfer"]
        assert "no_snapshots" not in made and "accepted" not in made and made["auth_key"]
        assert old.get("/volume-transfers").status_code == 404
        detail = ok(old.get("/os-volume-transfer/detail"))["transfers"]
        assert [t["id"] for t in detail] == [made["id"]] and "created_at" in detail[0]
        ok(old.delete(f"/os-volume-transfer/{made['id']}"), 202)
    assert ok(storage.http.get(f"/volumes/{other['id']}"))["volume"]["status"] == "available"


def test_transfer_refusals(cloud, admin, storage, cinder_admin):
    volume = storage.volume()
    other = Project(cloud, admin)
    assert other.http.post("/volume-transfers", json={"transfer": {"volume_id": volume["id"]}}).status_code == 404
    ok(storage.http.post(f"/volumes/{volume['id']}/action", json={"os-reserve": None}), 202)
    busy = storage.http.post("/volume-transfers", json={"transfer": {"volume_id": volume["id"]}})
    assert busy.status_code == 400 and "must be available" in busy.text
    fresh = storage.volume(size=2)
    made = ok(storage.http.post("/volume-transfers", json={"transfer": {"volume_id": fresh["id"]}}), 202)["transfer"]
    ok(cinder_admin.put(f"/os-quota-sets/{other.id}", json={"quota_set": {"gigabytes": 1}}))
    over = other.http.post(f"/volume-transfers/{made['id']}/accept", json={"accept": {"auth_key": made["auth_key"]}})
    assert over.status_code == 413
    assert ok(storage.http.get(f"/volumes/{fresh['id']}"))["volume"]["status"] == "awaiting-transfer"
    for body in ({}, {"transfer": {}}, {"transfer": {"volume_id": "x"}}, {"transfer": {"volume_id": fresh["id"],
                                                                                      "bogus": 1}}):
        assert storage.http.post("/volume-transfers", json=body).status_code == 400, body
    for body in ({}, {"accept": {}}, {"accept": {"auth_key": ""}}, {"accept": {"auth_key": 7}}):
        assert other.http.post(f"/volume-transfers/{made['id']}/accept", json=body).status_code == 400, body
    missing = other.http.post("/volume-transfers/0c4c4a38-7e55-4e2b-8f8a-1d8a0b7c6f11/accept",
                              json={"accept": {"auth_key": "k"}})
    assert missing.status_code == 404


# -- QoS specs ------------------------------------------------------------------------------------------------


def test_qos_specs_and_their_types(cinder_admin, storage):
    spec_name = name("qos")
    made = ok(cinder_admin.post("/qos-specs", json={"qos_specs": {"name": spec_name, "consumer": "front-end",
                                                                  "total_iops_sec": 500, "read_bytes_sec": "1048576"}}))
    spec = made["qos_specs"]
    assert (spec["consumer"], spec["specs"]) == ("front-end", {"total_iops_sec": "500", "read_bytes_sec": "1048576"})
    assert made["links"][0]["href"].endswith(f"/qos-specs/{spec['id']}")
    assert cinder_admin.post("/qos-specs", json={"qos_specs": {"name": spec_name}}).status_code == 409
    assert spec["id"] in {q["id"] for q in ok(cinder_admin.get("/qos-specs"))["qos_specs"]}
    assert ok(cinder_admin.put(f"/qos-specs/{spec['id']}", json={"qos_specs": {"write_iops_sec": "100"}})) == {
        "qos_specs": {"write_iops_sec": "100"}}
    ok(cinder_admin.put(f"/qos-specs/{spec['id']}/delete_keys", json={"keys": ["read_bytes_sec"]}), 202)
    shown = ok(cinder_admin.get(f"/qos-specs/{spec['id']}"))["qos_specs"]
    assert shown["specs"] == {"total_iops_sec": "500", "write_iops_sec": "100"}
    assert cinder_admin.put(f"/qos-specs/{spec['id']}/delete_keys", json={"keys": ["nope"]}).status_code == 404
    kind = make_type(cinder_admin)
    ok(cinder_admin.get(f"/qos-specs/{spec['id']}/associate", params={"vol_type_id": kind["id"]}), 202)
    assert ok(cinder_admin.get(f"/qos-specs/{spec['id']}/associations"))["qos_associations"] == [
        {"association_type": "volume_type", "name": kind["name"], "id": kind["id"]}]
    assert ok(cinder_admin.get(f"/types/{kind['id']}"))["volume_type"]["qos_specs_id"] == spec["id"]
    another = ok(cinder_admin.post("/qos-specs", json={"qos_specs": {"name": name("qos")}}))["qos_specs"]
    assert another["consumer"] == "back-end"
    taken = cinder_admin.get(f"/qos-specs/{another['id']}/associate", params={"vol_type_id": kind["id"]})
    assert taken.status_code == 400 and "already associated" in taken.text
    refused = cinder_admin.delete(f"/qos-specs/{spec['id']}")
    assert refused.status_code == 400 and "still associated" in refused.text
    ok(cinder_admin.get(f"/qos-specs/{spec['id']}/disassociate", params={"vol_type_id": kind["id"]}), 202)
    assert ok(cinder_admin.get(f"/qos-specs/{spec['id']}/associations"))["qos_associations"] == []
    ok(cinder_admin.get(f"/qos-specs/{spec['id']}/associate", params={"vol_type_id": kind["id"]}), 202)
    ok(cinder_admin.get(f"/qos-specs/{spec['id']}/disassociate_all"), 202)
    ok(cinder_admin.get(f"/qos-specs/{spec['id']}/associate", params={"vol_type_id": kind["id"]}), 202)
    ok(cinder_admin.delete(f"/qos-specs/{spec['id']}", params={"force": "true"}), 202)
    assert ok(cinder_admin.get(f"/types/{kind['id']}"))["volume_type"]["qos_specs_id"] is None
    assert cinder_admin.get(f"/qos-specs/{spec['id']}").status_code == 404
    # Members manage none of it, and see none of it.
    assert storage.http.get("/qos-specs").status_code == 403
    assert storage.http.post("/qos-specs", json={"qos_specs": {"name": name("qos")}}).status_code == 403
    assert storage.http.get(f"/qos-specs/{another['id']}/associate",
                            params={"vol_type_id": kind["id"]}).status_code == 403


@pytest.mark.parametrize("body", [
    {}, {"qos_specs": {}}, {"qos_specs": {"name": ""}}, {"qos_specs": {"name": "  "}},
    {"qos_specs": {"name": "x", "consumer": "hypervisor"}}, {"qos_specs": {"name": "x", "bad key!": "1"}},
    {"qos_specs": {"name": "x", "total_iops_sec": {"n": 1}}}, {"qos_specs": "x"},
])
def test_malformed_qos_specs_are_400(cinder_admin, body):
    assert cinder_admin.post("/qos-specs", json=body).status_code == 400


def test_qos_association_needs_a_type(cinder_admin):
    spec = ok(cinder_admin.post("/qos-specs", json={"qos_specs": {"name": name("qos")}}))["qos_specs"]
    assert cinder_admin.get(f"/qos-specs/{spec['id']}/associate").status_code == 400
    assert cinder_admin.get(f"/qos-specs/{spec['id']}/associate", params={"vol_type_id": "nope"}).status_code == 404
    assert cinder_admin.put(f"/qos-specs/{spec['id']}", json={"qos_specs": {"consumer": "x"}}).status_code == 400
    assert cinder_admin.put(f"/qos-specs/{spec['id']}/delete_keys", json={"keys": []}).status_code == 400
    assert cinder_admin.get("/qos-specs/0c4c4a38-7e55-4e2b-8f8a-1d8a0b7c6f11").status_code == 404


# -- messages, resource filters, extensions -------------------------------------------------------------------


def test_a_failed_task_leaves_a_message_for_its_project(cloud, admin, storage):
    volume = storage.volume()
    snapshot = storage.snapshot(volume["id"])
    data = cloud.data_dir / "volumes" / f"snapshot-{snapshot['id']}.qcow2"
    data.unlink()  # the data of the snapshot are lost: a volume from it cannot be made
    made = ok(storage.http.post("/volumes", json={"volume": {"snapshot_id": snapshot["id"]}}), 202)["volume"]
    wait(lambda: ok(storage.http.get(f"/volumes/{made['id']}"))["volume"]["status"] == "error", 30, "the error")
    found = ok(storage.http.get("/messages", params={"resource_uuid": made["id"]}))["messages"]
    assert len(found) == 1
    (message,) = found
    assert message["resource_type"] == "VOLUME" and message["message_level"] == "ERROR"
    assert message["event_id"] == "VOLUME_VOLUME_001_001" and "are missing" in message["user_message"]
    assert ok(storage.http.get(f"/messages/{message['id']}"))["message"]["id"] == message["id"]
    other = Project(cloud, admin)
    assert other.http.get(f"/messages/{message['id']}").status_code == 404
    assert ok(other.http.get("/messages"))["messages"] == []
    with cinder(cloud, storage.token, storage.id, version="3.2") as old:
        assert old.get("/messages").status_code == 404
    assert other.http.delete(f"/messages/{message['id']}").status_code == 404
    assert storage.http.delete(f"/messages/{message['id']}").status_code == 204
    assert storage.http.get(f"/messages/{message['id']}").status_code == 404


def test_resource_filters_and_extensions(cloud, storage):
    filters = {f["resource"]: f["filters"] for f in ok(storage.http.get("/resource_filters"))["resource_filters"]}
    assert {"name", "status", "metadata", "bootable", "volume_type"} <= set(filters["volume"])
    assert set(filters["backup"]) >= {"name", "status", "volume_id"}
    (only,) = ok(storage.http.get("/resource_filters", params={"resource": "snapshot"}))["resource_filters"]
    assert only["resource"] == "snapshot"
    with cinder(cloud, storage.token, storage.id, version="3.32") as old:
        assert old.get("/resource_filters").status_code == 404
    aliases = {e["alias"] for e in ok(storage.http.get("/extensions"))["extensions"]}
    assert {"backups", "os-volume-transfer", "qos-specs", "os-volume-actions"} <= aliases
