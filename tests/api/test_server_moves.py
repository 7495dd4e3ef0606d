"""Moving servers between hosts over HTTP: cold migration (confirm and revert), resize keeping its disk
config, and the checks around them (fake driver, the test cloud's two fake hosts)."""

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import ok
from tests.api.test_server_actions import active_server, usages
from tests.api.test_servers import wait

tenant, image_id = test_servers.tenant, test_servers.image_id
V256 = {"X-OpenStack-Nova-API-Version": "2.56"}
V280 = {"X-OpenStack-Nova-API-Version": "2.80"}


@pytest.fixture
def nova_admin(cloud):
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token(), **V256},
                      timeout=60) as client:
        yield client


def host_of(nova_admin, server_id) -> str:
    return ok(nova_admin.get(f"/servers/{server_id}"))["server"]["OS-EXT-SRV-ATTR:host"]


def providers(cloud) -> dict[str, str]:
    """Placement's provider uuid -> compute host name."""
    with httpx.Client(base_url=f"{cloud.url}/placement", headers={"X-Auth-Token": cloud.token()}) as p:
        return {r["uuid"]: r["name"] for r in ok(p.get("/resource_providers"))["resource_providers"]}


def held_on(cloud, consumer) -> dict[str, int]:
    """The host -> MEMORY_MB a placement consumer holds."""
    names = providers(cloud)
    return {names[rp]: held["resources"]["MEMORY_MB"] for rp, held in usages(cloud, consumer).items()}


def migrations_of(nova_admin, server_id) -> list[dict]:
    return ok(nova_admin.get("/os-migrations", params={"instance_uuid": server_id}, headers=V280))["migrations"]


def test_cold_migration_moves_the_allocation_and_reverts_or_confirms(cloud, tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    source = host_of(nova_admin, server_id)
    assert tenant.post(act, json={"migrate": None}).status_code == 403  # admins only
    assert nova_admin.post(act, json={"migrate": {"host": source}}).status_code == 400  # the same host
    assert nova_admin.post(act, json={"migrate": {"host": "no-such-host"}}).status_code == 400
    assert nova_admin.post(act, json={"migrate": {"hostname": "x"}}).status_code == 400

    ok(nova_admin.post(act, json={"migrate": None}), 202)
    moved = wait(nova_admin, server_id, "VERIFY_RESIZE")
    dest = moved["OS-EXT-SRV-ATTR:host"]
    assert dest != source and moved["flavor"]["original_name"] == "m1.tiny"
    (migration,) = migrations_of(nova_admin, server_id)
    assert (migration["migration_type"], migration["status"]) == ("migration", "finished")
    assert (migration["source_compute"], migration["dest_compute"]) == (source, dest)
    # as Nova: the instance holds its flavor on the destination, the migration holds it on the source
    assert held_on(cloud, server_id) == {dest: 512}
    assert held_on(cloud, migration["uuid"]) == {source: 512}

    ok(nova_admin.post(act, json={"revertResize": None}), 202)
    reverted = wait(nova_admin, server_id, "ACTIVE")
    assert reverted["OS-EXT-SRV-ATTR:host"] == source
    assert held_on(cloud, server_id) == {source: 512} and usages(cloud, migration["uuid"]) == {}
    assert migrations_of(nova_admin, server_id)[0]["status"] == "reverted"

    ok(nova_admin.post(act, json={"migrate": {"host": dest}}), 202)  # named, 2.56
    wait(nova_admin, server_id, "VERIFY_RESIZE")
    assert tenant.post(act, json={"confirmResize": None}).status_code == 204  # the owner confirms
    confirmed = wait(nova_admin, server_id, "ACTIVE")
    assert confirmed["OS-EXT-SRV-ATTR:host"] == dest
    latest = migrations_of(nova_admin, server_id)[0]
    assert latest["status"] == "confirmed" and usages(cloud, latest["uuid"]) == {}
    assert held_on(cloud, server_id) == {dest: 512}
    actions = [a["action"] for a in ok(tenant.get(f"/servers/{server_id}/os-instance-actions"))["instanceActions"]]
    assert actions[:4] == ["confirmResize", "migrate", "revertResize", "migrate"]


def test_a_stopped_server_migrates_stopped_and_a_host_before_2_56_is_not_read(tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    source = host_of(nova_admin, server_id)
    ok(tenant.post(act, json={"os-stop": None}), 202)
    wait(tenant, server_id, "SHUTOFF")
    # before 2.56 the body's host is not Nova's to read: the scheduler chooses
    ok(nova_admin.post(act, json={"migrate": None}, headers={"X-OpenStack-Nova-API-Version": "2.55"}), 202)
    wait(nova_admin, server_id, "VERIFY_RESIZE")
    ok(nova_admin.post(act, json={"confirmResize": None}), 204)
    moved = wait(nova_admin, server_id, "SHUTOFF")
    assert moved["OS-EXT-SRV-ATTR:host"] != source


def test_a_migration_with_nowhere_to_go_leaves_the_server_where_it_was(cloud, tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    source = host_of(nova_admin, server_id)
    services = ok(nova_admin.get("/os-services", params={"binary": "nova-compute"},
                                 headers={"X-OpenStack-Nova-API-Version": "2.53"}))["services"]
    others = [s for s in services if s["host"] != source and s["status"] == "enabled"]
    for service in others:
        ok(nova_admin.put(f"/os-services/{service['id']}", json={"status": "disabled"},
                          headers={"X-OpenStack-Nova-API-Version": "2.53"}))
    try:
        ok(nova_admin.post(act, json={"migrate": None}), 202)
        back = wait(nova_admin, server_id, "ACTIVE")  # RESIZE until the scheduler has said no
        (migration,) = migrations_of(nova_admin, server_id)
        assert migration["status"] == "error" and back["OS-EXT-SRV-ATTR:host"] == source
        assert held_on(cloud, server_id) == {source: 512} and usages(cloud, migration["uuid"]) == {}
    finally:
        for service in others:
            ok(nova_admin.put(f"/os-services/{service['id']}", json={"status": "enabled"},
                              headers={"X-OpenStack-Nova-API-Version": "2.53"}))


def test_disk_config_is_kept_through_resize_rebuild_and_update(tenant, image_id):
    server = test_servers.boot(tenant, image_id, **{"OS-DCF:diskConfig": "AUTO"})
    assert server["OS-DCF:diskConfig"] == "AUTO"
    server_id, act = server["id"], f"/servers/{server['id']}/action"
    assert wait(tenant, server_id, "ACTIVE")["OS-DCF:diskConfig"] == "AUTO"
    ok(tenant.post(act, json={"resize": {"flavorRef": "42"}}), 202)
    assert wait(tenant, server_id, "VERIFY_RESIZE")["OS-DCF:diskConfig"] == "AUTO"
    ok(tenant.post(act, json={"confirmResize": None}), 204)
    wait(tenant, server_id, "ACTIVE")
    ok(tenant.post(act, json={"resize": {"flavorRef": "84", "OS-DCF:diskConfig": "MANUAL"}}), 202)
    assert wait(tenant, server_id, "VERIFY_RESIZE")["OS-DCF:diskConfig"] == "MANUAL"
    ok(tenant.post(act, json={"confirmResize": None}), 204)
    wait(tenant, server_id, "ACTIVE")
    rebuilt = ok(tenant.post(act, json={"rebuild": {"imageRef": image_id, "OS-DCF:diskConfig": "AUTO"}}), 202)
    assert rebuilt["server"]["OS-DCF:diskConfig"] == "AUTO"
    assert wait(tenant, server_id, "ACTIVE")["OS-DCF:diskConfig"] == "AUTO"
    updated = ok(tenant.put(f"/servers/{server_id}", json={"server": {"OS-DCF:diskConfig": "MANUAL"}}))
    assert updated["server"]["OS-DCF:diskConfig"] == "MANUAL"
    assert ok(tenant.put(f"/servers/{server_id}", json={"server": {"name": "x"}}))["server"]["OS-DCF:diskConfig"] \
        == "MANUAL"
    assert tenant.put(f"/servers/{server_id}", json={"server": {"OS-DCF:diskConfig": "SOMETIMES"}}).status_code == 400
