"""kill -9 of a joined compute host (PostgreSQL, fake driver): once its heartbeat is older than the service-down
time its service is reported down, its servers are still listed with their status and ``host_status`` DOWN,
an admin evacuates them to the remaining host (ACTIVE there, every placement allocation moved off the dead
host's provider), and the dead host coming back runs none of them."""

import datetime
import signal

import httpx
import pytest

from onestack.services.compute.service.host_records import SERVICE_DOWN_TIME
from tests.api.helpers import name, ok, upload_image, wait
from tests.clients.test_compute_join import join
from tests.cloudfixture import Cloud
from tests.pgtools import scratch_database

pytestmark = pytest.mark.postgres
V216 = {"X-OpenStack-Nova-API-Version": "2.16"}
V253 = {"X-OpenStack-Nova-API-Version": "2.53"}


def test_a_killed_joined_hosts_servers_are_reported_and_evacuated_and_it_comes_back_without_them(tmp_path):
    with scratch_database() as url:
        cloud = Cloud(tmp_path / "controller", database=url,
                      settings={"compute": {"driver": "fake", "fake_hosts": 1, "host": "controller"}}).start()
        joined = None
        try:
            joined = join(tmp_path / "joined", url, "joined-1", "192.0.2.11")
            headers = {"X-Auth-Token": cloud.token()}
            nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **V253}, timeout=60)
            placement = httpx.Client(base_url=f"{cloud.url}/placement", timeout=60,
                                     headers={**headers, "OpenStack-API-Version": "placement 1.28"})

            def services():
                return {s["host"]: s for s in ok(nova.get("/os-services"))["services"]}

            wait(lambda: services().get("joined-1", {}).get("state") == "up", 60, "the joined host's service up")
            controller = services()["controller"]["id"]
            ok(nova.put(f"/os-services/{controller}", json={"status": "disabled"}))
            with httpx.Client(base_url=cloud.url, headers=headers, timeout=60) as http:
                image = upload_image(http, image_name=name("img"))
                net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
                ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                      "cidr": "10.79.0.0/24"}}), 201)
            ids = [ok(nova.post("/servers", json={"server": {"name": name("vm"), "imageRef": image["id"],
                                                              "flavorRef": "1", "networks": [{"uuid": net["id"]}]}}),
                      202)["server"]["id"] for _ in range(2)]

            def shown(server_id: str, headers=V216) -> dict:
                server = ok(nova.get(f"/servers/{server_id}", headers=headers))["server"]
                assert server["status"] != "ERROR", server.get("fault")
                return server

            for server_id in ids:
                wait(lambda s=server_id: shown(s)["status"] == "ACTIVE", 60, "the server ACTIVE on the joined host")
                assert shown(server_id)["OS-EXT-SRV-ATTR:host"] == "joined-1"
            ok(nova.put(f"/os-services/{controller}", json={"status": "enabled"}))
            (dead_rp,) = ok(placement.get("/resource_providers", params={"name": "joined-1"}))["resource_providers"]

            joined.send_signal(signal.SIGKILL)
            joined.wait(timeout=30)
            joined = None
            assert services()["joined-1"]["state"] == "up", "within the service-down time a killed host still looks up"
            # the clock moved past the service-down time since its last heartbeat
            cloud.execute("update compute_host set heartbeat_at = :at where host = 'joined-1'",
                          at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
                          - datetime.timedelta(seconds=SERVICE_DOWN_TIME + 5))
            assert services()["joined-1"]["state"] == "down"
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
            joined = join(tmp_path / "joined", url, "joined-1", "192.0.2.11")
            wait(lambda: services()["joined-1"]["state"] == "up", 60, "the joined host back up")
            hypervisors = {h["hypervisor_hostname"]: h for h in ok(nova.get("/os-hypervisors/detail",
                           headers={"X-OpenStack-Nova-API-Version": "2.1"}))["hypervisors"]}
            assert hypervisors["joined-1"]["running_vms"] == 0
            for server_id in ids:
                server = shown(server_id)
                assert (server["status"], server["OS-EXT-SRV-ATTR:host"], server["host_status"]) == (
                    "ACTIVE", "controller", "UP")
            assert not any(ok(placement.get(f"/resource_providers/{dead_rp['uuid']}/usages"))["usages"].values())
        finally:
            if joined is not None:
                joined.send_signal(signal.SIGTERM)
                joined.wait(timeout=30)
            cloud.stop()
