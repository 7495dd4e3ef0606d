"""A volume attach racing the delete of its server (what the chaos run's clients do: one thread attaches a
volume to a server another deletes).  Nova answers such an attach 409 (the server is being deleted) or 404
(it is gone), never a 500; and whatever the order, no volume stays attached to a server that is gone."""

from __future__ import annotations

import threading
import time

import httpx

from tests.api.helpers import nova, ok, wait
from tests.api.volume_helpers import Project

DELETE_LAGS = (0.0, 0.01, 0.02, 0.03, 0.045, 0.06, 0.08, 0.11)
ROUNDS = len(DELETE_LAGS)  # within the project's default quotas (10 instances, 10 volumes)


def public_image(cloud) -> str:
    with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=60) as glance:
        image = ok(glance.post("/v2/images", json={"name": "tiny", "disk_format": "raw", "container_format": "bare",
                                                   "visibility": "public"}), 201)
        ok(glance.put(f"/v2/images/{image['id']}/file", content=b"\0" * 4096,
                      headers={"Content-Type": "application/octet-stream"}), 204)
        return image["id"]


def test_an_attach_racing_the_servers_delete_is_a_4xx_and_leaves_the_volume_available(cloud, admin):
    storage = Project(cloud, admin)
    image_id = public_image(cloud)
    compute = nova(cloud, storage.token, "2.37")
    seen: list[tuple[str, int, str]] = []
    pairs = []
    for _ in range(ROUNDS):
        server = ok(compute.post("/servers", json={"server": {"name": "racing", "imageRef": image_id,
                                                              "flavorRef": "1", "networks": "none"}}), 202)["server"]
        pairs.append((server["id"], storage.volume()["id"]))
    for server_id, _ in pairs:
        wait(lambda sid=server_id: ok(compute.get(f"/servers/{sid}"))["server"]["status"] == "ACTIVE", 60, "ACTIVE")
    # the delete sent a little after the attach, later each round: it lands in each of the attach's steps
    for (server_id, volume_id), lag in zip(pairs, DELETE_LAGS, strict=True):
        start = threading.Barrier(2)

        def attach(sid=server_id, vid=volume_id, start=start):
            with httpx.Client(base_url=str(compute.base_url), headers=dict(compute.headers), timeout=60) as c:
                start.wait()
                r = c.post(f"/servers/{sid}/os-volume_attachments", json={"volumeAttachment": {"volumeId": vid}})
                seen.append(("attach", r.status_code, r.text[:300]))

        def delete(sid=server_id, lag=lag, start=start):
            with httpx.Client(base_url=str(compute.base_url), headers=dict(compute.headers), timeout=60) as c:
                start.wait()
                time.sleep(lag)
                r = c.delete(f"/servers/{sid}")
                seen.append(("delete", r.status_code, r.text[:300]))

        threads = [threading.Thread(target=attach), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [s for s in seen if s[1] >= 500] == []
    assert {code for what, code, _ in seen if what == "delete"} == {204}
    assert {code for what, code, _ in seen if what == "attach"} <= {200, 404, 409}, seen
    # what Nova says of the server, not what a step of the attach met (its attachment let go: a 404 of it)
    for what, code, text in seen:
        if what == "attach" and code == 409:
            assert "while it is in task_state deleting" in text, text
        if what == "attach" and code == 404:
            assert "Instance" in text and "could not be found" in text, text
    for server_id, volume_id in pairs:
        wait(lambda sid=server_id: compute.get(f"/servers/{sid}").status_code == 404, 60, "the server gone")
        volume = storage.wait(volume_id, "available")
        assert volume["attachments"] == []
