"""Block Storage over HTTP: discovery and microversions, volumes and snapshots as real qcow2 files,
lists, metadata, extend, delete with cascade, and what another project sees."""

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.api.volume_helpers import (
    Project,
    cinder,
    holds_pattern,
    image_info,
    snapshot_file,
    volume_file,
    write_pattern,
)

GiB = 1024**3


def test_discovery_at_the_root_and_at_v3(cloud):
    root = httpx.get(f"{cloud.url}/volume/")
    assert root.status_code == 300
    (version,) = root.json()["versions"]
    assert (version["id"], version["min_version"], version["version"]) == ("v3.0", "3.0", "3.68")
    assert {"rel": "self", "href": f"{cloud.url}/volume/v3/"} in version["links"]
    assert ok(httpx.get(f"{cloud.url}/volume/v3/"))["versions"][0]["id"] == "v3.0"


def test_microversions_are_negotiated_and_refused_out_of_range(cloud, storage):
    assert storage.http.get("/volumes").headers["OpenStack-API-Version"] == "volume 3.68"
    with cinder(cloud, storage.token, storage.id, version=None) as plain:
        assert plain.get("/volumes").headers["OpenStack-API-Version"] == "volume 3.0"
    with cinder(cloud, storage.token, storage.id, version="3.99") as future:
        resp = future.get("/volumes")
        assert resp.status_code == 406 and "maximum is 3.68" in resp.text
    with cinder(cloud, storage.token, storage.id, version="latest") as latest:
        assert latest.get("/volumes").headers["OpenStack-API-Version"] == "volume 3.68"


def test_paths_with_and_without_the_project(cloud, storage):
    volume = storage.volume(name="both")
    with cinder(cloud, storage.token, None) as projectless:
        assert ok(projectless.get(f"/volumes/{volume['id']}"))["volume"]["name"] == "both"
    with cinder(cloud, storage.token, "0" * 32) as elsewhere:
        resp = elsewhere.get(f"/volumes/{volume['id']}")
        assert resp.status_code == 400 and "Malformed request url" in resp.json()["badRequest"]["message"]


def test_a_blank_volume_is_a_thin_qcow2_file_of_its_size(cloud, storage):
    created = ok(storage.http.post("/volumes", json={"volume": {"size": 2, "name": "blank",
                                                                "metadata": {"k": "v"}}}), 202)["volume"]
    assert created["status"] == "creating" and created["volume_type"] == "__DEFAULT__"
    volume = storage.wait(created["id"], "available")
    assert (volume["size"], volume["bootable"], volume["metadata"]) == (2, "false", {"k": "v"})
    assert volume["os-vol-tenant-attr:tenant_id"] == storage.id and volume["user_id"] == storage.user["id"]
    assert volume["volume_type_id"] and volume["consumes_quota"] is True and volume["shared_targets"] is False
    assert "os-vol-host-attr:host" not in volume  # an admin's field
    info = image_info(volume_file(cloud, volume["id"]))
    assert info["format"] == "qcow2" and info["virtual-size"] == 2 * GiB and info["actual-size"] < 16 * 1024**2


def test_older_microversions_show_fewer_fields(cloud, storage):
    volume = storage.volume()
    with cinder(cloud, storage.token, storage.id, version="3.0") as old:
        shown = ok(old.get(f"/volumes/{volume['id']}"))["volume"]
    assert not {"volume_type_id", "consumes_quota", "shared_targets", "service_uuid"} & set(shown)


def test_snapshot_freezes_the_data_and_a_volume_from_it_is_an_overlay(cloud, storage):
    volume = storage.volume()
    write_pattern(volume_file(cloud, volume["id"]), 0xAA)
    snapshot = storage.snapshot(volume["id"], name="s1", metadata={"a": "b"})
    assert (snapshot["size"], snapshot["metadata"]) == (1, {"a": "b"})
    frozen = snapshot_file(cloud, snapshot["id"])
    assert image_info(volume_file(cloud, volume["id"]))["backing-filename"] == frozen.name
    write_pattern(volume_file(cloud, volume["id"]), 0xBB)  # the volume goes on; the snapshot does not move
    restored = storage.volume(snapshot_id=snapshot["id"], size=3)
    assert restored["snapshot_id"] == snapshot["id"] and restored["size"] == 3
    restored_file = volume_file(cloud, restored["id"])
    info = image_info(restored_file)
    assert info["backing-filename"] == frozen.name and info["virtual-size"] == 3 * GiB
    assert holds_pattern(restored_file, 0xAA) and holds_pattern(volume_file(cloud, volume["id"]), 0xBB)


def test_a_clone_is_an_overlay_and_its_source_goes_on(cloud, storage):
    source = storage.volume(size=2)
    write_pattern(volume_file(cloud, source["id"]), 0x11)
    clone = storage.volume(source_volid=source["id"])
    assert clone["source_volid"] == source["id"] and clone["size"] == 2
    assert image_info(volume_file(cloud, clone["id"])).get("backing-filename", "").startswith("snapshot-")
    write_pattern(volume_file(cloud, source["id"]), 0x22)
    assert holds_pattern(volume_file(cloud, clone["id"]), 0x11)
    assert ok(storage.http.get("/snapshots"))["snapshots"] == []  # the frozen copy is no one's snapshot
    ok(storage.http.delete(f"/volumes/{clone['id']}"), 202)
    storage.gone(f"/volumes/{clone['id']}")
    # The last clone gone, its frozen copy goes, and the source keeps its data.
    storage_dir = cloud.data_dir / "volumes"
    source_file = volume_file(cloud, source["id"])
    wait(lambda: "backing-filename" not in image_info(source_file), 30, "the frozen copy merged back")
    assert holds_pattern(source_file, 0x22)
    assert not any(clone["id"] in p.name for p in storage_dir.iterdir())


def test_deleting_a_snapshot_others_back_on_keeps_their_data(cloud, storage):
    volume = storage.volume()
    write_pattern(volume_file(cloud, volume["id"]), 0x33)
    snapshot = storage.snapshot(volume["id"])
    child = storage.volume(snapshot_id=snapshot["id"])
    ok(storage.http.delete(f"/snapshots/{snapshot['id']}"), 202)
    storage.gone(f"/snapshots/{snapshot['id']}")
    assert not snapshot_file(cloud, snapshot["id"]).exists()
    for ident in (volume["id"], child["id"]):
        assert "backing-filename" not in image_info(volume_file(cloud, ident))
        assert holds_pattern(volume_file(cloud, ident), 0x33)


def test_delete_refuses_a_volume_with_snapshots_unless_cascade(cloud, storage):
    volume = storage.volume()
    first = storage.snapshot(volume["id"])
    second = storage.snapshot(volume["id"])
    resp = storage.http.delete(f"/volumes/{volume['id']}")
    assert resp.status_code == 400 and "2 dependent snapshots" in resp.json()["badRequest"]["message"]
    ok(storage.http.delete(f"/volumes/{volume['id']}", params={"cascade": "true"}), 202)
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "deleting"
    storage.gone(f"/volumes/{volume['id']}")
    for snapshot in (first, second):
        storage.gone(f"/snapshots/{snapshot['id']}")
        assert not snapshot_file(cloud, snapshot["id"]).exists()
    assert not volume_file(cloud, volume["id"]).exists()


def test_extend_grows_the_file(cloud, storage):
    volume = storage.volume()
    ok(storage.http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 4}}), 202)
    assert storage.wait(volume["id"], "available")["size"] == 4
    assert image_info(volume_file(cloud, volume["id"]))["virtual-size"] == 4 * GiB
    smaller = storage.http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}})
    assert smaller.status_code == 400


def test_update_and_metadata(storage):
    volume = storage.volume(name="before", metadata={"a": "1"})
    path = f"/volumes/{volume['id']}"
    updated = ok(storage.http.put(path, json={"volume": {"name": "after", "description": "d"}}))["volume"]
    assert (updated["name"], updated["description"]) == ("after", "d")
    assert ok(storage.http.post(f"{path}/metadata", json={"metadata": {"b": "2"}}))["metadata"] == {"a": "1", "b": "2"}
    assert ok(storage.http.put(f"{path}/metadata", json={"metadata": {"c": "3"}}))["metadata"] == {"c": "3"}
    assert ok(storage.http.put(f"{path}/metadata/c", json={"meta": {"c": "4"}}))["meta"] == {"c": "4"}
    assert ok(storage.http.get(f"{path}/metadata/c"))["meta"] == {"c": "4"}
    assert storage.http.put(f"{path}/metadata/c", json={"meta": {"d": "4"}}).status_code == 400
    ok(storage.http.delete(f"{path}/metadata/c"))
    assert storage.http.get(f"{path}/metadata/c").status_code == 404
    assert ok(storage.http.get(f"{path}/metadata"))["metadata"] == {}


def test_lists_filter_sort_page_and_count(storage):
    made = [storage.volume(name=f"list-{i}", size=i + 1, metadata={"n": str(i % 2)}) for i in range(3)]
    ids = [v["id"] for v in made]
    newest_first = ok(storage.http.get("/volumes/detail"))["volumes"]
    assert [v["id"] for v in newest_first] == ids[::-1]
    by_size = ok(storage.http.get("/volumes", params={"sort": "size:asc"}))["volumes"]
    assert [v["id"] for v in by_size] == ids
    assert [v["id"] for v in ok(storage.http.get("/volumes", params={"name": "list-1"}))["volumes"]] == [ids[1]]
    assert [v["id"] for v in ok(storage.http.get("/volumes", params={"name~": "ist-2"}))["volumes"]] == [ids[2]]
    odd = ok(storage.http.get("/volumes/detail", params={"metadata": "{'n': '1'}"}))["volumes"]
    assert [v["id"] for v in odd] == [ids[1]]
    page = ok(storage.http.get("/volumes/detail", params={"limit": 2, "sort_key": "size", "sort_dir": "asc",
                                                          "with_count": "true"}))
    assert [v["id"] for v in page["volumes"]] == ids[:2] and page["count"] == 3
    (link,) = page["volumes_links"]
    following = ok(storage.http.get(link["href"]))
    assert [v["id"] for v in following["volumes"]] == ids[2:] and "volumes_links" not in following
    assert storage.http.get("/volumes", params={"marker": "nope"}).status_code == 404
    assert storage.http.get("/volumes", params={"sort": "size:sideways"}).status_code == 400
    summary = ok(storage.http.get("/volumes/summary"))["volume-summary"]
    assert (summary["total_count"], summary["total_size"]) == (3, 6)


def test_snapshot_lists_update_metadata_and_actions(cloud, storage, cinder_admin):
    volume = storage.volume()
    snapshot = storage.snapshot(volume["id"], name="snap")
    listed = ok(storage.http.get("/snapshots/detail", params={"volume_id": volume["id"]}))["snapshots"]
    assert [s["id"] for s in listed] == [snapshot["id"]]
    assert listed[0]["os-extended-snapshot-attributes:project_id"] == storage.id
    path = f"/snapshots/{snapshot['id']}"
    assert ok(storage.http.put(path, json={"snapshot": {"name": "renamed"}}))["snapshot"]["name"] == "renamed"
    assert ok(storage.http.post(f"{path}/metadata", json={"metadata": {"x": "y"}}))["metadata"] == {"x": "y"}
    reset = {"os-reset_status": {"status": "error"}}
    assert storage.http.post(f"{path}/action", json=reset).status_code == 403
    ok(cinder_admin.post(f"/snapshots/{snapshot['id']}/action", json=reset), 202)
    assert ok(storage.http.get(path))["snapshot"]["status"] == "error"
    ok(storage.http.delete(path), 202)
    storage.gone(path)


def test_another_project_sees_nothing_and_a_reader_changes_nothing(cloud, admin, storage):
    volume = storage.volume()
    snapshot = storage.snapshot(volume["id"])
    other = Project(cloud, admin)
    for path in (f"/volumes/{volume['id']}", f"/snapshots/{snapshot['id']}"):
        assert other.http.get(path).status_code == 404
        assert other.http.delete(path).status_code == 404
    assert other.http.put(f"/volumes/{volume['id']}", json={"volume": {"name": "x"}}).status_code == 404
    assert other.http.post(f"/volumes/{volume['id']}/action",
                           json={"os-extend": {"new_size": 5}}).status_code == 404
    assert other.http.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).status_code == 404
    assert other.http.post("/volumes", json={"volume": {"source_volid": volume["id"]}}).status_code == 404
    assert ok(other.http.get("/volumes", params={"all_tenants": "1"}))["volumes"] == []
    reader = Project(cloud, admin, role="reader")
    assert reader.http.post("/volumes", json={"volume": {"size": 1}}).status_code == 403
    assert ok(reader.http.get("/volumes"))["volumes"] == []


def test_an_admin_sees_every_project_when_asked(storage, cinder_admin):
    volume = storage.volume()
    listed = ok(cinder_admin.get("/volumes/detail", params={"all_tenants": "1", "project_id": storage.id}))
    (shown,) = listed["volumes"]
    assert shown["id"] == volume["id"] and shown["os-vol-host-attr:host"].count("@") == 1
    assert volume["id"] not in {v["id"] for v in ok(cinder_admin.get("/volumes"))["volumes"]}


@pytest.mark.parametrize("body", [
    None, [], "text", {}, {"volume": None}, {"volume": []}, {"volume": {"size": 0}}, {"volume": {"size": -1}},
    {"volume": {"size": "ten"}}, {"volume": {"size": 1.5}}, {"volume": {"size": True}},
    {"volume": {"size": 1, "name": "x" * 256}}, {"volume": {"size": 1, "metadata": {"k": 1}}},
    {"volume": {"size": 1, "metadata": "k=v"}}, {"volume": {"size": 1, "snapshot_id": "not-a-uuid"}},
    {"volume": {"size": 1, "availability_zone": "mars"}}, {"volume": {"size": 1, "unknown": 1}},
    {"volume": {}},
])
def test_malformed_volume_creates_are_400(storage, body):
    resp = storage.http.post("/volumes", json=body) if body is not None else storage.http.post(
        "/volumes", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["code"] == 400


@pytest.mark.parametrize("body", [
    {}, {"os-extend": None}, {"os-extend": {"new_size": "big"}}, {"os-extend": {}}, {"os-nothing": {}},
    {"os-extend": {"new_size": 2}, "os-set_bootable": {"bootable": True}}, {"os-set_bootable": {"bootable": "maybe"}},
    {"os-reset_status": {"status": "sideways"}}, {"os-attach": {"instance_uuid": "x", "mountpoint": "/dev/vdb"}},
])
def test_malformed_actions_are_400(storage, cinder_admin, body):
    volume = storage.volume()
    resp = cinder_admin.post(f"/volumes/{volume['id']}/action", json=body)
    assert resp.status_code == 400, resp.text


def test_unknown_ids_are_404(storage):
    for path in ("/volumes/nope", "/volumes/00000000-0000-0000-0000-000000000000", "/snapshots/nope",
                 "/types/nope", "/volumes/nope/metadata"):
        resp = storage.http.get(path)
        assert resp.status_code == 404 and resp.json()["itemNotFound"]["code"] == 404
    assert storage.http.delete("/volumes/nope").status_code == 404


# -- what Tempest's volume area found (each with the answer Cinder gives) -------------------------------------
def test_create_and_update_answers_carry_no_extension_fields(storage, cinder_admin):
    made = ok(storage.http.post("/volumes", json={"volume": {"size": 1}}), 202)["volume"]
    assert "os-vol-tenant-attr:tenant_id" not in made and "volume_image_metadata" not in made
    storage.wait(made["id"], "available")
    updated = ok(storage.http.put(f"/volumes/{made['id']}", json={"volume": {"name": "renamed"}}))["volume"]
    assert updated["name"] == "renamed" and "os-vol-tenant-attr:tenant_id" not in updated
    shown = ok(storage.http.get(f"/volumes/{made['id']}"))["volume"]
    assert shown["os-vol-tenant-attr:tenant_id"] == storage.id
    kind = ok(cinder_admin.post("/types", json={"volume_type": {"name": f"answers-{made['id'][:8]}",
                                                                "extra_specs": {"spec1": "v1"}}}))["volume_type"]
    assert "qos_specs_id" not in kind and kind["os-volume-type-access:is_public"] is True
    changed = ok(cinder_admin.put(f"/types/{kind['id']}", json={"volume_type": {"description": "d"}}))["volume_type"]
    assert "qos_specs_id" not in changed and "os-volume-type-access:is_public" not in changed
    assert "qos_specs_id" in ok(cinder_admin.get(f"/types/{kind['id']}"))["volume_type"]
    # setting specs answers the ones set, not every spec of the type
    assert ok(cinder_admin.post(f"/types/{kind['id']}/extra_specs", json={"extra_specs": {"spec2": "v2"}})) == {
        "extra_specs": {"spec2": "v2"}}


def test_a_type_no_backend_offers_makes_a_volume_in_error_with_a_message(storage, cinder_admin):
    kind = ok(cinder_admin.post("/types", json={"volume_type": {
        "name": f"nowhere-{storage.id[:8]}", "extra_specs": {"storage_protocol": "fibre", "vendor_name": "x"}}}))
    made = ok(storage.http.post("/volumes", json={"volume": {"size": 1, "volume_type": kind["volume_type"]["id"]}}),
              202)["volume"]
    assert ok(storage.http.get(f"/volumes/{made['id']}"))["volume"]["status"] == "error"
    (message,) = ok(storage.http.get("/messages", params={"resource_uuid": made["id"]}))["messages"]
    assert "No valid backend" in message["user_message"] and message["request_id"].startswith("req-")
    # what the backend offers places volumes as before
    fine = ok(cinder_admin.post("/types", json={"volume_type": {
        "name": f"file-{storage.id[:8]}", "extra_specs": {"storage_protocol": "file", "vendor_name": "Open Source"}}}))
    storage.volume(volume_type=fine["volume_type"]["id"])


def test_full_pages_link_the_next_and_bad_values_are_400_or_404(storage):
    first, second = storage.volume(name="p1"), storage.volume(name="p2")
    listed = ok(storage.http.get("/volumes", params={"limit": 2}))
    assert {v["id"] for v in listed["volumes"]} == {first["id"], second["id"]}
    assert any(link["rel"] == "next" for link in listed["volumes_links"])  # full: Cinder links a next page
    assert ok(storage.http.get("/snapshots", params={"sort": "display_name:asc"}))["snapshots"] == []
    assert ok(storage.http.get("/volumes", params={"sort_key": "display_name"}))["volumes"]
    reply = storage.http.post(f"/volumes/{first['id']}/action", json={"os-extend": {"new_size": None}})
    assert reply.status_code == 400 and "must be specified" in reply.text
    assert storage.http.post("/snapshots", json={"snapshot": {"volume_id": None}}).status_code == 404
    # detaching a volume with nothing attached passes, as in Cinder
    ok(storage.http.post(f"/volumes/{first['id']}/action", json={"os-detach": {}}), 202)
    assert ok(storage.http.get(f"/volumes/{first['id']}"))["volume"]["status"] == "available"


def test_readonly_shows_in_metadata_and_a_snapshot_status_update(storage, cinder_admin):
    volume = storage.volume(metadata={"k": "v"})
    assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["metadata"] == {"k": "v"}
    for flag in (True, False):
        ok(storage.http.post(f"/volumes/{volume['id']}/action",
                             json={"os-update_readonly_flag": {"readonly": flag}}), 202)
        assert ok(storage.http.get(f"/volumes/{volume['id']}"))["volume"]["metadata"] == {"k": "v",
                                                                                          "readonly": str(flag)}
    assert ok(storage.http.get(f"/volumes/{volume['id']}/metadata"))["metadata"] == {"k": "v"}  # the user's own
    snapshot = storage.snapshot(volume["id"])
    action = f"/snapshots/{snapshot['id']}/action"
    # only from creating (to available or error) or deleting, as Cinder allows
    reply = storage.http.post(action, json={"os-update_snapshot_status": {"status": "error"}})
    assert reply.status_code == 400 and "not allowed" in reply.text
    ok(cinder_admin.post(action, json={"os-reset_status": {"status": "creating"}}), 202)
    ok(storage.http.post(action, json={"os-update_snapshot_status": {"status": "error", "progress": "80%"}}), 202)
    shown = ok(cinder_admin.get(f"/snapshots/{snapshot['id']}"))["snapshot"]
    assert (shown["status"], shown["os-extended-snapshot-attributes:progress"]) == ("error", "80%")
    reply = storage.http.post(action, json={"os-update_snapshot_status": {"status": "available"}})
    assert reply.status_code == 400  # from error: nothing
