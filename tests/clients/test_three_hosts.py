"""Three compute hosts on PostgreSQL (the controller and two hosts joined with ``onestack compute join``, fake
driver): for every move the scheduler chooses the destination among the two hosts other than the source, and
each time the one it would prefer by free memory (Nova's spread) is the one a rule of the issue forbids: a
disabled service (``compute service set --disable``), a service forced down, a host whose heartbeat is gone
(its process killed).  Live migration, cold migration and evacuate all land on the other candidate, and the
server's placement allocation follows it."""

import datetime
import signal

import httpx
import pytest

from onestack.services.compute.service.host_records import SERVICE_DOWN_TIME
from tests.api.helpers import name, ok, wait
from tests.clients.joined import HOST, controller_and_joined_host, join

pytestmark = [pytest.mark.postgres, pytest.mark.hosts]
SECOND, SECOND_TUNNEL_IP = "joined-2", "192.0.2.12"
V280 = {"X-OpenStack-Nova-API-Version": "2.80"}


def test_the_scheduler_moves_a_server_among_three_hosts_to_the_candidate_no_rule_forbids(tmp_path):
    with controller_and_joined_host(tmp_path) as world:
        cloud, nova = world.cloud, world.nova
        second = join(tmp_path / SECOND, world.url, host=SECOND, tunnel_ip=SECOND_TUNNEL_IP)
        try:
            wait(lambda: world.services().get(SECOND, {}).get("state") == "up", 60, "the second joined host up")
            placement = httpx.Client(base_url=f"{cloud.url}/placement", timeout=60,
                                     headers={**world.headers, "OpenStack-API-Version": "placement 1.28"})

            def listed() -> dict:
                return {p["name"]: p["uuid"] for p in ok(placement.get("/resource_providers"))["resource_providers"]}

            # as in Nova, a host's service is up before its first resource report makes its provider
            wait(lambda: {"controller", HOST, SECOND} <= listed().keys(), 60, "every host's resource provider")
            providers = listed()
            service = {host: s["id"] for host, s in world.services().items()}
            image, net = world.image_and_network("10.77.0.0/24")

            def boot(host: str) -> str:
                return ok(nova.post("/servers", json={"server": {
                    "name": name("vm"), "imageRef": image["id"], "flavorRef": "1", "host": host,
                    "networks": [{"uuid": net["id"]}]}}, headers={"X-OpenStack-Nova-API-Version": "2.74"}),
                    202)["server"]["id"]

            def shown(server_id: str) -> dict:
                server = ok(nova.get(f"/servers/{server_id}", headers=V280))["server"]
                assert server["status"] != "ERROR", server.get("fault")
                return server

            def settled(server_id: str, status: str, host: str) -> None:
                wait(lambda: shown(server_id)["status"] == status, 90, f"the server {status}")
                assert shown(server_id)["OS-EXT-SRV-ATTR:host"] == host
                held = ok(placement.get(f"/allocations/{server_id}"))["allocations"]
                assert set(held) == {providers[host]}, held

            def set_service(host: str, **body) -> None:
                ok(nova.put(f"/os-services/{service[host]}", json=body))

            def last_migration(server_id: str) -> dict:
                found = ok(nova.get("/os-migrations", params={"instance_uuid": server_id}, headers=V280))
                return max(found["migrations"], key=lambda m: m["id"])

            # the mover on joined-1, a filler on joined-2 and another on the controller, so that free memory
            # makes the forbidden candidate the preferred one at each step
            mover, on_second = boot(HOST), boot(SECOND)
            settled(mover, "ACTIVE", HOST)
            settled(on_second, "ACTIVE", SECOND)

            # 1. live, from joined-1: the controller (emptiest) is disabled -> joined-2
            set_service("controller", status="disabled")
            ok(nova.post(f"/servers/{mover}/action", json={"os-migrateLive": {
                "host": None, "block_migration": "auto"}}, headers=V280), 202)
            settled(mover, "ACTIVE", SECOND)
            migration = last_migration(mover)
            assert (migration["migration_type"], migration["status"], migration["source_compute"],
                    migration["dest_compute"]) == ("live-migration", "completed", HOST, SECOND)

            # 2. live, from joined-2: joined-1 (empty now) is forced down -> the controller, its filler there
            set_service("controller", status="enabled")
            settled(boot("controller"), "ACTIVE", "controller")
            set_service(HOST, forced_down=True)
            assert world.services()[HOST]["state"] == "down"
            ok(nova.post(f"/servers/{mover}/action", json={"os-migrateLive": {
                "host": None, "block_migration": "auto"}}, headers=V280), 202)
            settled(mover, "ACTIVE", "controller")
            assert last_migration(mover)["dest_compute"] == "controller"
            set_service(HOST, forced_down=False)

            # 3. cold, from the controller: joined-1 (emptiest) has lost its heartbeat -> joined-2
            world.joined.send_signal(signal.SIGKILL)
            world.joined.wait(timeout=30)
            world.joined = None
            cloud.execute("update compute_host set heartbeat_at = :at where host = :host", host=HOST,
                          at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
                          - datetime.timedelta(seconds=SERVICE_DOWN_TIME + 5))
            assert world.services()[HOST]["state"] == "down"
            ok(nova.post(f"/servers/{mover}/action", json={"migrate": None}, headers=V280), 202)
            wait(lambda: shown(mover)["status"] == "VERIFY_RESIZE", 90, "the cold migration")
            assert shown(mover)["OS-EXT-SRV-ATTR:host"] == SECOND
            ok(nova.post(f"/servers/{mover}/action", json={"confirmResize": None}), 204)
            settled(mover, "ACTIVE", SECOND)
            assert last_migration(mover)["dest_compute"] == SECOND

            # 4. evacuate, from joined-2 (killed, forced down): joined-1 (emptiest) is still dead -> controller
            second.send_signal(signal.SIGKILL)
            second.wait(timeout=30)
            set_service(SECOND, forced_down=True)
            answer = nova.post(f"/servers/{mover}/action", json={"evacuate": {}}, headers=V280)
            assert answer.status_code == 200, answer.text
            settled(mover, "ACTIVE", "controller")
            migration = last_migration(mover)
            assert (migration["migration_type"], migration["dest_compute"]) == ("evacuation", "controller")

            # no candidate left (the controller disabled too): the evacuation fails and the server stays put
            set_service("controller", status="disabled")
            answer = nova.post(f"/servers/{on_second}/action", json={"evacuate": {}}, headers=V280)
            assert answer.status_code == 200, answer.text
            wait(lambda: last_migration(on_second)["status"] in ("error", "failed"), 60, "the evacuation to fail")
            server = ok(nova.get(f"/servers/{on_second}", headers=V280))["server"]
            assert server["OS-EXT-SRV-ATTR:host"] == SECOND
            assert set(ok(placement.get(f"/allocations/{on_second}"))["allocations"]) == {providers[SECOND]}
            placement.close()
        finally:
            if second.poll() is None:
                second.kill()
            second.wait()
