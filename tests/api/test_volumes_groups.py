"""Generic volume groups over HTTP: group types and their specs (3.11), groups over volumes (3.13), group
snapshots through the snapshot path and groups made from them or from another group (3.14), status resets
(3.19, 3.20); tenant walls and bad bodies."""

import uuid

from tests.api.helpers import ok, wait
from tests.api.volume_helpers import Project, snapshot_file, volume_file


def _name(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}"


def _kinds(cinder_admin) -> tuple[dict, dict]:
    """A volume type and a group type."""
    volume_type = ok(cinder_admin.post("/types", json={"volume_type": {"name": _name("vt")}}))["volume_type"]
    group_type = ok(cinder_admin.post("/group_types", json={"group_type": {"name": _name("gt")}}), 202)[
        "group_type"]
    return volume_type, group_type


def _group(project: Project, group_type: dict, volume_type: dict, **asked) -> dict:
    made = ok(project.http.post("/groups", json={"group": {
        "group_type": group_type["id"], "volume_types": [volume_type["id"]], **asked}}), 202)["group"]
    return _wait_group(project, made["id"], "available")


def _wait_group(project: Project, group_id: str, status: str) -> dict:
    def reached():
        group = ok(project.http.get(f"/groups/{group_id}"))["group"]
        assert group["status"] != "error" or status == "error", group
        return group if group["status"] == status else None
    return wait(reached, 30, f"group {group_id} {status}")


def _wait_group_snapshot(project: Project, group_snapshot_id: str, status: str) -> dict:
    def reached():
        found = ok(project.http.get(f"/group_snapshots/{group_snapshot_id}"))["group_snapshot"]
        return found if found["status"] == status else None
    return wait(reached, 30, f"group snapshot {group_snapshot_id} {status}")


def _members(project: Project, group_id: str) -> set[str]:
    return {v["id"] for v in ok(project.http.get("/volumes/detail"))["volumes"] if v["group_id"] == group_id}


def test_group_types_and_their_specs(cinder_admin, storage):
    public = ok(cinder_admin.post("/group_types", json={"group_type": {
        "name": _name("a"), "description": "d", "group_specs": {"consistent_group_snapshot_enabled": "<is> False"}}}),
        202)["group_type"]
    assert public["is_public"] is True and public["group_specs"] == {"consistent_group_snapshot_enabled": "<is> False"}
    private = ok(cinder_admin.post("/group_types", json={"group_type": {"name": _name("b"), "is_public": False}}),
                 202)["group_type"]
    names = [t["name"] for t in ok(cinder_admin.get("/group_types?sort=name:desc&is_public=None"))["group_types"]]
    assert names.index(private["name"]) < names.index(public["name"])
    assert private["id"] not in {t["id"] for t in ok(cinder_admin.get("/group_types"))["group_types"]}
    assert {t["id"] for t in ok(cinder_admin.get("/group_types?is_public=false"))["group_types"]} >= {private["id"]}
    # a member sees public types, without their specs, and manages none
    seen = ok(storage.http.get("/group_types"))["group_types"]
    assert public["id"] in {t["id"] for t in seen} and private["id"] not in {t["id"] for t in seen}
    assert "group_specs" not in ok(storage.http.get(f"/group_types/{public['id']}"))["group_type"]
    assert storage.http.get(f"/group_types/{private['id']}").status_code == 404
    assert storage.http.post("/group_types", json={"group_type": {"name": _name("c")}}).status_code == 403
    path = f"/group_types/{public['id']}"
    assert ok(cinder_admin.post(f"{path}/group_specs", json={"group_specs": {"k": "v", "n": 1}}), 202) == {
        "group_specs": {"k": "v", "n": "1"}}
    assert ok(cinder_admin.put(f"{path}/group_specs/k", json={"k": "w"})) == {"k": "w"}
    assert ok(cinder_admin.get(f"{path}/group_specs/k")) == {"k": "w"}
    assert ok(cinder_admin.get(f"{path}/group_specs"))["group_specs"]["n"] == "1"
    ok(cinder_admin.delete(f"{path}/group_specs/k"), 202)
    assert cinder_admin.get(f"{path}/group_specs/k").status_code == 404
    assert cinder_admin.put(f"{path}/group_specs/k", json={"j": "w"}).status_code == 400
    updated = ok(cinder_admin.put(path, json={"group_type": {"name": public["name"] + "x", "description": "e"}}))
    assert updated["group_type"]["description"] == "e"
    assert cinder_admin.post("/group_types", json={"group_type": {"name": private["name"]}}).status_code == 409
    assert cinder_admin.get("/group_types/default").status_code == 404
    # before 3.11 there are no group types
    old = cinder_admin.get("/group_types", headers={"OpenStack-API-Version": "volume 3.10"})
    assert old.status_code == 404
    for row in (public, private):
        ok(cinder_admin.delete(f"/group_types/{row['id']}"), 202)
        assert cinder_admin.get(f"/group_types/{row['id']}").status_code == 404


def test_a_group_holds_volumes_and_goes_with_them(cloud, cinder_admin, storage):
    volume_type, group_type = _kinds(cinder_admin)
    group = _group(storage, group_type, volume_type, name="g1", description="first")
    assert (group["group_type"], group["volume_types"], group["name"]) == (group_type["id"], [volume_type["id"]], "g1")
    inside = [storage.volume(volume_type=volume_type["id"], group_id=group["id"]) for _ in range(2)]
    assert {v["group_id"] for v in inside} == {group["id"]}
    outside = storage.volume(volume_type=volume_type["id"])
    listed = ok(storage.http.get("/groups?list_volume=true"))["groups"]
    assert listed == [{"id": group["id"], "name": "g1"}]
    detail = ok(storage.http.get("/groups/detail?list_volume=true"))["groups"]
    assert set(detail[0]["volumes"]) == {v["id"] for v in inside}
    # a volume of another type, or into a missing group, is refused; a group's volume is not deleted alone
    other = storage.http.post("/volumes", json={"volume": {"size": 1, "group_id": group["id"]}})
    assert other.status_code == 400
    assert storage.http.post("/volumes", json={"volume": {"size": 1, "volume_type": volume_type["id"],
                                                          "group_id": str(uuid.uuid4())}}).status_code == 404
    alone = storage.http.delete(f"/volumes/{inside[0]['id']}")
    assert alone.status_code == 400 and "group" in alone.text
    # remove one, add the outsider; bad ids are refused
    ok(storage.http.put(f"/groups/{group['id']}", json={"group": {
        "name": "g2", "remove_volumes": inside[1]["id"], "add_volumes": outside["id"]}}), 202)
    assert _members(storage, group["id"]) == {inside[0]["id"], outside["id"]}
    assert ok(storage.http.get(f"/groups/{group['id']}"))["group"]["name"] == "g2"
    for change in ({"add_volumes": outside["id"]}, {"remove_volumes": inside[1]["id"]},
                   {"add_volumes": str(uuid.uuid4())}, {}):
        assert storage.http.put(f"/groups/{group['id']}", json={"group": change}).status_code == 400, change
    # without delete-volumes a group with volumes stays
    kept = storage.http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": False}})
    assert kept.status_code == 400 and "delete-volumes" in kept.text
    ok(storage.http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}}), 202)
    storage.gone(f"/groups/{group['id']}")
    for volume in (inside[0], outside):
        storage.gone(f"/volumes/{volume['id']}")
        assert not volume_file(cloud, volume["id"]).exists()
    assert ok(storage.http.get(f"/volumes/{inside[1]['id']}"))["volume"]["group_id"] is None
    # an empty group goes at once
    empty = _group(storage, group_type, volume_type)
    ok(storage.http.post(f"/groups/{empty['id']}/action", json={"delete": {}}), 202)
    assert storage.http.get(f"/groups/{empty['id']}").status_code == 404
    ok(storage.http.delete(f"/volumes/{inside[1]['id']}"), 202)


def test_a_group_snapshot_snapshots_every_volume_and_makes_groups(cloud, cinder_admin, storage):
    volume_type, group_type = _kinds(cinder_admin)
    group = _group(storage, group_type, volume_type)
    volumes = [storage.volume(volume_type=volume_type["id"], group_id=group["id"]) for _ in range(2)]
    made = ok(storage.http.post("/group_snapshots", json={"group_snapshot": {"group_id": group["id"], "name": "gs"}}),
              202)["group_snapshot"]
    assert set(made) == {"id", "name", "group_type_id"} and made["group_type_id"] == group_type["id"]
    group_snapshot = _wait_group_snapshot(storage, made["id"], "available")
    assert (group_snapshot["group_id"], group_snapshot["name"]) == (group["id"], "gs")
    taken = [s for s in ok(storage.http.get("/snapshots/detail"))["snapshots"]
             if s["group_snapshot_id"] == made["id"]]
    assert sorted(s["volume_id"] for s in taken) == sorted(v["id"] for v in volumes)
    assert all(s["status"] == "available" and snapshot_file(cloud, s["id"]).exists() for s in taken)
    assert ok(storage.http.get("/group_snapshots"))["group_snapshots"] == [{"id": made["id"], "name": "gs"}]
    assert [g["id"] for g in ok(storage.http.get(f"/group_snapshots/detail?group_id={group['id']}"))[
        "group_snapshots"]] == [made["id"]]
    alone = storage.http.delete(f"/snapshots/{taken[0]['id']}")
    assert alone.status_code == 400 and "group snapshot" in alone.text
    busy = storage.http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}})
    assert busy.status_code == 400 and "group snapshots" in busy.text
    # a group from the group snapshot: a volume from each snapshot
    from_snapshot = ok(storage.http.post("/groups/action", json={"create-from-src": {
        "group_snapshot_id": made["id"], "name": "copy"}}), 202)["group"]
    copy = _wait_group(storage, from_snapshot["id"], "available")
    assert (copy["group_snapshot_id"], copy["group_type"]) == (made["id"], group_type["id"])
    copies = [v for v in ok(storage.http.get("/volumes/detail"))["volumes"] if v["group_id"] == copy["id"]]
    assert sorted(v["snapshot_id"] for v in copies) == sorted(s["id"] for s in taken)
    assert all(v["status"] == "available" for v in copies)
    # and a group from the group: a clone of each volume
    clone = ok(storage.http.post("/groups/action", json={"create-from-src": {"source_group_id": group["id"]}}),
               202)["group"]
    cloned = _wait_group(storage, clone["id"], "available")
    assert cloned["source_group_id"] == group["id"]
    assert sorted(v["source_volid"] for v in ok(storage.http.get("/volumes/detail"))["volumes"]
                  if v["group_id"] == clone["id"]) == sorted(v["id"] for v in volumes)
    both = storage.http.post("/groups/action", json={"create-from-src": {"source_group_id": group["id"],
                                                                         "group_snapshot_id": made["id"]}})
    assert both.status_code == 400
    for made_group in (copy, cloned):
        ok(storage.http.post(f"/groups/{made_group['id']}/action", json={"delete": {"delete-volumes": True}}), 202)
        storage.gone(f"/groups/{made_group['id']}")
    ok(storage.http.delete(f"/group_snapshots/{made['id']}"), 202)
    storage.gone(f"/group_snapshots/{made['id']}")
    for snapshot in taken:
        storage.gone(f"/snapshots/{snapshot['id']}")
        assert not snapshot_file(cloud, snapshot["id"]).exists()
    ok(storage.http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}}), 202)
    storage.gone(f"/groups/{group['id']}")


def test_admins_reset_statuses_and_tenants_are_walls(cloud, admin, cinder_admin, storage):
    volume_type, group_type = _kinds(cinder_admin)
    group = _group(storage, group_type, volume_type)
    storage.volume(volume_type=volume_type["id"], group_id=group["id"])
    group_snapshot = ok(storage.http.post("/group_snapshots", json={"group_snapshot": {"group_id": group["id"]}}),
                        202)["group_snapshot"]
    _wait_group_snapshot(storage, group_snapshot["id"], "available")
    reset = {"reset_status": {"status": "error"}}
    assert storage.http.post(f"/groups/{group['id']}/action", json=reset).status_code == 403
    assert storage.http.post(f"/group_snapshots/{group_snapshot['id']}/action", json=reset).status_code == 403
    old = cinder_admin.post(f"/groups/{group['id']}/action", json=reset,
                            headers={"OpenStack-API-Version": "volume 3.19"})
    assert old.status_code == 404
    ok(cinder_admin.post(f"/groups/{group['id']}/action", json=reset), 202)
    assert ok(storage.http.get(f"/groups/{group['id']}"))["group"]["status"] == "error"
    ok(cinder_admin.post(f"/groups/{group['id']}/action", json={"reset_status": {"status": "available"}}), 202)
    ok(cinder_admin.post(f"/group_snapshots/{group_snapshot['id']}/action", json=reset), 202)
    assert ok(storage.http.get(f"/group_snapshots/{group_snapshot['id']}"))["group_snapshot"]["status"] == "error"
    bad = cinder_admin.post(f"/groups/{group['id']}/action", json={"reset_status": {"status": "sleepy"}})
    assert bad.status_code == 400
    # another project sees none of it and cannot use it
    other = Project(cloud, admin)
    for path in (f"/groups/{group['id']}", f"/group_snapshots/{group_snapshot['id']}"):
        assert other.http.get(path).status_code == 404
    assert ok(other.http.get("/groups"))["groups"] == []
    assert ok(other.http.get("/group_snapshots"))["group_snapshots"] == []
    assert other.http.post("/group_snapshots", json={"group_snapshot": {"group_id": group["id"]}}).status_code == 404
    assert other.http.post("/volumes", json={"volume": {"size": 1, "volume_type": volume_type["id"],
                                                        "group_id": group["id"]}}).status_code == 404
    assert other.http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}}).status_code == 404
    assert other.http.post("/groups/action", json={"create-from-src": {"source_group_id": group["id"]}}
                           ).status_code == 404
    # a reader reads, and changes nothing
    reader = Project(cloud, admin, role="reader")
    assert reader.http.post("/groups", json={"group": {"group_type": group_type["id"],
                                                       "volume_types": [volume_type["id"]]}}).status_code == 403
    # admins see every project's with all_tenants
    assert group["id"] in {g["id"] for g in ok(cinder_admin.get("/groups?all_tenants=1"))["groups"]}
    ok(cinder_admin.post(f"/group_snapshots/{group_snapshot['id']}/action",
                         json={"reset_status": {"status": "available"}}), 202)
    ok(storage.http.delete(f"/group_snapshots/{group_snapshot['id']}"), 202)
    storage.gone(f"/group_snapshots/{group_snapshot['id']}")
    ok(storage.http.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}}), 202)
    storage.gone(f"/groups/{group['id']}")
    in_use = cinder_admin.delete(f"/group_types/{group_type['id']}")
    assert in_use.status_code == 202


def test_bad_group_bodies_are_refused(cinder_admin, storage):
    volume_type, group_type = _kinds(cinder_admin)
    for body in ({}, {"group": {}}, {"group": {"group_type": group_type["id"]}},
                 {"group": {"group_type": group_type["id"], "volume_types": []}},
                 {"group": {"group_type": group_type["id"], "volume_types": "x"}},
                 {"group": {"group_type": group_type["id"], "volume_types": [volume_type["id"]], "colour": 1}},
                 {"group": {"group_type": group_type["id"], "volume_types": [volume_type["id"]],
                            "availability_zone": "mars"}}):
        assert storage.http.post("/groups", json=body).status_code == 400, body
    for body in ({"group": {"group_type": str(uuid.uuid4()), "volume_types": [volume_type["id"]]}},
                 {"group": {"group_type": group_type["id"], "volume_types": [str(uuid.uuid4())]}}):
        assert storage.http.post("/groups", json=body).status_code == 404, body
    group = _group(storage, group_type, volume_type)
    for body in ({}, {"explode": {}}, {"delete": {}, "reset_status": {"status": "error"}},
                 {"delete": {"delete-volumes": "maybe"}}):
        assert storage.http.post(f"/groups/{group['id']}/action", json=body).status_code == 400, body
    for body in ({}, {"group_snapshot": {}}, {"group_snapshot": {"group_id": "nope"}}):
        assert storage.http.post("/group_snapshots", json=body).status_code == 400, body
    assert storage.http.post("/groups/action", json={"create-from-src": {}}).status_code == 400
    assert storage.http.get(f"/groups/{uuid.uuid4()}").status_code == 404
    assert storage.http.get("/groups", headers={"OpenStack-API-Version": "volume 3.12"}).status_code == 404
    in_use = cinder_admin.delete(f"/group_types/{group_type['id']}")
    assert in_use.status_code == 400 and "groups present" in in_use.text
    ok(storage.http.post(f"/groups/{group['id']}/action", json={"delete": {}}), 202)


def test_groups_count_against_the_projects_groups_quota(cinder_admin, storage):
    volume_type, group_type = _kinds(cinder_admin)
    ok(cinder_admin.put(f"/os-quota-sets/{storage.id}", json={"quota_set": {"groups": 1}}))
    first = _group(storage, group_type, volume_type)
    refused = storage.http.post("/groups", json={"group": {"group_type": group_type["id"],
                                                           "volume_types": [volume_type["id"]]}})
    assert refused.status_code == 413 and "GroupLimitExceeded" in refused.text, refused.text
    # a group made from another is a group too
    from_source = storage.http.post("/groups/action", json={"create-from-src": {"source_group_id": first["id"]}})
    assert from_source.status_code == 413 and "GroupLimitExceeded" in from_source.text, from_source.text
    usage = ok(storage.http.get(f"/os-quota-sets/{storage.id}", params={"usage": "true"}))["quota_set"]
    assert usage["groups"] == {"limit": 1, "in_use": 1, "reserved": 0, "allocated": 0}
    ok(storage.http.post(f"/groups/{first['id']}/action", json={"delete": {}}), 202)
    assert ok(storage.http.get(f"/os-quota-sets/{storage.id}", params={"usage": "true"}))["quota_set"]["groups"][
        "in_use"] == 0
    _group(storage, group_type, volume_type)
