"""Block Storage across kill -9: a volume being made from an image when the process dies ends in error
with the reason after restart, and no file of it is left (Cinder's start-up cleanup)."""

import os
import time

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud


@pytest.fixture
def crash_cloud(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    yield cloud
    cloud.stop()


def admin_clients(cloud) -> tuple[httpx.Client, httpx.Client]:
    issued = cloud.issue()
    token, project = issued.headers["X-Subject-Token"], issued.json()["token"]["project"]["id"]
    return (httpx.Client(base_url=f"{cloud.url}/volume/v3/{project}", headers={"X-Auth-Token": token}, timeout=60),
            httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token}, timeout=120))


def test_kill_9_during_a_create_from_an_image(crash_cloud):
    cloud = crash_cloud
    volumes, images = admin_clients(cloud)
    # Large enough that its download takes a while: the kill lands while it runs.
    data = os.urandom(1024 * 1024) * 256
    image = ok(images.post("/images", json={"name": "big", "disk_format": "raw", "container_format": "bare"}), 201)
    ok(images.put(f"/images/{image['id']}/file", content=data, headers={"Content-Type": "application/octet-stream"}),
       204)
    volume = ok(volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}}), 202)["volume"]
    store = cloud.data_dir / "volumes"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.name.startswith(".image-") for p in
                                                   (store.iterdir() if store.exists() else ())):
        time.sleep(0.005)
    assert any(p.name.startswith(".image-") for p in store.iterdir()), "the download never started"
    cloud.kill_9()
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    volumes, images = admin_clients(cloud)
    ended = ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]
    assert ended["status"] == "error"
    assert list(store.iterdir()) == []
    # The reason is kept where the project finds it (a user message, 3.3) and an operator too (the log).
    (message,) = ok(volumes.get("/messages", params={"resource_uuid": volume["id"]},
                                headers={"OpenStack-API-Version": "volume 3.3"}))["messages"]
    assert message["event_id"] == "VOLUME_VOLUME_005_001"
    assert f"restarted while creating it from image {image['id']}" in message["user_message"]
    log = (cloud.data_dir / "onestack.log").read_text()
    assert f"volume {volume['id']}: Block Storage restarted while creating it from image {image['id']}" in log
    # The error volume deletes, and the image still makes a volume.
    ok(volumes.delete(f"/volumes/{volume['id']}"), 202)
    again = ok(volumes.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}}), 202)["volume"]
    wait(lambda: ok(volumes.get(f"/volumes/{again['id']}"))["volume"]["status"] == "available", 60,
         "a volume from the image after the restart")
