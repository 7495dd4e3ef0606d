"""Server bodies and requests before and after the microversions that change them (fake driver)."""

import base64

import httpx
import pytest

from tests.api import test_servers
from tests.api.helpers import ok
from tests.api.test_servers import MV, boot, wait

# the servers module's fixtures: a project with its own network, and a small public image
tenant, image_id = test_servers.tenant, test_servers.image_id


def at(version: str) -> dict:
    return {"X-OpenStack-Nova-API-Version": version}


@pytest.fixture
def nova_admin(cloud):
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token(), **MV},
                      timeout=60) as client:
        yield client


@pytest.fixture
def server(tenant, image_id) -> dict:
    made = boot(tenant, image_id)
    return wait(tenant, made["id"], "ACTIVE")


def show(client, server_id: str, version: str) -> dict:
    return ok(client.get(f"/servers/{server_id}", headers=at(version)))["server"]


def test_flavor_is_a_link_until_2_47_then_embedded(tenant, server):
    assert set(show(tenant, server["id"], "2.46")["flavor"]) == {"id", "links"}
    flavor = show(tenant, server["id"], "2.47")["flavor"]
    assert flavor == {"original_name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "swap": 0,
                      "extra_specs": {}}
    listed = ok(tenant.get("/servers/detail", headers=at("2.47")))["servers"]
    assert [s["flavor"]["original_name"] for s in listed if s["id"] == server["id"]] == ["m1.tiny"]


def test_fields_appear_at_their_versions(tenant, server):
    before, after = show(tenant, server["id"], "2.1"), show(tenant, server["id"], "2.96")
    added = {"locked", "description", "tags", "trusted_image_certificates", "server_groups", "locked_reason",
             "pinned_availability_zone", "OS-EXT-SRV-ATTR:hostname"}
    assert not added & set(before)
    assert added <= set(after)
    assert after["locked"] is False and after["locked_reason"] is None and after["server_groups"] == []
    assert after["pinned_availability_zone"] is None and after["trusted_image_certificates"] is None
    # a member never sees the admin's extended attributes or host_status
    assert "host_status" not in after and "OS-EXT-SRV-ATTR:user_data" not in after
    # server_groups is shown for one server, not in lists
    listed = ok(tenant.get("/servers/detail", headers=at("2.96")))["servers"]
    assert all("server_groups" not in s and "pinned_availability_zone" in s for s in listed)


def test_admin_sees_extended_attributes_from_2_3_and_host_status_from_2_16(tenant, image_id, nova_admin):
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    made = boot(tenant, image_id, user_data=user_data)
    wait(tenant, made["id"], "ACTIVE")
    old = show(nova_admin, made["id"], "2.1")
    assert "OS-EXT-SRV-ATTR:host" in old and "OS-EXT-SRV-ATTR:user_data" not in old
    new = show(nova_admin, made["id"], "2.3")
    assert new["OS-EXT-SRV-ATTR:user_data"] == user_data and new["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert new["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-") and new["OS-EXT-SRV-ATTR:hostname"]
    assert new["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda" and "host_status" not in new
    assert show(nova_admin, made["id"], "2.16")["host_status"] == "UP"


def test_description_from_2_19(tenant, image_id):
    body = {"server": {"name": "d", "imageRef": image_id, "flavorRef": "1", "networks": [{"uuid": tenant.network_id}],
                       "description": "first"}}
    assert tenant.post("/servers", json=body).status_code == 400  # 2.1: no such field
    made = ok(tenant.post("/servers", json=body, headers=at("2.19")), 202)["server"]
    assert show(tenant, made["id"], "2.19")["description"] == "first"
    assert tenant.put(f"/servers/{made['id']}", json={"server": {"description": "x"}}).status_code == 400
    updated = ok(tenant.put(f"/servers/{made['id']}", json={"server": {"description": None}}, headers=at("2.19")))
    assert updated["server"]["description"] is None


def test_networks_required_and_auto_from_2_37(tenant, image_id):
    body = {"server": {"name": "n", "imageRef": image_id, "flavorRef": "1"}}
    assert tenant.post("/servers", json=body, headers=at("2.37")).status_code == 400  # networks missing
    assert tenant.post("/servers", json={"server": {**body["server"], "networks": "auto"}}).status_code == 400
    # what "auto" then picks: test_server_network_choice.py, on a cloud of its own (no other test's shared
    # network there can make the choice ambiguous)


def test_tags_at_create_from_2_52(tenant, image_id):
    body = {"server": {"name": "t", "imageRef": image_id, "flavorRef": "1", "networks": "none", "tags": ["a", "b"]}}
    assert tenant.post("/servers", json=body, headers=at("2.51")).status_code == 400
    made = ok(tenant.post("/servers", json=body, headers=at("2.52")), 202)["server"]
    assert sorted(show(tenant, made["id"], "2.52")["tags"]) == ["a", "b"]


def test_update_and_rebuild_answer_basic_view_until_2_75(tenant, server, image_id):
    path = f"/servers/{server['id']}"
    basic = ok(tenant.put(path, json={"server": {"name": "renamed"}}))["server"]
    assert "OS-EXT-STS:vm_state" not in basic and "key_name" not in basic
    assert all(set(a) == {"version", "addr"} for entries in basic["addresses"].values() for a in entries)
    full = ok(tenant.put(path, json={"server": {"name": "renamed"}}, headers=at("2.75")))["server"]
    assert full["OS-EXT-STS:vm_state"] == "active" and full["server_groups"] == []
    rebuilt = ok(tenant.post(f"{path}/action", json={"rebuild": {"imageRef": image_id}}, headers=at("2.75")),
                 202)["server"]
    assert "user_data" in rebuilt and "key_name" in rebuilt and "adminPass" in rebuilt
    assert "OS-EXT-SRV-ATTR:user_data" not in rebuilt


def test_rebuild_sets_key_from_2_54_and_user_data_from_2_57(tenant, server, image_id):
    path = f"/servers/{server['id']}/action"
    key = ok(tenant.post("/os-keypairs", json={"keypair": {"name": "rk"}}))["keypair"]
    assert tenant.post(path, json={"rebuild": {"imageRef": image_id, "key_name": "rk"}},
                       headers=at("2.53")).status_code == 400
    rebuilt = ok(tenant.post(path, json={"rebuild": {"imageRef": image_id, "key_name": "rk"}}, headers=at("2.54")),
                 202)["server"]
    assert rebuilt["key_name"] == key["name"] and "user_data" not in rebuilt
    wait(tenant, server["id"], "ACTIVE")
    data = base64.b64encode(b"new").decode()
    rebuilt = ok(tenant.post(path, json={"rebuild": {"imageRef": image_id, "key_name": None, "user_data": data}},
                             headers=at("2.57")), 202)["server"]
    assert rebuilt["key_name"] is None and rebuilt["user_data"] == data
    assert tenant.post(path, json={"rebuild": {"imageRef": image_id, "user_data": "%%"}},
                       headers=at("2.57")).status_code == 400


def test_locked_reason_from_2_73(tenant, server):
    path = f"/servers/{server['id']}/action"
    ok(tenant.post(path, json={"lock": {"locked_reason": "maintenance"}}, headers=at("2.73")), 202)
    locked = show(tenant, server["id"], "2.73")
    assert locked["locked"] is True and locked["locked_reason"] == "maintenance"
    assert show(tenant, server["id"], "2.72")["locked"] is True
    assert tenant.post(path, json={"os-stop": None}).status_code == 409  # the owner who locked it included
    ok(tenant.post(path, json={"unlock": None}), 202)
    assert show(tenant, server["id"], "2.73")["locked_reason"] is None


def test_hostname_from_2_90_and_fqdn_from_2_94(tenant, image_id):
    body = {"server": {"name": "h", "imageRef": image_id, "flavorRef": "1", "networks": "none",
                       "hostname": "web-1"}}
    assert tenant.post("/servers", json=body, headers=at("2.89")).status_code == 400
    made = ok(tenant.post("/servers", json=body, headers=at("2.90")), 202)["server"]
    assert show(tenant, made["id"], "2.90")["OS-EXT-SRV-ATTR:hostname"] == "web-1"
    path = f"/servers/{made['id']}"
    assert tenant.put(path, json={"server": {"hostname": "web.example.org"}}, headers=at("2.90")).status_code == 400
    ok(tenant.put(path, json={"server": {"hostname": "web.example.org"}}, headers=at("2.94")))
    assert show(tenant, made["id"], "2.94")["OS-EXT-SRV-ATTR:hostname"] == "web.example.org"
    multi = {"server": {**body["server"], "max_count": 2}}
    assert tenant.post("/servers", json=multi, headers=at("2.90")).status_code == 400


def test_requested_host_from_2_74_is_admin_only(tenant, image_id, nova_admin):
    host = ok(nova_admin.get("/os-hypervisors"))["hypervisors"][-1]["hypervisor_hostname"]
    body = {"server": {"name": "p", "imageRef": image_id, "flavorRef": "1", "networks": "none", "host": host}}
    assert nova_admin.post("/servers", json=body, headers=at("2.73")).status_code == 400
    assert tenant.post("/servers", json=body, headers=at("2.74")).status_code == 403
    bad = {"server": {**body["server"], "host": "no-such-host"}}
    assert nova_admin.post("/servers", json=bad, headers=at("2.74")).status_code == 400
    made = ok(nova_admin.post("/servers", json=body, headers=at("2.74")), 202)["server"]
    wait(nova_admin, made["id"], "ACTIVE")
    assert show(nova_admin, made["id"], "2.74")["OS-EXT-SRV-ATTR:host"] == host
    nova_admin.delete(f"/servers/{made['id']}")


def test_unknown_list_parameters_are_a_400_from_2_75(tenant):
    assert tenant.get("/servers", params={"bogus": "1"}, headers=at("2.74")).status_code == 200
    assert tenant.get("/servers", params={"bogus": "1"}, headers=at("2.75")).status_code == 400
    assert tenant.get("/servers/detail", params={"name": "x", "limit": 1}, headers=at("2.75")).status_code == 200


def test_pinned_availability_zone_from_2_96(tenant, image_id):
    body = {"server": {"name": "z", "imageRef": image_id, "flavorRef": "1", "networks": "none",
                       "availability_zone": "nova"}}
    made = ok(tenant.post("/servers", json=body, headers=at("2.96")), 202)["server"]
    assert show(tenant, made["id"], "2.96")["pinned_availability_zone"] == "nova"
    assert "pinned_availability_zone" not in show(tenant, made["id"], "2.95")
