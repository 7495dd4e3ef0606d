"""Scheduler hints with the fake driver's two hosts, servers made by `openstack server create --hint`:
different_host and same_host place a server by others (of any project, as Nova's filters), hints that rule
out every host end in "No valid host was found", malformed hints are 400s, and the hints stay with the
server, so a later live or cold migration keeps to them."""

import json
import time
import uuid

import pytest

from tests.api import test_server_moves, test_servers
from tests.api.helpers import name, ok
from tests.api.test_server_moves import LIVE, V225, V253, force_down, migrations_of
from tests.api.test_servers import NETWORKS_NONE, wait

tenant, image_id, nova_admin = test_servers.tenant, test_servers.image_id, test_server_moves.nova_admin
HOST = "OS-EXT-SRV-ATTR:host"


@pytest.fixture
def create(cloud, image_id, nova_admin):
    """``create(*hints)``: a server of the admin project made by the CLI, each hint a ``--hint key=value`` (a key
    given twice is a list); every one is deleted after the test (the admin project's quota is 10)."""
    made = []

    def create(*hints: str) -> str:
        args = ["--os-compute-api-version", "2.37", "server", "create", "--image", image_id, "--flavor", "1",
                "--nic", "none", "-f", "json"]
        for hint in hints:
            args += ["--hint", hint]
        made.append(json.loads(cloud.openstack(*args, name("hint")).stdout)["id"])
        return made[-1]

    yield create
    for server_id in made:
        nova_admin.delete(f"/servers/{server_id}")
    deadline = time.monotonic() + 60
    for server_id in made:
        while nova_admin.get(f"/servers/{server_id}").status_code != 404:
            assert time.monotonic() < deadline, f"{server_id} was never deleted"
            time.sleep(0.1)


def settle(nova_admin, server_id: str) -> dict:
    return wait(nova_admin, server_id, "ACTIVE", "ERROR")


def no_valid_host(server: dict) -> bool:
    return server["status"] == "ERROR" and "No valid host was found" in server["fault"]["message"]


def test_different_host_and_same_host_place_a_server_by_others(create, nova_admin):
    first = create()
    home = settle(nova_admin, first)[HOST]
    apart = settle(nova_admin, create(f"different_host={first}"))
    assert apart["status"] == "ACTIVE" and apart[HOST] not in (home, None)
    beside = settle(nova_admin, create(f"same_host={first}"))
    assert beside["status"] == "ACTIVE" and beside[HOST] == home
    # a list: on a host one of them is on / on no host any of them is on (both of the cloud's two hosts)
    either = settle(nova_admin, create(f"same_host={first}", f"same_host={apart['id']}"))
    assert either["status"] == "ACTIVE" and either[HOST] in (home, apart[HOST])
    neither = settle(nova_admin, create(f"different_host={first}", f"different_host={apart['id']}"))
    assert no_valid_host(neither) and neither[HOST] is None
    # a uuid of no server: no host has it, so different_host rules nothing out and same_host everything
    assert settle(nova_admin, create(f"different_host={uuid.uuid4()}"))["status"] == "ACTIVE"
    assert no_valid_host(settle(nova_admin, create(f"same_host={uuid.uuid4()}")))
    assert no_valid_host(settle(nova_admin, create("same_host=not-a-uuid")))  # Nova's schema too


def test_the_servers_named_may_be_of_another_project(create, tenant, image_id, nova_admin):
    theirs = create()  # the admin project's
    home = settle(nova_admin, theirs)[HOST]
    for hint, beside in (("different_host", False), ("same_host", True)):
        body = {"server": {"name": name("mine"), "imageRef": image_id, "flavorRef": "1", "networks": "none"},
                "os:scheduler_hints": {hint: [theirs]}}
        mine = settle(nova_admin, ok(tenant.post("/servers", json=body, headers=NETWORKS_NONE), 202)["server"]["id"])
        assert mine["status"] == "ACTIVE" and (mine[HOST] == home) is beside


@pytest.mark.parametrize("hints", [{"different_host": "not-a-uuid"}, {"different_host": ["not-a-uuid"]},
                                   {"same_host": 5}, {"same_host": {"a": "b"}}, {"query": 5},
                                   {"build_near_host_ip": "300.1.2.3"}, {"cidr": "24"}, {"target_cell": ""},
                                   {"different_cell": [1]}, {"group": "not-a-uuid"}, "same_host"])
def test_a_malformed_hint_is_400(tenant, image_id, hints):
    body = {"server": {"name": name("bad"), "imageRef": image_id, "flavorRef": "1", "networks": "none"},
            "os:scheduler_hints": hints}
    answer = tenant.post("/servers", json=body, headers=NETWORKS_NONE)
    assert answer.status_code == 400 and "badRequest" in answer.json()


def test_hints_of_filters_not_run_and_unknown_ones_are_taken(tenant, image_id, nova_admin):
    hints = {"query": '[">=", "$free_ram_mb", 1]', "build_near_host_ip": "192.0.2.1", "cidr": "/24",
             "target_cell": "cell1", "different_cell": ["cell2"], "a_filter_of_our_own": {"any": ["thing"]}}
    body = {"server": {"name": name("taken"), "imageRef": image_id, "flavorRef": "1", "networks": "none"},
            "OS-SCH-HNT:scheduler_hints": hints}
    server_id = ok(tenant.post("/servers", json=body, headers=NETWORKS_NONE), 202)["server"]["id"]
    assert settle(nova_admin, server_id)["status"] == "ACTIVE"


def final_migration(nova_admin, server_id: str, count: int) -> dict:
    """The newest of the server's ``count`` migrations once it has ended."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = migrations_of(nova_admin, server_id)
        if len(found) == count and found[0]["status"] in ("error", "completed", "finished", "done"):
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"the migrations of {server_id} never ended: {migrations_of(nova_admin, server_id)}")


def test_a_move_keeps_to_the_hints_the_server_was_created_with(create, nova_admin):
    first = create()
    home = settle(nova_admin, first)[HOST]
    apart = create(f"different_host={first}")
    away = settle(nova_admin, apart)[HOST]
    act = f"/servers/{apart}/action"
    # the cloud's other host is the one the hint rules out: neither a live nor a cold migration has anywhere to go
    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    assert final_migration(nova_admin, apart, 1)["status"] == "error"
    assert wait(nova_admin, apart, "ACTIVE")[HOST] == away
    ok(nova_admin.post(act, json={"migrate": None}), 202)
    refused = final_migration(nova_admin, apart, 2)
    assert (refused["migration_type"], refused["status"]) == ("migration", "error")
    assert wait(nova_admin, apart, "ACTIVE")[HOST] == away
    # once the server it was to keep away from is gone, the same live migration goes to that server's host
    ok(nova_admin.delete(f"/servers/{first}"), 204)
    deadline = time.monotonic() + 30
    while nova_admin.get(f"/servers/{first}").status_code != 404:
        assert time.monotonic() < deadline, "the server was never deleted"
        time.sleep(0.1)
    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    moved = final_migration(nova_admin, apart, 3)
    assert (moved["status"], moved["dest_compute"]) == ("completed", home)
    assert wait(nova_admin, apart, "ACTIVE")[HOST] == home


def test_an_evacuation_keeps_to_the_hints_too(create, nova_admin):
    first = create()
    home = settle(nova_admin, first)[HOST]
    apart = create(f"different_host={first}")
    down = settle(nova_admin, apart)[HOST]
    act = f"/servers/{apart}/action"
    force_down(nova_admin, down, True)
    try:
        ok(nova_admin.post(act, json={"evacuate": {}}, headers=V253), 200)
        refused = final_migration(nova_admin, apart, 1)
        assert (refused["migration_type"], refused["status"]) == ("evacuation", "error")
        assert wait(nova_admin, apart, "ACTIVE")[HOST] == down
        ok(nova_admin.delete(f"/servers/{first}"), 204)
        deadline = time.monotonic() + 30
        while nova_admin.get(f"/servers/{first}").status_code != 404:
            assert time.monotonic() < deadline, "the server was never deleted"
            time.sleep(0.1)
        ok(nova_admin.post(act, json={"evacuate": {}}, headers=V253), 200)
        assert final_migration(nova_admin, apart, 2)["status"] == "done"
        assert wait(nova_admin, apart, "ACTIVE")[HOST] == home
    finally:
        force_down(nova_admin, down, False)
