"""Moving servers between hosts over HTTP: cold migration (confirm and revert), resize keeping its disk
config, and the checks around them (fake driver, the test cloud's two fake hosts)."""

import time

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import ok
from tests.api.test_server_actions import active_server, usages
from tests.api.test_server_volumes import attach, boot_with, bootable_volume, new_volume
from tests.api.test_servers import wait
from tests.api.volume_helpers import cinder

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


# -- live migration ---------------------------------------------------------------------------------------
V225 = {"X-OpenStack-Nova-API-Version": "2.25"}
V265 = {"X-OpenStack-Nova-API-Version": "2.65"}
LIVE = {"os-migrateLive": {"host": None, "block_migration": "auto"}}


def port_host(cloud, server_id) -> str:
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as neutron:
        (port,) = ok(neutron.get("/ports", params={"device_id": server_id}))["ports"]
        return port["binding:host_id"]


def running_migration(nova_admin, server_id, timeout=30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ok(nova_admin.get(f"/servers/{server_id}/migrations", headers=V280))["migrations"]
        if found and found[0]["status"] == "running" and found[0]["memory_processed_bytes"]:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no running live migration of {server_id}")


def test_live_migration_of_an_idle_guest_moves_it_its_port_and_its_room(cloud, tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    source = host_of(nova_admin, server_id)
    assert tenant.post(act, json=LIVE, headers=V225).status_code == 403  # admins only
    same = {"os-migrateLive": {"host": source, "block_migration": "auto"}}
    assert nova_admin.post(act, json=same, headers=V225).status_code == 400
    assert nova_admin.post(act, json={"os-migrateLive": {"host": "nowhere", "block_migration": "auto"}},
                           headers=V225).status_code == 400
    assert nova_admin.post(act, json={"os-migrateLive": {"block_migration": "auto"}}, headers=V225).status_code == 400
    assert nova_admin.post(act, json={"os-migrateLive": {"host": None, "block_migration": "auto", "force": False}},
                           headers={"X-OpenStack-Nova-API-Version": "2.68"}).status_code == 400  # force gone
    assert nova_admin.post(act, json={"os-migrateLive": {"host": None, "block_migration": False}},
                           headers={"X-OpenStack-Nova-API-Version": "2.1"}).status_code == 400  # needs 2.1's keys

    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    moved = wait(nova_admin, server_id, "ACTIVE")
    dest = moved["OS-EXT-SRV-ATTR:host"]
    assert dest != source and moved["OS-EXT-STS:power_state"] == 1
    (migration,) = migrations_of(nova_admin, server_id)
    assert (migration["migration_type"], migration["status"]) == ("live-migration", "completed")
    assert (migration["source_compute"], migration["dest_compute"]) == (source, dest)
    assert "links" not in migration  # only while it runs
    assert held_on(cloud, server_id) == {dest: 512} and usages(cloud, migration["uuid"]) == {}
    assert port_host(cloud, server_id) == dest
    output = ok(tenant.post(act, json={"os-getConsoleOutput": {}}))["output"]
    assert "carries on after a live migration" in output
    assert ok(nova_admin.get(f"/servers/{server_id}/migrations", headers=V280))["migrations"] == []
    events = ok(tenant.get(f"/servers/{server_id}/os-instance-actions"))["instanceActions"]
    assert events[0]["action"] == "live-migration"


def test_block_migration_must_fit_the_guests_disks(cloud, tenant, image_id, nova_admin):
    """Nova's shared-storage check: a guest with a disk file of its host's own cannot move without its disk
    (``block_migration: false``), one whose disks all live on storage both hosts reach (here a volume) must
    not be block-migrated (``true``); ``auto`` picks whichever fits."""
    _, act = active_server(tenant, image_id)
    refused = nova_admin.post(act, json={"os-migrateLive": {"host": None, "block_migration": False}},
                              headers=V225)
    assert refused.status_code == 400 and "is not on shared storage" in refused.text
    with cinder(cloud, tenant.headers["X-Auth-Token"], tenant.project_id) as volumes:
        root = bootable_volume(volumes)
    made = boot_with(tenant, [{"source_type": "volume", "destination_type": "volume", "boot_index": 0,
                               "uuid": root["id"]}])["server"]
    wait(tenant, made["id"], "ACTIVE")
    act = f"/servers/{made['id']}/action"
    refused = nova_admin.post(act, json={"os-migrateLive": {"host": None, "block_migration": "True"}},
                              headers=V225)
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == "Block migration can not be used with shared storage."
    ok(nova_admin.post(act, json={"os-migrateLive": {"host": None, "block_migration": False}}, headers=V225), 202)
    moved = wait(nova_admin, made["id"], "ACTIVE")
    (migration,) = migrations_of(nova_admin, made["id"])
    assert migration["status"] == "completed" and moved["OS-EXT-SRV-ATTR:host"] == migration["dest_compute"]


def test_a_guest_dirtying_memory_faster_than_the_link_still_completes(cloud, tenant, image_id, nova_admin):
    """Pre-copy alone never ends (the fake guest dirties 4 GB/s over a 1 GB/s link): the cloud's policy
    switches the migration to post-copy after its passes, and it completes."""
    server_id, act = active_server(tenant, image_id, metadata={"fake:dirty_mb_per_s": "4096"})
    source = host_of(nova_admin, server_id)
    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    moved = wait(nova_admin, server_id, "ACTIVE", timeout=60)
    assert moved["OS-EXT-SRV-ATTR:host"] != source
    (migration,) = migrations_of(nova_admin, server_id)
    assert migration["status"] == "completed"


def test_abort_leaves_the_guest_on_the_source_and_force_complete_finishes(cloud, tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id, flavorRef="4")  # 8 GB: a pass takes 8 s
    source = host_of(nova_admin, server_id)
    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    running = running_migration(nova_admin, server_id)
    assert wait(nova_admin, server_id, "MIGRATING")["OS-EXT-SRV-ATTR:host"] == source
    assert running["memory_total_bytes"] == 8192 * 1024 * 1024 and running["dest_compute"] != source
    shown = ok(nova_admin.get(f"/servers/{server_id}/migrations/{running['id']}", headers=V280))["migration"]
    assert shown["server_uuid"] == server_id and shown["memory_remaining_bytes"] > 0
    listed = [m for m in migrations_of(nova_admin, server_id) if m["id"] == running["id"]]
    assert listed[0]["links"][0]["href"].endswith(f"/servers/{server_id}/migrations/{running['id']}")
    assert tenant.delete(f"/servers/{server_id}/migrations/{running['id']}", headers=V280).status_code == 403
    assert nova_admin.delete(f"/servers/{server_id}/migrations/99999", headers=V280).status_code == 404
    ok(nova_admin.delete(f"/servers/{server_id}/migrations/{running['id']}", headers=V280), 202)
    back = wait(nova_admin, server_id, "ACTIVE")
    assert back["OS-EXT-SRV-ATTR:host"] == source
    assert migrations_of(nova_admin, server_id)[0]["status"] == "cancelled"
    assert held_on(cloud, server_id) == {source: 8192} and usages(cloud, running["uuid"]) == {}
    assert port_host(cloud, server_id) == source
    # the same migration is over: neither abort nor force-complete applies any more
    assert nova_admin.delete(f"/servers/{server_id}/migrations/{running['id']}", headers=V280).status_code == 400

    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    second = running_migration(nova_admin, server_id)
    force = {"force_complete": None}
    assert nova_admin.post(f"/servers/{server_id}/migrations/{second['id']}/action", json=force,
                           headers={"X-OpenStack-Nova-API-Version": "2.21"}).status_code == 404
    ok(nova_admin.post(f"/servers/{server_id}/migrations/{second['id']}/action", json=force, headers=V265), 202)
    moved = wait(nova_admin, server_id, "ACTIVE", timeout=15)  # well before the 8 s pass would end
    assert moved["OS-EXT-SRV-ATTR:host"] == second["dest_compute"]
    assert migrations_of(nova_admin, server_id)[0]["status"] == "completed"
    assert nova_admin.post(f"/servers/{server_id}/migrations/{second['id']}/action", json=force,
                           headers=V265).status_code == 400


def port_bindings(cloud, server_id) -> list[tuple[str, str]]:
    """The server's one port's bindings (binding-extended), as (host, status), the active one first."""
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as neutron:
        (port,) = ok(neutron.get("/ports", params={"device_id": server_id}))["ports"]
        return [(b["host"], b["status"]) for b in ok(neutron.get(f"/ports/{port['id']}/bindings"))["bindings"]]


def test_live_migration_binds_the_port_inactive_on_the_destination_then_activates_it(cloud, tenant, image_id,
                                                                                      nova_admin):
    """Neutron's port bindings through a live migration: while it runs the port is ACTIVE on the source and
    INACTIVE on the destination; an abort drops the destination's binding; a completed one leaves the
    destination's binding, activated, alone."""
    server_id, act = active_server(tenant, image_id, flavorRef="4")  # 8 GB: a pass takes 8 s
    source = host_of(nova_admin, server_id)
    assert port_bindings(cloud, server_id) == [(source, "ACTIVE")]
    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    running = running_migration(nova_admin, server_id)
    dest = running["dest_compute"]
    assert port_bindings(cloud, server_id) == [(source, "ACTIVE"), (dest, "INACTIVE")]
    assert port_host(cloud, server_id) == source  # the port itself follows the ACTIVE binding only
    ok(nova_admin.delete(f"/servers/{server_id}/migrations/{running['id']}", headers=V280), 202)
    assert wait(nova_admin, server_id, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == source
    assert port_bindings(cloud, server_id) == [(source, "ACTIVE")]

    ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
    second = running_migration(nova_admin, server_id)
    assert port_bindings(cloud, server_id) == [(source, "ACTIVE"), (second["dest_compute"], "INACTIVE")]
    ok(nova_admin.post(f"/servers/{server_id}/migrations/{second['id']}/action", json={"force_complete": None},
                       headers=V265), 202)
    moved = wait(nova_admin, server_id, "ACTIVE", timeout=15)
    assert moved["OS-EXT-SRV-ATTR:host"] == second["dest_compute"]
    assert port_bindings(cloud, server_id) == [(second["dest_compute"], "ACTIVE")]
    assert port_host(cloud, server_id) == second["dest_compute"]


# -- evacuate -------------------------------------------------------------------------------------------
V253 = {"X-OpenStack-Nova-API-Version": "2.53"}


def force_down(nova_admin, host: str, down: bool) -> None:
    (service,) = [s for s in ok(nova_admin.get("/os-services", params={"binary": "nova-compute"},
                                               headers=V253))["services"] if s["host"] == host]
    ok(nova_admin.put(f"/os-services/{service['id']}", json={"forced_down": down}, headers=V253))


def test_evacuate_rebuilds_a_server_of_a_down_host_on_another(cloud, tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    stopped_id, stopped_act = active_server(tenant, image_id)
    ok(tenant.post(stopped_act, json={"os-stop": None}), 202)
    wait(tenant, stopped_id, "SHUTOFF")
    source = host_of(nova_admin, server_id)
    assert nova_admin.post(act, json={"evacuate": {}}, headers=V253).status_code == 400  # its host is up
    if host_of(nova_admin, stopped_id) != source:
        ok(nova_admin.post(stopped_act, json={"migrate": {"host": source}}, headers=V256), 202)
        wait(nova_admin, stopped_id, "VERIFY_RESIZE")
        ok(nova_admin.post(stopped_act, json={"confirmResize": None}), 204)
        wait(nova_admin, stopped_id, "SHUTOFF")
    force_down(nova_admin, source, True)
    try:
        assert tenant.post(act, json={"evacuate": {}}, headers=V253).status_code == 403  # admins only
        assert nova_admin.post(act, json={"evacuate": {"host": "nowhere"}}, headers=V253).status_code == 404
        assert nova_admin.post(act, json={"evacuate": {"onSharedStorage": False}},
                               headers=V253).status_code == 400  # gone at 2.14
        answer = nova_admin.post(act, json={"evacuate": {}}, headers=V253)
        assert answer.status_code == 200 and not answer.content  # nothing to say from 2.14
        moved = wait(nova_admin, server_id, "ACTIVE")
        dest = moved["OS-EXT-SRV-ATTR:host"]
        assert dest != source
        (migration,) = migrations_of(nova_admin, server_id)
        assert (migration["migration_type"], migration["status"]) == ("evacuation", "done")
        assert held_on(cloud, server_id) == {dest: 512} and usages(cloud, migration["uuid"]) == {}
        assert port_host(cloud, server_id) == dest
        events = ok(tenant.get(f"/servers/{server_id}/os-instance-actions"))["instanceActions"]
        assert events[0]["action"] == "evacuate"
        # before 2.14 onSharedStorage is required and the admin password answered
        old = nova_admin.post(stopped_act, json={"evacuate": {"onSharedStorage": False, "adminPass": "pw"}},
                              headers={"X-OpenStack-Nova-API-Version": "2.1"})
        assert ok(old) == {"adminPass": "pw"}
        evacuated = wait(nova_admin, stopped_id, "SHUTOFF")  # a stopped server stays stopped
        assert evacuated["OS-EXT-SRV-ATTR:host"] != source
        assert migrations_of(nova_admin, stopped_id)[0]["status"] == "done"
    finally:
        force_down(nova_admin, source, False)


def test_an_attached_volumes_attachment_follows_the_guest_to_each_host(cloud, tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    with cinder(cloud, tenant.headers["X-Auth-Token"], tenant.project_id) as volumes:
        volume = new_volume(volumes)
        attach(tenant, server_id, volume["id"])
        source = host_of(nova_admin, server_id)

        def attached_host() -> str:
            (attachment,) = ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["attachments"]
            return attachment["host_name"]

        assert attached_host() == source
        ok(nova_admin.post(act, json=LIVE, headers=V225), 202)
        dest = wait(nova_admin, server_id, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
        assert dest != source and attached_host() == dest
        ok(nova_admin.post(act, json={"migrate": {"host": source}}), 202)
        wait(nova_admin, server_id, "VERIFY_RESIZE")
        assert attached_host() == source
        ok(nova_admin.post(act, json={"revertResize": None}), 202)
        wait(nova_admin, server_id, "ACTIVE")
        assert attached_host() == dest  # back where it was
        assert ok(volumes.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "in-use"
