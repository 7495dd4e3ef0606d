"""Containers scheduled onto a joined host: the controller's own host runs no containers, the host joined with
`onestack compute join` (fake driver, whose hosts run both kinds) reports ``CUSTOM_COMPUTE_CONTAINER``; a
server of a container image lands on the joined host, and with that host disabled finds no host at all,
while a VM still goes to the controller's."""

import httpx
import pytest

from tests.api.helpers import name, ok, wait
from tests.clients.joined import HOST, controller_and_joined_host

TRAIT = "CUSTOM_COMPUTE_CONTAINER"


def _settled(nova: httpx.Client, server_id: str) -> dict:
    return wait(lambda: (s := ok(nova.get(f"/servers/{server_id}"))["server"])["status"] in ("ACTIVE", "ERROR")
                and s, 60, f"server {server_id} to settle")


@pytest.mark.postgres
@pytest.mark.hosts
def test_a_container_lands_on_the_joined_host_that_reports_containers(tmp_path):
    with controller_and_joined_host(tmp_path, controller={"fake_container_hosts": 0}) as world:
        nova = world.nova
        with httpx.Client(base_url=world.cloud.url, headers=world.headers, timeout=60) as http:
            def traits() -> dict[str, list[str]]:
                providers = ok(http.get("/placement/resource_providers"))["resource_providers"]
                return {p["name"]: ok(http.get(f"/placement/resource_providers/{p['uuid']}/traits", headers={
                    "OpenStack-API-Version": "placement 1.6"}))["traits"] for p in providers}

            # the service is up a moment before the host's provider and its traits are in placement
            found = wait(lambda: TRAIT in (t := traits()).get(HOST, []) and t, 30,
                         f"the joined host's provider with {TRAIT}")
            assert TRAIT not in found["controller"], found
            images = {}
            for kind, container_format in (("container", "oci"), ("vm", "bare")):
                made = ok(http.post("/image/v2/images", json={"name": name(kind), "disk_format": "raw",
                                                              "container_format": container_format}), 201)
                ok(http.put(f"/image/v2/images/{made['id']}/file", content=b"\0" * 4096,
                            headers={"Content-Type": "application/octet-stream"}), 204)
                images[kind] = made["id"]

        def boot(kind: str) -> dict:
            body = {"server": {"name": name(kind), "imageRef": images[kind], "flavorRef": "1", "networks": "none"}}
            return _settled(nova, ok(nova.post("/servers", json=body), 202)["server"]["id"])

        # twice: not a lucky pick between two hosts
        for _ in range(2):
            placed = boot("container")
            assert placed["status"] == "ACTIVE", placed.get("fault")
            assert placed["OS-EXT-SRV-ATTR:host"] == HOST

        # the joined host disabled: no host runs containers any more, and the VM goes to the controller's
        ok(nova.put(f"/os-services/{world.services()[HOST]['id']}", json={"status": "disabled"}))
        stranded = boot("container")
        assert stranded["status"] == "ERROR" and "No valid host" in stranded["fault"]["message"], stranded
        vm = boot("vm")
        assert vm["status"] == "ACTIVE" and vm["OS-EXT-SRV-ATTR:host"] == "controller", vm
