"""Image API v2 over HTTP: metadata, streaming data, status, visibility, format safety."""

import hashlib
import os
import subprocess

import httpx
import pytest

from tests.api.helpers import member_of_new_project, ok

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
DATA = os.urandom(3 * 1024 * 1024 + 17)


def as_member(cloud, admin):
    _, _, token = member_of_new_project(cloud, admin)
    return httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": token}, timeout=60)


def new_image(client, **body) -> dict:
    return ok(client.post("/v2/images", json={"disk_format": "raw", "container_format": "bare", **body}), 201)


def upload(client, image_id: str, data: bytes = DATA) -> httpx.Response:
    return client.put(f"/v2/images/{image_id}/file", content=data,
                      headers={"Content-Type": "application/octet-stream"})


def test_version_discovery(cloud):
    resp = httpx.get(f"{cloud.url}/image/")
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["status"] == "CURRENT"
    assert resp.json()["versions"][0]["links"][0]["href"] == f"{cloud.url}/image/v2/"


def test_create_show_patch_delete(glance):
    image = new_image(glance, name="first", tags=["a", "a", "b"], color="blue", min_ram=64)
    assert image["status"] == "queued" and image["visibility"] == "shared" and image["size"] is None
    assert image["tags"] == ["a", "b"] and image["color"] == "blue" and image["min_ram"] == 64
    assert image["self"] == f"/v2/images/{image['id']}"
    changes = [{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "add", "path": "/shape", "value": "round"},
               {"op": "remove", "path": "/color"}]
    patched = ok(glance.patch(f"/v2/images/{image['id']}", json=changes, headers=PATCH))
    assert patched["name"] == "renamed" and patched["shape"] == "round" and "color" not in patched
    assert glance.patch(f"/v2/images/{image['id']}", json=changes).status_code == 415  # JSON patch media type
    read_only = [{"op": "replace", "path": "/status", "value": "active"}]
    assert glance.patch(f"/v2/images/{image['id']}", json=read_only, headers=PATCH).status_code == 403
    old_dialect = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
    renamed = ok(glance.patch(f"/v2/images/{image['id']}", json=[{"replace": "/name", "value": "v2.0"}],
                              headers=old_dialect))
    assert renamed["name"] == "v2.0"
    ok(glance.put(f"/v2/images/{image['id']}/tags/c"), 204)
    assert ok(glance.get(f"/v2/images/{image['id']}"))["tags"] == ["a", "b", "c"]
    ok(glance.delete(f"/v2/images/{image['id']}"), 204)
    assert glance.get(f"/v2/images/{image['id']}").status_code == 404


@pytest.mark.parametrize("body", [{"disk_format": "floppy"}, {"min_disk": -1}, {"visibility": "everyone"},
                                  {"name": 3}, {"custom": 5}, {"id": "not-a-uuid"}])
def test_invalid_bodies_are_400(glance, body):
    assert glance.post("/v2/images", json=body).status_code == 400


def test_read_only_and_reserved_attributes_are_403(glance):
    assert glance.post("/v2/images", json={"status": "active"}).status_code == 403
    assert glance.post("/v2/images", json={"os_glance_import_task": "x"}).status_code == 403
    image = new_image(glance)
    reserved = [{"op": "add", "path": "/os_glance_foo", "value": "x"}]
    assert glance.patch(f"/v2/images/{image['id']}", json=reserved, headers=PATCH).status_code == 403


def test_upload_download_checksums_and_ranges(glance):
    image = new_image(glance)
    assert glance.get(f"/v2/images/{image['id']}/file").status_code == 204  # no data yet
    ok(upload(glance, image["id"]), 204)
    shown = ok(glance.get(f"/v2/images/{image['id']}"))
    assert shown["status"] == "active" and shown["size"] == len(DATA) and shown["virtual_size"] == len(DATA)
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert shown["os_hash_algo"] == "sha512" and shown["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    got = glance.get(f"/v2/images/{image['id']}/file")
    assert got.status_code == 200 and got.content == DATA and got.headers["Content-MD5"] == shown["checksum"]
    part = glance.get(f"/v2/images/{image['id']}/file", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == DATA[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(DATA)}"
    assert glance.get(f"/v2/images/{image['id']}/file", headers={"Range": f"bytes={len(DATA)}-"}).status_code == 416
    assert upload(glance, image["id"]).status_code == 409  # active images take no new data
    fmt = [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    assert glance.patch(f"/v2/images/{image['id']}", json=fmt, headers=PATCH).status_code == 403


def test_chunked_upload_is_streamed(glance):
    image = new_image(glance)
    ok(glance.put(f"/v2/images/{image['id']}/file", content=(DATA[i:i + 65536] for i in range(0, len(DATA), 65536)),
                  headers={"Content-Type": "application/octet-stream"}), 204)
    assert ok(glance.get(f"/v2/images/{image['id']}"))["checksum"] == hashlib.md5(DATA).hexdigest()


def test_upload_needs_formats_and_octet_stream(glance):
    bare = ok(glance.post("/v2/images", json={"name": "no-formats"}), 201)
    assert upload(glance, bare["id"]).status_code == 400
    image = new_image(glance)
    resp = glance.put(f"/v2/images/{image['id']}/file", content=b"x", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415


def test_qcow2_virtual_size_and_backing_file_refused(glance, tmp_path):
    good, evil = tmp_path / "good.qcow2", tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(good), "64M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", str(evil)],
                   check=True)
    image = new_image(glance, disk_format="qcow2")
    ok(upload(glance, image["id"], good.read_bytes()), 204)
    shown = ok(glance.get(f"/v2/images/{image['id']}"))
    assert shown["virtual_size"] == 64 * 1024 * 1024 and shown["size"] == good.stat().st_size
    bad = new_image(glance, disk_format="qcow2")
    assert upload(glance, bad["id"], evil.read_bytes()).status_code == 400
    assert ok(glance.get(f"/v2/images/{bad['id']}"))["status"] == "queued"
    split = tmp_path / "split.vmdk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", str(split), "1M"],
                   check=True)
    # A VMDK text descriptor whose extent is a host file: qemu-img would happily read it.
    evil_vmdk = split.read_bytes().replace(b'"split-flat.vmdk"', b'"/etc/hostname"')
    descriptor = new_image(glance, disk_format="vmdk")
    refused = upload(glance, descriptor["id"], evil_vmdk)
    assert refused.status_code == 400 and "VMDK" in refused.json()["message"]
    mislabelled = new_image(glance, disk_format="raw")  # qcow2 data declared raw: the classic trick
    assert upload(glance, mislabelled["id"], good.read_bytes()).status_code == 400


def test_list_filters_sort_and_pages(glance):
    tag = os.urandom(4).hex()
    made = [new_image(glance, name=f"pg-{i}", tags=[tag]) for i in range(5)]
    listed = ok(glance.get("/v2/images", params={"tag": tag, "sort": "name:asc", "limit": 2}))
    assert [i["name"] for i in listed["images"]] == ["pg-0", "pg-1"]
    following = ok(glance.get(listed["next"]))
    assert [i["name"] for i in following["images"]] == ["pg-2", "pg-3"]
    by_name = ok(glance.get("/v2/images", params={"name": "pg-4"}))["images"]
    assert [i["id"] for i in by_name] == [made[4]["id"]]
    since = ok(glance.get("/v2/images", params={"tag": tag, "created_at": f"gte:{made[0]['created_at']}"}))
    assert len(since["images"]) == 5
    future = ok(glance.get("/v2/images", params={"tag": tag, "created_at": "gt:2999-01-01T00:00:00Z"}))
    assert future["images"] == []
    assert glance.get("/v2/images", params={"created_at": "gt:someday"}).status_code == 400
    assert glance.get("/v2/images", params={"sort_key": "secret"}).status_code == 400
    assert glance.get("/v2/images", params={"marker": "nope"}).status_code == 400


def test_projects_are_walls(cloud, admin, glance):
    private = new_image(glance, visibility="private")
    public = new_image(glance, visibility="public")
    with as_member(cloud, admin) as member:
        assert member.get(f"/v2/images/{private['id']}").status_code == 404
        assert member.get(f"/v2/images/{public['id']}").status_code == 200
        ids = {i["id"] for i in ok(member.get("/v2/images"))["images"]}
        assert public["id"] in ids and private["id"] not in ids
        assert member.delete(f"/v2/images/{public['id']}").status_code == 403
        rename = [{"op": "replace", "path": "/name", "value": "mine"}]
        assert member.patch(f"/v2/images/{public['id']}", json=rename, headers=PATCH).status_code == 403
        assert member.post("/v2/images", json={"visibility": "public"}).status_code == 403  # only admins publish
        assert member.post(f"/v2/images/{public['id']}/actions/deactivate").status_code == 403
        assert member.get("/v2/images/").status_code == 404  # no trailing-slash redirects


def test_protected_and_deactivated(cloud, admin, glance):
    image = new_image(glance, protected=True, visibility="public")
    ok(upload(glance, image["id"]), 204)
    assert glance.delete(f"/v2/images/{image['id']}").status_code == 403
    ok(glance.post(f"/v2/images/{image['id']}/actions/deactivate"), 204)
    assert ok(glance.get(f"/v2/images/{image['id']}"))["status"] == "deactivated"
    with as_member(cloud, admin) as member:
        assert member.get(f"/v2/images/{image['id']}/file").status_code == 403
    ok(glance.post(f"/v2/images/{image['id']}/actions/reactivate"), 204)
    assert glance.get(f"/v2/images/{image['id']}/file").content == DATA
    unprotect = [{"op": "replace", "path": "/protected", "value": False}]
    ok(glance.patch(f"/v2/images/{image['id']}", json=unprotect, headers=PATCH))
    ok(glance.delete(f"/v2/images/{image['id']}"), 204)


def test_sharing_with_members(cloud, admin):
    owner_project, _, owner_token = member_of_new_project(cloud, admin)
    other_project, _, other_token = member_of_new_project(cloud, admin)
    owner = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": owner_token}, timeout=60)
    other = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": other_token}, timeout=60)
    private = new_image(owner, visibility="private")
    assert owner.post(f"/v2/images/{private['id']}/members", json={"member": other_project["id"]}).status_code == 403
    image = new_image(owner)  # shared by default
    ok(upload(owner, image["id"]), 204)
    assert other.get(f"/v2/images/{image['id']}").status_code == 404
    member = ok(owner.post(f"/v2/images/{image['id']}/members", json={"member": other_project["id"]}))
    assert member["status"] == "pending" and member["member_id"] == other_project["id"]
    assert owner.post(f"/v2/images/{image['id']}/members",
                      json={"member": other_project["id"]}).status_code == 409
    assert other.get(f"/v2/images/{image['id']}").status_code == 200  # a member may look before answering
    assert image["id"] not in {i["id"] for i in ok(other.get("/v2/images"))["images"]}
    pending = ok(other.get("/v2/images", params={"member_status": "pending"}))["images"]
    assert image["id"] in {i["id"] for i in pending}
    url = f"/v2/images/{image['id']}/members/{other_project['id']}"
    assert owner.put(url, json={"status": "accepted"}).status_code == 403  # only the member answers
    assert other.put(url, json={"status": "maybe"}).status_code == 400
    assert ok(other.put(url, json={"status": "accepted"}))["status"] == "accepted"
    assert image["id"] in {i["id"] for i in ok(other.get("/v2/images"))["images"]}
    assert other.get(f"/v2/images/{image['id']}/file").content == DATA
    assert [m["member_id"] for m in ok(other.get(f"/v2/images/{image['id']}/members"))["members"]] == [
        other_project["id"]]
    assert other.post(f"/v2/images/{image['id']}/members", json={"member": owner_project["id"]}).status_code == 403
    ok(owner.delete(url), 204)
    assert other.get(f"/v2/images/{image['id']}").status_code == 404


def test_quotas_from_unified_limits(cloud, admin):
    image_service = ok(admin.get("/services", params={"type": "image"}))["services"][0]["id"]
    registered = ok(admin.post("/registered_limits", json={"registered_limits": [
        {"service_id": image_service, "resource_name": name, "default_limit": 1_000_000}
        for name in ("image_count_total", "image_size_total")]}), 201)["registered_limits"]
    project, _, token = member_of_new_project(cloud, admin)
    limits = ok(admin.post("/limits", json={"limits": [
        {"service_id": image_service, "project_id": project["id"], "resource_name": "image_count_total",
         "resource_limit": 2},
        {"service_id": image_service, "project_id": project["id"], "resource_name": "image_size_total",
         "resource_limit": 1}]}), 201)["limits"]
    try:
        with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": token}, timeout=60) as member:
            first = new_image(member)
            ok(upload(member, first["id"], b"x" * (512 * 1024)), 204)
            second = new_image(member)
            assert member.post("/v2/images", json={"name": "third"}).status_code == 413  # count reached
            assert upload(member, second["id"], DATA).status_code == 413  # 3 MiB over a 1 MiB total
            assert ok(member.get(f"/v2/images/{second['id']}"))["status"] == "queued"
            usage = ok(member.get("/v2/info/usage"))["usage"]
            assert usage["image_count_total"] == {"limit": 2, "usage": 2}
            assert usage["image_size_total"] == {"limit": 1, "usage": 1}
            assert usage["image_count_uploading"]["usage"] == 0
    finally:
        for limit in limits:
            admin.delete(f"/limits/{limit['id']}")
        for limit in registered:
            admin.delete(f"/registered_limits/{limit['id']}")
