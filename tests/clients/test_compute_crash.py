"""kill -9 of the cloud mid-build and mid-resize (fake driver): after the restart no server is left in BUILD
or in a task, and placement holds exactly the room the servers take: each server's flavor on its own host
(and, while a resize waits to be confirmed, the old flavor on the source under the migration), nothing for
anyone else, and nothing at all once the servers are deleted.

The kill comes right after the API's 202: the database then shows the build or the resize under way, which
the test checks before it restarts, so what follows is the recovery from a real cut."""

import sqlite3

import httpx
import pytest

from tests.api.helpers import name, ok, upload_image, wait
from tests.cloudfixture import Cloud

V247 = {"X-OpenStack-Nova-API-Version": "2.47"}  # the server's flavor shown whole (vcpus, ram, disk)
PLACEMENT = {"OpenStack-API-Version": "placement 1.28"}


class Crashable:
    """A cloud of its own with a network and an image, and clients that follow it across restarts."""

    def __init__(self, data_dir):
        self.cloud = Cloud(data_dir).start()
        self.http = httpx.Client(base_url=self.cloud.url, timeout=60)
        self.nova = httpx.Client(base_url=f"{self.cloud.url}/compute/v2.1", headers=V247, timeout=60)
        self.placement = httpx.Client(base_url=f"{self.cloud.url}/placement", headers=PLACEMENT, timeout=60)
        self.login()
        self.image = upload_image(self.http, image_name=name("img"))["id"]
        net = ok(self.http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
        ok(self.http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                    "cidr": "10.82.0.0/24"}}), 201)
        self.network = net["id"]

    def login(self) -> None:
        token = self.cloud.token()
        for client in (self.http, self.nova, self.placement):
            client.headers["X-Auth-Token"] = token

    def rows(self, sql: str) -> list[tuple]:
        """The database as the kill left it (read while the cloud is down)."""
        with sqlite3.connect(self.cloud.data_dir / "onestack.db") as db:
            return db.execute(sql).fetchall()

    def restart(self) -> None:
        self.cloud.onestack("up", "--bind", f"127.0.0.1:{self.cloud.port}", "--detach", "--no-user-clouds")
        self.login()

    def servers(self) -> list[dict]:
        return ok(self.nova.get("/servers/detail"))["servers"]

    def settled(self, seconds: float = 60) -> list[dict]:
        """The servers once none is building or in a task."""
        return wait(lambda: (found := self.servers()) and all(
            s["status"] != "BUILD" and s["OS-EXT-STS:task_state"] is None for s in found) and found,
            seconds, "every server out of BUILD and its task")

    def held(self) -> dict[str, dict[str, dict[str, int]]]:
        """Every allocation placement holds: consumer -> provider name -> resources."""
        providers = ok(self.placement.get("/resource_providers"))["resource_providers"]
        found: dict[str, dict[str, dict[str, int]]] = {}
        for rp in providers:
            for consumer, entry in ok(self.placement.get(f"/resource_providers/{rp['uuid']}/allocations"))[
                    "allocations"].items():
                found.setdefault(consumer, {})[rp["name"]] = entry["resources"]
        return found

    def stop(self) -> None:
        for client in (self.http, self.nova, self.placement):
            client.close()
        self.cloud.stop()


def room(server: dict) -> dict[str, int]:
    flavor = server["flavor"]
    return {"VCPU": flavor["vcpus"], "MEMORY_MB": flavor["ram"], "DISK_GB": flavor["disk"]}


@pytest.fixture
def crashable(tmp_path):
    c = Crashable(tmp_path / "data")
    yield c
    c.stop()


def test_kill_9_mid_build_leaves_no_server_building_and_no_allocation_astray(crashable):
    c = crashable
    made = ok(c.nova.post("/servers", json={"server": {
        "name": name("vm"), "imageRef": c.image, "flavorRef": "1", "networks": [{"uuid": c.network}],
        "min_count": 8, "max_count": 8, "return_reservation_id": True}}), 202)
    assert made["reservation_id"]
    c.cloud.kill_9()
    building = c.rows("select id from compute_instance where vm_state = 'building'")
    assert building, "the kill came after every build had ended: it proved nothing"

    c.restart()
    servers = c.settled()
    assert len(servers) == 8
    assert [s["status"] for s in servers] == ["ACTIVE"] * 8, [(s["id"], s.get("fault")) for s in servers]
    # each server's room on its own host, once; no consumer placement holds for nobody
    assert c.held() == {s["id"]: {s["OS-EXT-SRV-ATTR:hypervisor_hostname"]: room(s)} for s in servers}
    print(f"\n{len(building)} of 8 servers were building at the kill; all ACTIVE after the restart")

    for s in servers:
        ok(c.nova.delete(f"/servers/{s['id']}"), 204)
    wait(lambda: not c.servers(), 60, "the servers gone")
    assert c.held() == {}


def test_kill_9_mid_resize_leaves_no_server_in_a_task_and_no_allocation_astray(crashable):
    c = crashable
    server = ok(c.nova.post("/servers", json={"server": {
        "name": name("vm"), "imageRef": c.image, "flavorRef": "1", "networks": [{"uuid": c.network}]}}),
        202)["server"]
    (before,) = c.settled()
    ok(c.nova.post(f"/servers/{server['id']}/action", json={"resize": {"flavorRef": "2"}}), 202)
    c.cloud.kill_9()
    ((task,),) = c.rows(f"select task_state from compute_instance where id = '{server['id']}'")
    assert task is not None and task.startswith("resize"), f"the kill found the resize done ({task}): it proved nothing"

    c.restart()
    # the resize goes on from its row: the new flavor held on the server's host, the old one on the source
    # under the migration until the confirm
    (after,) = c.settled()
    assert after["status"] == "VERIFY_RESIZE" and after["flavor"]["original_name"] == "m1.small", after.get("fault")
    (migration,) = ok(c.nova.get("/os-migrations", params={"instance_uuid": server["id"]},
                                 headers={"X-OpenStack-Nova-API-Version": "2.59"}))["migrations"]  # (its uuid)
    assert migration["status"] == "finished"
    assert c.held() == {server["id"]: {after["OS-EXT-SRV-ATTR:hypervisor_hostname"]: room(after)},
                        migration["uuid"]: {before["OS-EXT-SRV-ATTR:hypervisor_hostname"]: room(before)}}
    ok(c.nova.post(f"/servers/{server['id']}/action", json={"confirmResize": None}), 204)
    (confirmed,) = c.settled()
    assert confirmed["status"] == "ACTIVE"
    assert c.held() == {server["id"]: {confirmed["OS-EXT-SRV-ATTR:hypervisor_hostname"]: room(after)}}
    print(f"\nkilled at {task}; after the restart the resize finished on {after['OS-EXT-SRV-ATTR:hypervisor_hostname']}")

    ok(c.nova.delete(f"/servers/{server['id']}"), 204)
    wait(lambda: not c.servers(), 60, "the server gone")
    assert c.held() == {}
