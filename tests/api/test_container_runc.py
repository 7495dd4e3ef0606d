"""Container servers under real runc through the API (no data plane: the servers have no NICs).

Snapshots: createImage, createBackup and shelve.  The first server writes a file as it starts (its metadata's ``container_entrypoint``
runs a shell line before the image's init); its snapshot is an image of the same container format; a
second server booted from it prints the file on its console.  Shelve then unshelve boots the same
container again from the shelved image, with the file.

The serial console: through the console proxy's websocket, a shell in the container.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from onestack.drivers.runc import runtime
from onestack.guestimage import build
from tests.api.helpers import console_output, name, ok, wait
from tests.cloudfixture import Cloud
from tests.drivers.serial import websocket_shell

if os.geteuid() != 0:
    pytest.skip("containers and overlay mounts need root", allow_module_level=True)
if not runtime.installed():
    pytest.skip("runc is not installed (make install installs it)", allow_module_level=True)

NOVA = {"OpenStack-API-Version": "compute 2.37"}  # 'networks': 'none'
WRITE = json.dumps(["/bin/sh", "-c", "mkdir -p /data && echo written-before-the-snapshot > /data/note; "
                                     "exec /sbin/onestack-init"])
READ = json.dumps(["/bin/sh", "-c", "echo note=$(cat /data/note); exec /sbin/onestack-init"])


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    c = Cloud(tmp_path_factory.mktemp("container-snapshots"), settings={"compute": {"driver": "qemu"}}).start()
    registered = subprocess.run([sys.executable, "-m", "onestack", "image", "register", "--data-dir",
                                 str(c.data_dir)], capture_output=True, text=True, timeout=300,
                                env={**c.env, "ONESTACK_IMAGE_CACHE": str(build.default_cache_dir())})
    assert registered.returncode == 0, registered.stdout + registered.stderr
    yield c
    c.onestack("down", "--purge", check=False)  # the containers outlive onestack: whatever a failure left


@pytest.fixture(scope="module")
def http(cloud):
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token(), **NOVA}, timeout=120) as client:
        yield client


def boot(http, image_id: str, entrypoint: str) -> str:
    body = {"server": {"name": name("ctr"), "imageRef": image_id, "flavorRef": "1", "networks": "none",
                       "metadata": {"container_entrypoint": entrypoint}}}
    server_id = ok(http.post("/compute/v2.1/servers", json=body), 202)["server"]["id"]
    status(http, server_id, "ACTIVE")
    return server_id


def status(http, server_id: str, wanted: str) -> dict:
    def reached():
        server = ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]
        assert server["status"] != "ERROR", server.get("fault")
        return server if server["status"] == wanted and server["OS-EXT-STS:task_state"] is None else None

    return wait(reached, 120, f"server {server_id} to be {wanted}", every=0.1)


def active_image(http, image_id: str) -> dict:
    def done():
        image = ok(http.get(f"/image/v2/images/{image_id}"))
        assert image["status"] not in ("killed", "deleted"), image
        return image if image["status"] == "active" else None

    return wait(done, 120, f"image {image_id} to be active", every=0.1)


def log(http, server_id: str) -> str:
    return console_output(http, server_id, "/compute/v2.1")


def note_on_console(http, server_id: str) -> str:
    return wait(lambda: "note=" in log(http, server_id) and log(http, server_id), 60,
                "the note on the console", every=0.1)


def test_a_server_booted_from_a_container_snapshot_sees_the_files_the_first_one_wrote(http):
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    first = boot(http, base["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, first), 60, "the first container's init")

    made = http.post(f"/compute/v2.1/servers/{first}/action", json={"createImage": {"name": name("snap")}})
    assert made.status_code == 202, made.text  # before 2.45: the image in Location, no body
    snap = active_image(http, made.headers["Location"].rsplit("/", 1)[1])
    assert (snap["container_format"], snap["disk_format"]) == ("oci", "raw"), snap
    assert snap["image_type"] == "snapshot" and snap["instance_uuid"] == first
    assert status(http, first, "ACTIVE")  # the container thawed after the copy

    second = boot(http, snap["id"], READ)
    assert "note=written-before-the-snapshot" in note_on_console(http, second)

    # createBackup: the same image, rotated
    backup = http.post(f"/compute/v2.1/servers/{first}/action", json={"createBackup": {
        "name": name("backup"), "backup_type": "daily", "rotation": 1}})
    assert backup.status_code == 202, backup.text
    assert active_image(http, backup.headers["Location"].rsplit("/", 1)[1])["image_type"] == "backup"

    # shelve (offloaded at once) then unshelve: the container again from the shelved image, the file kept
    ok(http.post(f"/compute/v2.1/servers/{second}/action", json={"shelve": None}), 202)
    shelved = status(http, second, "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    ok(http.post(f"/compute/v2.1/servers/{second}/action", json={"unshelve": None}), 202)
    status(http, second, "ACTIVE")
    # a new container (the shelved one was destroyed, its console log with it) that has the note
    assert "note=written-before-the-snapshot" in note_on_console(http, second)

    for server_id in (first, second):
        ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)


def test_the_serial_console_of_a_container_is_a_shell_in_it_through_the_websocket(http):
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    server_id = boot(http, base["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, server_id), 60, "the container's init")
    url = ok(http.post(f"/compute/v2.1/servers/{server_id}/remote-consoles", json={
        "remote_console": {"protocol": "serial", "type": "serial"}}))["remote_console"]["url"]
    assert url.startswith("ws://")
    shell = websocket_shell(url).ready(60)
    try:
        assert shell.run("cat /data/note; hostname; tty") == \
            f"written-before-the-snapshot\n{ok(http.get(f'/compute/v2.1/servers/{server_id}'))['server']['name']}" \
            "\n/dev/pts/0"
        shell.run("echo typed-on-the-console > /proof")
    finally:
        shell.close()
    # the legacy action (before 2.6) gives a URL to the same console: a new shell sees the file
    legacy = ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"os-getSerialConsole": {"type": "serial"}},
                          headers={"OpenStack-API-Version": "compute 2.1"}))["console"]
    assert legacy["type"] == "serial"
    again = websocket_shell(legacy["url"]).ready(60)
    try:
        assert again.run("cat /proof") == "typed-on-the-console"
    finally:
        again.close()
    # no console for a stopped container: Nova's 409
    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"os-stop": None}), 202)
    status(http, server_id, "SHUTOFF")
    refused = http.post(f"/compute/v2.1/servers/{server_id}/remote-consoles", json={
        "remote_console": {"protocol": "serial", "type": "serial"}})
    assert refused.status_code == 409, refused.text
    ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)
