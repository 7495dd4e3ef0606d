"""Interoperable image import over HTTP: stage + glance-direct, web-download with URI filters, tasks."""

import hashlib
import http.server
import os
import subprocess
import threading
import time

import httpx
import pytest

from onestack.config import ImageImport
from onestack.http.errors import BadRequest
from onestack.services.image.service.webdownload import check
from tests.api.helpers import member_of_new_project, ok
from tests.api.test_images import DATA, as_member, new_image

OCTETS = {"Content-Type": "application/octet-stream"}


class Files(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` by path; ``/redirect-to-metadata`` points at the metadata service."""

    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802
        if self.path == "/redirect-to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Files.files
    server.shutdown()


def stage(client, image_id, data=DATA):
    return client.put(f"/v2/images/{image_id}/stage", content=data, headers=OCTETS)


def start_import(client, image_id, method="glance-direct", **extra):
    return client.post(f"/v2/images/{image_id}/import", json={"method": {"name": method, **extra}})


def wait_for(client, image_id, *statuses, timeout=30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        image = ok(client.get(f"/v2/images/{image_id}"))
        if image["status"] in statuses or time.monotonic() > deadline:
            return image
        time.sleep(0.1)


def only_task(client, image_id, status) -> dict:
    deadline = time.monotonic() + 15
    while True:
        tasks = ok(client.get(f"/v2/images/{image_id}/tasks"))["tasks"]
        if (len(tasks) == 1 and tasks[0]["status"] == status) or time.monotonic() > deadline:
            assert [t["status"] for t in tasks] == [status]
            return tasks[0]
        time.sleep(0.1)


def test_info_import_lists_enabled_methods(glance):
    methods = ok(glance.get("/v2/info/import"))["import-methods"]
    assert methods["type"] == "array" and methods["value"] == ["glance-direct", "web-download"]


def test_stage_then_glance_direct_import(cloud, admin, glance):
    image = new_image(glance)
    ok(stage(glance, image["id"]), 204)
    staged = ok(glance.get(f"/v2/images/{image['id']}"))
    assert staged["status"] == "uploading" and staged["size"] == len(DATA)
    assert "os_glance_stage_host" not in staged  # Glance keeps it to itself
    assert stage(glance, image["id"]).status_code == 409  # staged once
    resp = start_import(glance, image["id"])
    assert resp.status_code == 202
    active = wait_for(glance, image["id"], "active")
    assert active["status"] == "active" and active["checksum"] == hashlib.md5(DATA).hexdigest()
    assert active["os_hash_value"] == hashlib.sha512(DATA).hexdigest() and active["virtual_size"] == len(DATA)
    assert active["os_glance_importing_to_stores"] == "" and active["os_glance_failed_import"] == ""
    assert "os_glance_import_task" not in active and active["stores"] == "file"
    assert glance.get(f"/v2/images/{image['id']}/file").content == DATA
    assert list((cloud.data_dir / "staging").iterdir()) == []  # staged data goes once imported
    task = only_task(glance, image["id"], "success")
    assert task["type"] == "api_image_import" and task["result"] == {"image_id": image["id"]}
    assert task["request_id"] == resp.headers["x-openstack-request-id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct" and task["expires_at"]
    assert ok(glance.get(f"/v2/tasks/{task['id']}"))["status"] == "success"
    listed = ok(glance.get("/v2/tasks", params={"status": "success"}))["tasks"]
    assert task["id"] in {t["id"] for t in listed} and "input" not in listed[0]
    with as_member(cloud, admin) as member:
        assert member.get("/v2/tasks").status_code == 403  # the tasks API is for admins, as in Glance
        assert member.get(f"/v2/images/{image['id']}/tasks").status_code == 404


def test_import_state_and_method_checks(glance):
    queued = new_image(glance)
    assert start_import(glance, queued["id"]).status_code == 409  # nothing staged
    assert start_import(glance, queued["id"], "copy-image").status_code == 400  # not enabled: one store
    ok(glance.put(f"/v2/images/{queued['id']}/file", content=b"data", headers=OCTETS), 204)
    assert start_import(glance, queued["id"], "web-download", uri="http://127.0.0.1/x").status_code == 409
    assert stage(glance, queued["id"]).status_code == 409  # active images take no staged data
    no_formats = ok(glance.post("/v2/images", json={"name": "bare"}), 201)
    ok(stage(glance, no_formats["id"], b"x"), 204)
    assert start_import(glance, no_formats["id"]).status_code == 409
    staged = new_image(glance)
    ok(stage(glance, staged["id"], b"x"), 204)
    assert glance.post(f"/v2/images/{staged['id']}/import", json={"method": {"name": "glance-direct"},
                                                                   "stores": ["ceph"]}).status_code == 409


@pytest.mark.parametrize("body", [None, {}, {"method": {}}, {"method": {"name": "teleport"}}, {"method": "glance-direct"},
                                  {"method": {"name": "glance-direct"}, "all_stores": "yes"},
                                  {"method": {"name": "glance-direct"}, "stores": "file"},
                                  {"method": {"name": "web-download", "uri": 5}}])
def test_malformed_import_bodies_are_400(glance, body):
    image = new_image(glance)
    resp = glance.post(f"/v2/images/{image['id']}/import", json=body)
    assert resp.status_code == 400 and ok(glance.get(f"/v2/images/{image['id']}"))["status"] == "queued"


def test_stage_needs_octet_stream_and_respects_stage_quota(cloud, admin, glance):
    image = new_image(glance)
    assert glance.put(f"/v2/images/{image['id']}/stage", content=b"x", headers={"Content-Type": "text/plain"}
                      ).status_code == 415
    service = ok(admin.get("/services", params={"type": "image"}))["services"][0]["id"]
    registered = ok(admin.post("/registered_limits", json={"registered_limits": [
        {"service_id": service, "resource_name": "image_stage_total", "default_limit": 1_000_000}]}),
        201)["registered_limits"][0]
    project, _, token = member_of_new_project(cloud, admin)
    limit = ok(admin.post("/limits", json={"limits": [{"service_id": service, "project_id": project["id"],
                                                       "resource_name": "image_stage_total",
                                                       "resource_limit": 1}]}), 201)["limits"][0]
    try:
        with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": token}, timeout=60) as member:
            mine = new_image(member)
            assert stage(member, mine["id"]).status_code == 413  # 3 MiB over a 1 MiB staging quota
            after = ok(member.get(f"/v2/images/{mine['id']}"))
            assert after["status"] == "queued" and after["size"] is None
            ok(stage(member, mine["id"], b"x" * 1000), 204)
            usage = ok(member.get("/v2/info/usage"))["usage"]
            assert usage["image_stage_total"] == {"limit": 1, "usage": 1}
            assert usage["image_count_uploading"]["usage"] == 1
    finally:
        admin.delete(f"/limits/{limit['id']}")
        admin.delete(f"/registered_limits/{registered['id']}")


def test_web_download_fetches_inspects_and_records_failure(glance, web, tmp_path):
    base, files = web
    files["/disk.raw"] = DATA
    image = new_image(glance)
    assert start_import(glance, image["id"], "web-download", uri=f"{base}/disk.raw").status_code == 202
    active = wait_for(glance, image["id"], "active")
    assert active["status"] == "active" and active["checksum"] == hashlib.md5(DATA).hexdigest()
    assert only_task(glance, image["id"], "success")["input"]["import_req"]["method"]["uri"] == f"{base}/disk.raw"
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", str(evil)],
                   check=True)
    files["/evil.qcow2"] = evil.read_bytes()
    bad = new_image(glance, disk_format="qcow2")
    assert start_import(glance, bad["id"], "web-download", uri=f"{base}/evil.qcow2").status_code == 202
    task = only_task(glance, bad["id"], "failure")
    assert "backing file" in task["message"]
    failed = wait_for(glance, bad["id"], "queued")
    assert failed["status"] == "queued" and failed["os_glance_failed_import"] == "file"
    assert failed["checksum"] is None and glance.get(f"/v2/images/{bad['id']}/file").status_code == 204
    missing = new_image(glance)
    assert start_import(glance, missing["id"], "web-download", uri=f"{base}/missing").status_code == 202
    assert "404" in only_task(glance, missing["id"], "failure")["message"]


@pytest.mark.parametrize("uri", ["http://127.0.0.2:8080/x", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/x", "http://0.0.0.0/x", "ftp://127.0.0.1/x", "file:///etc/passwd",
                                 "http://does-not.exist.invalid/x", "http:///nohost"])
def test_web_download_refuses_unsafe_uris(glance, uri):
    image = new_image(glance)
    resp = start_import(glance, image["id"], "web-download", uri=uri)
    assert resp.status_code == 400 and "does not pass filtering" in resp.json()["message"]
    assert ok(glance.get(f"/v2/images/{image['id']}"))["status"] == "queued"


def test_web_download_redirects_are_checked_too(glance, web):
    base, _ = web
    image = new_image(glance)
    assert start_import(glance, image["id"], "web-download", uri=f"{base}/redirect-to-metadata").status_code == 202
    assert "169.254.169.254" in only_task(glance, image["id"], "failure")["message"]
    assert wait_for(glance, image["id"], "queued")["status"] == "queued"


def test_default_filters_refuse_loopback_metadata_and_odd_ports():
    defaults = ImageImport()
    for uri in ("http://127.0.0.1/x", "http://localhost/x", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]/",
                "https://example.com:8443/x", "gopher://example.com/"):
        with pytest.raises(BadRequest):
            check(uri, defaults)
    allowed = ImageImport(allowed_ports=[], allowed_networks=["127.0.0.0/8"])
    assert check("http://127.0.0.1:9/x", allowed) == ("http", "127.0.0.1", 9, "127.0.0.1")
    with pytest.raises(BadRequest):
        check("http://127.0.0.1:9/x", ImageImport(allowed_ports=[], allowed_networks=["127.0.0.0/8"],
                                                  disallowed_hosts=["127.0.0.1"]))


def test_delete_during_staged_state_removes_staged_data(cloud, glance):
    image = new_image(glance)
    ok(stage(glance, image["id"], os.urandom(1024)), 204)
    assert (cloud.data_dir / "staging" / image["id"]).exists()
    ok(glance.delete(f"/v2/images/{image['id']}"), 204)
    assert not (cloud.data_dir / "staging" / image["id"]).exists()


def test_openstack_client_creates_an_image_by_import(cloud, tmp_path):
    data = tmp_path / "disk.raw"
    data.write_bytes(DATA[:100_000])
    made = cloud.openstack("image", "create", "--import", "--disk-format", "raw", "--container-format", "bare",
                           "--file", str(data), "-f", "value", "-c", "id", "cli-import")
    image_id = made.stdout.strip()
    with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30) as c:
        image = wait_for(c, image_id, "active")
        assert image["status"] == "active" and image["checksum"] == hashlib.md5(DATA[:100_000]).hexdigest()
        assert only_task(c, image_id, "success")["input"]["import_req"]["method"]["name"] == "glance-direct"


def test_legacy_import_task_fills_a_new_image_from_a_url(cloud, admin, glance, web):
    base, files = web
    files["/legacy.raw"] = DATA
    task = {"type": "import", "input": {"import_from": f"{base}/legacy.raw", "import_from_format": "raw",
                                        "image_properties": {"name": "legacy", "disk_format": "raw",
                                                             "container_format": "bare"}}}
    created = ok(glance.post("/v2/tasks", json=task), 201)
    assert created["type"] == "import" and created["input"]["import_from"] == f"{base}/legacy.raw"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = ok(glance.get(f"/v2/tasks/{created['id']}"))
        if shown["status"] in ("success", "failure"):
            break
        time.sleep(0.2)
    assert shown["status"] == "success", shown
    image = ok(glance.get(f"/v2/images/{shown['result']['image_id']}"))
    assert image["name"] == "legacy" and image["status"] == "active" and image["size"] == len(DATA)
    before = len(ok(glance.get("/v2/images"))["images"])
    unknown = {**task, "input": {**task["input"], "import_from": "http://no-such-host.invalid/x.qcow2"}}
    assert glance.post("/v2/tasks", json=unknown).status_code == 400
    assert len(ok(glance.get("/v2/images"))["images"]) == before  # a refused task leaves no image behind
    assert glance.post("/v2/tasks", json={"type": "import", "input": {}}).status_code == 400
    with as_member(cloud, admin) as member:
        assert member.post("/v2/tasks", json=task).status_code == 403
