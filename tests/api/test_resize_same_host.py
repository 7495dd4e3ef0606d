"""``compute.allow_resize_to_same_host`` off (Nova's option; on by default): a resize leaves the server's
host, and with no other host enabled it fails and leaves the server as it was (fake driver, two hosts)."""

import httpx

from tests.api.helpers import name, ok, upload_image, wait
from tests.cloudfixture import Cloud

V256 = {"X-OpenStack-Nova-API-Version": "2.56"}


def test_with_allow_resize_to_same_host_off_a_resize_always_leaves_the_servers_host(tmp_path):
    cloud = Cloud(tmp_path / "cloud", settings={"compute": {"driver": "fake", "fake_hosts": 2,
                                                             "allow_resize_to_same_host": False}}).start()
    try:
        headers = {"X-Auth-Token": cloud.token()}
        with httpx.Client(base_url=cloud.url, headers=headers, timeout=60) as http, \
                httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **V256}, timeout=60) as nova:
            image = upload_image(http, image_name=name("img"))
            server_id = ok(nova.post("/servers", json={"server": {
                "name": name("vm"), "imageRef": image["id"], "flavorRef": "1", "networks": "none"}}),
                202)["server"]["id"]

            def shown() -> dict:
                return ok(nova.get(f"/servers/{server_id}"))["server"]

            wait(lambda: shown()["status"] == "ACTIVE", 60, "the server ACTIVE")
            source = shown()["OS-EXT-SRV-ATTR:host"]
            # the source has room for the larger flavor (and on by default it would be chosen first)
            ok(nova.post(f"/servers/{server_id}/action", json={"resize": {"flavorRef": "2"}}), 202)
            wait(lambda: shown()["status"] == "VERIFY_RESIZE", 60, "the resize")
            moved = shown()
            assert moved["OS-EXT-SRV-ATTR:host"] != source and moved["flavor"]["original_name"] == "m1.small"
            ok(nova.post(f"/servers/{server_id}/action", json={"confirmResize": None}), 204)
            wait(lambda: shown()["status"] == "ACTIVE", 60, "the confirmation")

            # the only other host disabled: nowhere to go, so the resize fails and nothing changed
            services = {s["host"]: s["id"] for s in ok(nova.get("/os-services"))["services"]}
            ok(nova.put(f"/os-services/{services[source]}", json={"status": "disabled"}))
            ok(nova.post(f"/servers/{server_id}/action", json={"resize": {"flavorRef": "3"}}), 202)
            wait(lambda: max(ok(nova.get("/os-migrations", params={"instance_uuid": server_id}))["migrations"],
                             key=lambda m: m["id"])["status"] == "error", 60, "the resize to fail")
            after = shown()
            assert (after["status"], after["OS-EXT-SRV-ATTR:host"], after["flavor"]["original_name"]) == (
                "ACTIVE", moved["OS-EXT-SRV-ATTR:host"], "m1.small")
    finally:
        cloud.stop()
