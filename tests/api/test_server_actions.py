"""Server actions beyond power: resize, rebuild, snapshots, shelve, rescue (fake driver, two fake hosts)."""

import time

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import ok
from tests.api.test_servers import MV, boot, wait

# the servers module's fixtures: a project with its own network, and a small public image
tenant, image_id = test_servers.tenant, test_servers.image_id


@pytest.fixture
def nova_admin(cloud):
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token(), **MV},
                      timeout=60) as client:
        yield client


def active_server(tenant, image_id, **extra) -> tuple[str, str]:
    server = boot(tenant, image_id, **extra)
    wait(tenant, server["id"], "ACTIVE")
    return server["id"], f"/servers/{server['id']}/action"


def usages(cloud, server_id) -> dict:
    with httpx.Client(base_url=f"{cloud.url}/placement", headers={"X-Auth-Token": cloud.token(),
                                                                  "OpenStack-API-Version": "placement 1.28"}) as p:
        return ok(p.get(f"/allocations/{server_id}"))["allocations"]


def test_resize_confirm_and_revert_hold_both_flavors_until_decided(cloud, tenant, image_id):
    server_id, act = active_server(tenant, image_id)
    assert tenant.post(act, json={"resize": {"flavorRef": "1"}}).status_code == 400  # same flavor
    assert tenant.post(act, json={"resize": {}}).status_code == 400
    assert tenant.post(act, json={"confirmResize": None}).status_code == 409  # not resized
    ok(tenant.post(act, json={"resize": {"flavorRef": "42"}}), 202)
    resized = wait(tenant, server_id, "VERIFY_RESIZE")
    assert resized["flavor"]["id"] == "42"
    (held,) = usages(cloud, server_id).values()
    assert held["resources"]["MEMORY_MB"] == 128  # the new flavor; the old one is the migration's
    assert tenant.post(act, json={"resize": {"flavorRef": "84"}}).status_code == 409
    ok(tenant.post(act, json={"revertResize": None}), 202)
    reverted = wait(tenant, server_id, "ACTIVE")
    assert reverted["flavor"]["id"] == "1"
    (held,) = usages(cloud, server_id).values()
    assert held["resources"]["MEMORY_MB"] == 512
    ok(tenant.post(act, json={"resize": {"flavorRef": "84"}}), 202)
    wait(tenant, server_id, "VERIFY_RESIZE")
    assert tenant.post(act, json={"confirmResize": None}).status_code == 204
    confirmed = wait(tenant, server_id, "ACTIVE")
    assert confirmed["flavor"]["id"] == "84"
    (held,) = usages(cloud, server_id).values()
    assert held["resources"]["MEMORY_MB"] == 192
    actions = [a["action"] for a in ok(tenant.get(f"/servers/{server_id}/os-instance-actions"))["instanceActions"]]
    assert actions[:4] == ["confirmResize", "resize", "revertResize", "resize"]


def test_resize_is_refused_over_quota(tenant, nova_admin, image_id):
    server_id, act = active_server(tenant, image_id)
    ok(nova_admin.put(f"/os-quota-sets/{tenant.project_id}", json={"quota_set": {"cores": 1}}))
    response = tenant.post(act, json={"resize": {"flavorRef": "3"}})  # 2 vcpus
    assert response.status_code == 403 and "cores" in response.json()["forbidden"]["message"]
    assert wait(tenant, server_id, "ACTIVE")["flavor"]["id"] == "1"


def test_an_image_backed_servers_disk_may_not_shrink_or_vanish(tenant, nova_admin, image_id):
    made = [ok(nova_admin.post("/flavors", json={"flavor": {"name": f"disk-{disk}-{image_id[:8]}", "ram": 128,
                                                            "vcpus": 1, "disk": disk}}))["flavor"]["id"]
            for disk in (0, 2)]
    zero, two = made
    server_id, act = active_server(tenant, image_id, flavorRef=two)
    refused = tenant.post(act, json={"resize": {"flavorRef": zero}})
    assert refused.status_code == 400 and "zero disk" in refused.json()["badRequest"]["message"]
    refused = tenant.post(act, json={"resize": {"flavorRef": "42"}})  # 1 GB
    assert refused.status_code == 400 and "down" in refused.json()["badRequest"]["message"]
    assert wait(tenant, server_id, "ACTIVE")["flavor"]["id"] == two
    for flavor_id in made:
        ok(nova_admin.delete(f"/flavors/{flavor_id}"), 202)


def test_rebuild_answers_the_server_and_keeps_a_stopped_server_stopped(tenant, image_id):
    server_id, act = active_server(tenant, image_id)
    ok(tenant.post(act, json={"os-stop": None}), 202)
    wait(tenant, server_id, "SHUTOFF")
    assert tenant.post(act, json={"rebuild": {"imageRef": "no-such-image"}}).status_code == 400
    body = ok(tenant.post(act, json={"rebuild": {"imageRef": image_id, "name": "renamed",
                                                 "metadata": {"k": "v"}, "adminPass": "s3cret"}}), 202)["server"]
    assert body["status"] == "REBUILD" and body["adminPass"] == "s3cret" and body["name"] == "renamed"
    assert "OS-EXT-STS:vm_state" not in body and "key_name" not in body
    assert all(set(a) == {"version", "addr"} for entries in body["addresses"].values() for a in entries)
    rebuilt = wait(tenant, server_id, "SHUTOFF")
    assert rebuilt["metadata"] == {"k": "v"} and rebuilt["OS-EXT-STS:task_state"] is None


def test_create_image_uploads_a_snapshot(cloud, tenant, image_id):
    server_id, act = active_server(tenant, image_id)
    response = tenant.post(act, json={"createImage": {"name": "snap", "metadata": {"purpose": "test"}}})
    assert response.status_code == 202 and not response.content
    snapshot_id = response.headers["Location"].rsplit("/", 1)[-1]
    glance = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": tenant.headers["X-Auth-Token"]})
    for _ in range(100):
        image = ok(glance.get(f"/v2/images/{snapshot_id}"))
        if image["status"] == "active":
            break
        time.sleep(0.1)
    assert image["status"] == "active" and image["image_type"] == "snapshot"
    assert image["instance_uuid"] == server_id and image["base_image_ref"] == image_id
    assert image["purpose"] == "test" and image["owner"] == tenant.project_id
    assert image["min_disk"] == 1
    data = glance.get(f"/v2/images/{snapshot_id}/file").content
    assert server_id.encode() in data


def test_create_image_refused_in_a_wrong_state_and_over_metadata_quota(tenant, nova_admin, image_id):
    server_id, act = active_server(tenant, image_id)
    ok(nova_admin.put(f"/os-quota-sets/{tenant.project_id}", json={"quota_set": {"metadata_items": 1}}))
    response = tenant.post(act, json={"createImage": {"name": "s", "metadata": {"a": "1", "b": "2"}}})
    assert response.status_code == 403
    assert tenant.post(act, json={"createImage": {}}).status_code == 400
    ok(tenant.post(act, json={"shelve": None}), 202)
    wait(tenant, server_id, "SHELVED_OFFLOADED")
    assert tenant.post(act, json={"createImage": {"name": "s"}}).status_code == 409


def test_shelve_offloads_and_unshelve_spawns_from_the_shelved_image(cloud, tenant, nova_admin, image_id):
    server_id, act = active_server(tenant, image_id)
    addresses = wait(tenant, server_id, "ACTIVE")["addresses"]
    assert tenant.post(act, json={"unshelve": None}).status_code == 409
    ok(tenant.post(act, json={"shelve": None}), 202)
    shelved = wait(tenant, server_id, "SHELVED_OFFLOADED")
    assert shelved["addresses"] == addresses  # the ports stay
    assert ok(nova_admin.get(f"/servers/{server_id}"))["server"]["OS-EXT-SRV-ATTR:host"] is None
    assert usages(cloud, server_id) == {}
    glance = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": tenant.headers["X-Auth-Token"]})
    images = ok(glance.get("/v2/images", params={"name": f"{shelved['name']}-shelved"}))["images"]
    assert len(images) == 1 and images[0]["status"] == "active"
    ok(tenant.post(act, json={"unshelve": None}), 202)
    wait(tenant, server_id, "ACTIVE")
    assert usages(cloud, server_id) != {}
    assert glance.get(f"/v2/images/{images[0]['id']}").status_code == 404


def test_rescue_and_unrescue(tenant, image_id):
    server_id, act = active_server(tenant, image_id)
    assert tenant.post(act, json={"unrescue": None}).status_code == 409
    assert ok(tenant.post(act, json={"rescue": {"adminPass": "pw"}}), 200) == {"adminPass": "pw"}
    wait(tenant, server_id, "RESCUE")
    assert tenant.post(act, json={"rescue": None}).status_code == 409
    ok(tenant.post(act, json={"unrescue": {}}), 202)  # Tempest sends an empty object
    wait(tenant, server_id, "ACTIVE")


def test_deleting_a_server_waiting_for_resize_confirmation_frees_everything(cloud, tenant, image_id):
    server_id, act = active_server(tenant, image_id)
    ok(tenant.post(act, json={"resize": {"flavorRef": "42"}}), 202)
    wait(tenant, server_id, "VERIFY_RESIZE")
    ok(tenant.delete(f"/servers/{server_id}"), 204)
    for _ in range(100):
        if tenant.get(f"/servers/{server_id}").status_code == 404:
            break
        time.sleep(0.1)
    assert usages(cloud, server_id) == {}


def test_server_tags_from_2_26_and_list_filters(tenant, image_id):
    v226 = {"X-OpenStack-Nova-API-Version": "2.26"}
    server_id, _ = active_server(tenant, image_id)
    other_id, _ = active_server(tenant, image_id)
    tags = f"/servers/{server_id}/tags"
    assert tenant.get(tags).status_code == 404  # not before 2.26
    assert ok(tenant.put(tags, json={"tags": ["a", "b", "a"]}, headers=v226)) == {"tags": ["a", "b"]}
    assert tenant.put(f"{tags}/c", headers=v226).status_code == 201
    assert tenant.put(f"{tags}/c", headers=v226).status_code == 204
    assert tenant.get(f"{tags}/c", headers=v226).status_code == 204
    assert tenant.put(tags, json={"tags": ["x/y"]}, headers=v226).status_code == 400
    assert ok(tenant.delete(f"{tags}/a", headers=v226), 204) == {}
    assert tenant.delete(f"{tags}/a", headers=v226).status_code == 404
    ok(tenant.put(f"/servers/{other_id}/tags", json={"tags": ["b"]}, headers=v226))
    assert ok(tenant.get(f"/servers/{server_id}", headers=v226))["server"]["tags"] == ["b", "c"]
    assert "tags" not in ok(tenant.get(f"/servers/{server_id}"))["server"]

    def listed(**query) -> set[str]:
        return {s["id"] for s in ok(tenant.get("/servers", params=query, headers=v226))["servers"]}

    assert listed(tags="b,c") == {server_id}
    assert listed(**{"tags-any": "b,c"}) == {server_id, other_id}
    assert listed(**{"not-tags": "b,c"}) == {other_id}
    assert listed(**{"not-tags-any": "c"}) == {other_id}
    ok(tenant.delete(tags, headers=v226), 204)
    assert ok(tenant.get(tags, headers=v226)) == {"tags": []}


def test_reset_state_is_an_admins_repair(tenant, image_id, nova_admin):
    server_id, act = active_server(tenant, image_id)
    assert tenant.post(act, json={"os-resetState": {"state": "error"}}).status_code == 403
    assert nova_admin.post(act, json={"os-resetState": {"state": "broken"}}).status_code == 400
    ok(nova_admin.post(act, json={"os-resetState": {"state": "error"}}), 202)
    assert ok(tenant.get(f"/servers/{server_id}"))["server"]["status"] == "ERROR"
    ok(nova_admin.post(act, json={"os-resetState": {"state": "active"}}), 202)
    assert ok(tenant.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE"


def test_unshelve_to_a_zone_from_2_77_and_to_a_host_from_2_91(tenant, nova_admin, image_id):
    server_id, act = active_server(tenant, image_id)
    # a server still on its host goes nowhere else (asked before the shelve: once shelved, it is offloaded
    # at once, so the window in which it is shelved but on its host is too short to test)
    assert tenant.post(act, json={"unshelve": {"availability_zone": "nova"}},
                       headers={"X-OpenStack-Nova-API-Version": "2.77"}).status_code == 409
    ok(tenant.post(act, json={"shelve": None}), 202)
    wait(tenant, server_id, "SHELVED_OFFLOADED")
    hosts = [h["hypervisor_hostname"] for h in ok(nova_admin.get("/os-hypervisors"))["hypervisors"]]
    to_host = {"unshelve": {"host": hosts[-1]}}
    assert tenant.post(act, json={"unshelve": {"availability_zone": "elsewhere"}},
                       headers={"X-OpenStack-Nova-API-Version": "2.77"}).status_code == 400
    assert nova_admin.post(act, json=to_host, headers={"X-OpenStack-Nova-API-Version": "2.90"}).status_code == 400
    assert tenant.post(act, json=to_host, headers={"X-OpenStack-Nova-API-Version": "2.91"}).status_code == 403
    ok(nova_admin.post(act, json=to_host, headers={"X-OpenStack-Nova-API-Version": "2.91"}), 202)
    wait(tenant, server_id, "ACTIVE")
    assert ok(nova_admin.get(f"/servers/{server_id}"))["server"]["OS-EXT-SRV-ATTR:host"] == hosts[-1]


def test_restore_and_force_delete_need_a_soft_deleted_server(tenant, nova_admin, image_id):
    server_id, act = active_server(tenant, image_id)
    assert tenant.post(act, json={"restore": None}).status_code == 409
    assert tenant.post(act, json={"forceDelete": None}).status_code == 409
    assert tenant.post(act, json={"injectNetworkInfo": None}).status_code == 403
    ok(nova_admin.post(act, json={"injectNetworkInfo": None}), 202)
    assert wait(tenant, server_id, "ACTIVE")["addresses"]


def test_an_action_onestack_does_not_serve_is_a_404_for_a_missing_server_and_a_400_for_a_real_one(tenant, image_id):
    """Nova looks the server up before it reads the action (Tempest's test_migrate_non_existent_server)."""
    missing = tenant.post("/servers/00000000-0000-0000-0000-000000000000/action", json={"migrate": None})
    assert missing.status_code == 404, missing.text
    server_id, act = active_server(tenant, image_id)
    unknown = tenant.post(act, json={"no-such-action": None})
    assert unknown.status_code == 400 and "no such action" in unknown.json()["badRequest"]["message"]
