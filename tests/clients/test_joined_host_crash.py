"""kill -9 of a joined compute host (PostgreSQL, fake driver): once its heartbeat is older than the service-down
time its service is reported down, its servers are still listed with their status and ``host_status`` DOWN,
an admin evacuates them to the remaining host (ACTIVE there, every placement allocation moved off the dead
host's provider), and the dead host coming back runs none of them."""

import datetime
import signal

import httpx
import pytest

from onestack.services.compute.service.host_records import SERVICE_DOWN_TIME
from tests.api.helpers import name, ok, wait
from tests.clients.joined import HOST, controller_and_joined_host

pytestmark = [pytest.mark.postgres, pytest.mark.hosts]
V216 = {"X-OpenStack-Nova-API-Version": "2.16"}


def test_a_killed_joined_hosts_servers_are_reported_and_evacuated_and_it_comes_back_without_them(tmp_path):
    with controller_and_joined_host(tmp_path) as world:
        cloud, nova, services = world.cloud, world.nova, world.services
        placement = httpx.Client(base_url=f"{cloud.url}/placement", timeout=60,
                                 headers={**world.headers, "OpenStack-API-Version": "placement 1.28"})
        controller = services()["controller"]["id"]
        ok(nova.put(f"/os-services/{controller}", json={"status": "disabled"}))
        image, net = world.image_and_network("10.79.0.0/24")
        ids = [ok(nova.post("/servers", json={"server": {"name": name("vm"), "imageRef": image["id"],
                                                          "flavorRef": "1", "networks": [{"uuid": net["id"]}]}}),
                  202)["server"]["id"] for _ in range(2)]

        def shown(server_id: str, headers=V216) -> dict:
            server = ok(nova.get(f"/servers/{server_id}", headers=headers))["server"]
            assert server["status"] != "ERROR", server.get("fault")
            return server

        for server_id in ids:
            wait(lambda s=server_id: shown(s)["status"] == "ACTIVE", 60, "the server ACTIVE on the joined host")
            assert shown(server_id)["OS-EXT-SRV-ATTR:host"] == HOST
        ok(nova.put(f"/os-services/{controller}", json={"status": "enabled"}))
        (dead_rp,) = ok(placement.get("/resource_providers", params={"name": HOST}))["resource_providers"]

        world.joined.send_signal(signal.SIGKILL)
        world.joined.wait(timeout=30)
        world.joined = None
        assert services()[HOST]["state"] == "up", "within the service-down time a killed host still looks up"
        # the clock moved past the service-down time since its last heartbeat
        cloud.execute("update compute_host set heartbeat_at = :at where host = 'joined-1'",
                      at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
                      - datetime.timedelta(seconds=SERVICE_DOWN_TIME + 5))
        assert services()[HOST]["state"] == "down"
        for server_id in ids:
            server = shown(server_id)
            assert (server["status"], server["host_status"]) == ("ACTIVE", "DOWN")
            assert server_id in {s["id"] for s in ok(nova.get("/servers"))["servers"]}

        for server_id in ids:
            answer = nova.post(f"/servers/{server_id}/action", json={"evacuate": {}},
                               headers={"X-OpenStack-Nova-API-Version": "2.29"})
            assert answer.status_code == 200, answer.text
        for server_id in ids:
            wait(lambda s=server_id: shown(s)["status"] == "ACTIVE" and shown(s)["OS-EXT-SRV-ATTR:host"]
                 == "controller", 60, "the evacuated server ACTIVE on the controller")
            held = ok(placement.get(f"/allocations/{server_id}"))["allocations"]
            assert dead_rp["uuid"] not in held and len(held) == 1, held
        usages = ok(placement.get(f"/resource_providers/{dead_rp['uuid']}/usages"))["usages"]
        assert not any(usages.values()), f"allocations left against the dead host: {usages}"

        # the dead host comes back: it runs none of the evacuated guests
        world.start_joined()
        hypervisors = {h["hypervisor_hostname"]: h for h in ok(nova.get("/os-hypervisors/detail",
                       headers={"X-OpenStack-Nova-API-Version": "2.1"}))["hypervisors"]}
        assert hypervisors[HOST]["running_vms"] == 0
        for server_id in ids:
            server = shown(server_id)
            assert (server["status"], server["OS-EXT-SRV-ATTR:host"], server["host_status"]) == (
                "ACTIVE", "controller", "UP")
        assert not any(ok(placement.get(f"/resource_providers/{dead_rp['uuid']}/usages"))["usages"].values())
