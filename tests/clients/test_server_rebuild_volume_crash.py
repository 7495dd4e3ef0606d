"""A volume-backed server's rebuild (2.93) across kill -9: the process dies while the root volume is
``downloading`` its new image; after the restart both resume (the re-image with the token its task keeps,
then the reattach and the spawn), so the server is not left in REBUILD nor the volume ``downloading`` or
``reserved``, and the volume holds the new image's bytes."""

import os
import time

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.api.test_volumes_reimage import volume_bytes
from tests.api.volume_helpers import volume_file
from tests.cloudfixture import Cloud

MiB = 1024**2
NOVA = {"X-OpenStack-Nova-API-Version": "2.93"}


@pytest.fixture
def crash_cloud(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    yield cloud
    cloud.stop()


def clients(cloud) -> tuple[httpx.Client, httpx.Client, httpx.Client]:
    issued = cloud.issue()
    token, project = issued.headers["X-Subject-Token"], issued.json()["token"]["project"]["id"]
    headers = {"X-Auth-Token": token}
    return (httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **NOVA}, timeout=60),
            httpx.Client(base_url=f"{cloud.url}/volume/v3/{project}", headers=headers, timeout=60),
            httpx.Client(base_url=f"{cloud.url}/image/v2", headers=headers, timeout=120))


def _image(images: httpx.Client, data: bytes) -> dict:
    image = ok(images.post("/images", json={"name": "img", "disk_format": "raw", "container_format": "bare"}), 201)
    ok(images.put(f"/images/{image['id']}/file", content=data, headers={"Content-Type": "application/octet-stream"}),
       204)
    return image


def test_kill_9_while_the_root_volume_is_reimaged(crash_cloud):
    cloud = crash_cloud
    nova, volumes, images = clients(cloud)
    small = _image(images, os.urandom(MiB))
    big_data = os.urandom(MiB) * 200  # its download takes long enough for the kill to land in it
    big = _image(images, big_data)
    made = ok(volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": small["id"]}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{made['id']}"))["volume"]["status"] == "available", 60, "the volume")
    server = ok(nova.post("/servers", json={"server": {
        "name": "bfv", "flavorRef": "1", "networks": "none", "imageRef": "",
        "block_device_mapping_v2": [{"source_type": "volume", "destination_type": "volume", "uuid": made["id"],
                                     "boot_index": 0}]}}), 202)["server"]
    wait(lambda: ok(nova.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE", 60, "the server")

    ok(nova.post(f"/servers/{server['id']}/action", json={"rebuild": {"imageRef": big["id"]}}), 202)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and \
            ok(volumes.get(f"/volumes/{made['id']}"))["volume"]["status"] != "downloading":
        time.sleep(0.005)
    assert ok(volumes.get(f"/volumes/{made['id']}"))["volume"]["status"] == "downloading"
    cloud.kill_9()
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    nova, volumes, images = clients(cloud)

    def settled():
        found = ok(nova.get(f"/servers/{server['id']}"))["server"]
        return found if found["status"] in ("ACTIVE", "ERROR") else None
    rebuilt = wait(settled, 120, "the server out of REBUILD")
    assert rebuilt["status"] == "ACTIVE", rebuilt.get("fault")
    volume = ok(volumes.get(f"/volumes/{made['id']}"))["volume"]
    assert volume["status"] == "in-use" and volume["volume_image_metadata"]["image_id"] == big["id"]
    assert [a["server_id"] for a in volume["attachments"]] == [server["id"]]
    assert volume_bytes(volume_file(cloud, made["id"]), 4 * MiB) == big_data[:4 * MiB]
    # no work file of the re-image is left
    assert not [p for p in (cloud.data_dir / "volumes").iterdir() if p.name.endswith(".partial")]
