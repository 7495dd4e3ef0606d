"""Compute API over HTTP with the fake driver: servers from request to ACTIVE, actions, groups, walls."""

import base64
import time

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, ok

MV = {"X-OpenStack-Nova-API-Version": "2.1"}
# 'networks': 'none' is taken from 2.37
NETWORKS_NONE = {"X-OpenStack-Nova-API-Version": "2.37"}


@pytest.fixture
def tenant(cloud, admin):
    """A member of a fresh project with a network and subnet of its own, and clients for it."""
    project, _, token = member_of_new_project(cloud, admin)
    headers = {"X-Auth-Token": token}
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **MV}, timeout=60)
    neutron = httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers=headers, timeout=60)
    net = ok(neutron.post("/networks", json={"network": {"name": name("net")}}), 201)["network"]
    ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": "10.20.0.0/24"}}), 201)
    nova.network_id, nova.project_id = net["id"], project["id"]
    yield nova
    nova.close()
    neutron.close()


@pytest.fixture(scope="module")
def image_id(cloud):
    with httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=60) as glance:
        image = ok(glance.post("/v2/images", json={"name": "tiny", "disk_format": "raw", "container_format": "bare",
                                                   "visibility": "public"}), 201)
        ok(glance.put(f"/v2/images/{image['id']}/file", content=b"\0" * 4096,
                      headers={"Content-Type": "application/octet-stream"}), 204)
        return image["id"]


def boot(nova, image_id, **extra) -> dict:
    body = {"server": {"name": name("vm"), "imageRef": image_id, "flavorRef": "1",
                       "networks": [{"uuid": nova.network_id}], **extra}}
    return ok(nova.post("/servers", json=body), 202)["server"]


def wait(nova, server_id, *statuses, timeout=30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = ok(nova.get(f"/servers/{server_id}"))["server"]
        if server["status"] in statuses:
            return server
        time.sleep(0.1)
    raise AssertionError(f"server {server_id} stayed {server['status']}, wanted {statuses}")


def test_version_documents(cloud):
    root = httpx.get(f"{cloud.url}/compute/")
    assert root.status_code == 200
    current = [v for v in root.json()["versions"] if v["id"] == "v2.1"][0]
    assert current["min_version"] == "2.1" and current["status"] == "CURRENT"


def test_microversion_negotiation(tenant):
    resp = tenant.get("/servers", headers={"X-OpenStack-Nova-API-Version": "2.1"})
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert tenant.get("/servers", headers={"X-OpenStack-Nova-API-Version": "9.99"}).status_code == 406
    assert tenant.get("/servers", headers={"OpenStack-API-Version": "compute 2.0"}).status_code == 406
    latest = tenant.get("/servers", headers={"OpenStack-API-Version": "compute latest"})
    assert latest.headers["OpenStack-API-Version"].startswith("compute 2.")


def test_boot_to_active_with_an_address_from_the_network(cloud, tenant, image_id):
    server = boot(tenant, image_id, metadata={"role": "web"},
                  user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode())
    assert server["adminPass"] and server["links"][0]["rel"] == "self"
    active = wait(tenant, server["id"], "ACTIVE")
    assert active["OS-EXT-STS:vm_state"] == "active" and active["OS-EXT-STS:power_state"] == 1
    assert active["metadata"] == {"role": "web"} and active["flavor"]["id"] == "1"
    assert active["security_groups"] == [{"name": "default"}]  # its port's
    (net_name, entries), = active["addresses"].items()
    assert entries[0]["addr"].startswith("10.20.0.") and entries[0]["OS-EXT-IPS:type"] == "fixed"
    assert "OS-EXT-SRV-ATTR:host" not in active  # admin-only attributes
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as admin_net:
        port = ok(admin_net.get("/ports", params={"device_id": server["id"]}))["ports"][0]
    assert port["device_owner"] == "compute:nova" and port["binding:host_id"] and port["status"] == "ACTIVE"
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    deadline = time.monotonic() + 30
    while tenant.get(f"/servers/{server['id']}").status_code != 404 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tenant.get(f"/servers/{server['id']}").status_code == 404
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as admin_net:
        assert ok(admin_net.get("/ports", params={"device_id": server["id"]}))["ports"] == []


def test_a_network_without_port_security_takes_no_group_and_a_network_out_of_addresses_fails_the_build(
        cloud, tenant, image_id):
    """As Nova: the default group is left off a port that cannot filter, a named group there is an error,
    and a build the network cannot give an address fails with a fault (it never waits in BUILD)."""
    neutron = httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers=dict(tenant.headers), timeout=60)

    def network(cidr: str, dhcp: bool = True, **extra) -> str:
        net = ok(neutron.post("/networks", json={"network": {"name": name("net"), **extra}}), 201)["network"]
        ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                                     "enable_dhcp": dhcp}}), 201)
        return net["id"]

    try:
        open_net = network("10.21.0.0/24", port_security_enabled=False)
        server = boot(tenant, image_id, networks=[{"uuid": open_net}], security_groups=[])
        assert server["security_groups"] == []  # as asked, as Nova answers
        shown = wait(tenant, server["id"], "ACTIVE")
        (port,) = ok(neutron.get("/ports", params={"device_id": server["id"]}))["ports"]
        assert port["security_groups"] == [] and port["port_security_enabled"] is False
        assert "security_groups" not in shown  # its ports have none, and Nova shows its ports' groups
        group = ok(neutron.post("/security-groups", json={"security_group": {"name": name("sg")}}), 201)
        named = boot(tenant, image_id, networks=[{"uuid": open_net}],
                     security_groups=[{"name": group["security_group"]["name"]}])
        failed = wait(tenant, named["id"], "ERROR")
        assert "cannot be applied" in failed["fault"]["message"], failed["fault"]

        full = network("10.22.0.0/30", dhcp=False)  # one address for guests: the gateway has .1
        first = boot(tenant, image_id, networks=[{"uuid": full}])
        wait(tenant, first["id"], "ACTIVE")
        second = boot(tenant, image_id, networks=[{"uuid": full}])
        failed = wait(tenant, second["id"], "ERROR")
        assert "Failed to allocate the network(s)" in failed["fault"]["message"], failed["fault"]
    finally:
        neutron.close()


def test_power_actions_follow_novas_states(tenant, image_id):
    server = boot(tenant, image_id)
    wait(tenant, server["id"], "ACTIVE")
    act = f"/servers/{server['id']}/action"
    assert tenant.post(act, json={"os-start": None}).status_code == 409  # already running
    ok(tenant.post(act, json={"os-stop": None}), 202)
    stopped = wait(tenant, server["id"], "SHUTOFF")
    assert stopped["OS-EXT-STS:power_state"] == 4
    ok(tenant.post(act, json={"os-start": None}), 202)
    wait(tenant, server["id"], "ACTIVE")
    ok(tenant.post(act, json={"reboot": {"type": "HARD"}}), 202)
    wait(tenant, server["id"], "ACTIVE")
    assert tenant.post(act, json={"reboot": {"type": "GENTLE"}}).status_code == 400
    ok(tenant.post(act, json={"pause": None}), 202)
    assert wait(tenant, server["id"], "PAUSED")["OS-EXT-STS:power_state"] == 3
    ok(tenant.post(act, json={"unpause": None}), 202)
    wait(tenant, server["id"], "ACTIVE")
    ok(tenant.post(act, json={"suspend": None}), 202)
    wait(tenant, server["id"], "SUSPENDED")
    ok(tenant.post(act, json={"resume": None}), 202)
    wait(tenant, server["id"], "ACTIVE")
    ok(tenant.post(act, json={"lock": None}), 202)
    actions = ok(tenant.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]
    assert [a["action"] for a in actions][:3] == ["lock", "resume", "suspend"]
    assert tenant.post(act, json={"no-such-action": None}).status_code == 400


def test_server_metadata_and_ips(tenant, image_id):
    created = tenant.post("/servers", json={"server": {"name": "md", "imageRef": image_id, "flavorRef": "1",
                                                        "networks": [{"uuid": tenant.network_id}],
                                                        "metadata": {"a": "1"}}})
    server = ok(created, 202)["server"]
    # Nova's own name for the request id, which its clients still read, beside the common one
    assert created.headers["x-compute-request-id"] == created.headers["x-openstack-request-id"]
    wait(tenant, server["id"], "ACTIVE")
    base = f"/servers/{server['id']}/metadata"
    assert ok(tenant.post(base, json={"metadata": {"b": "2"}}))["metadata"] == {"a": "1", "b": "2"}
    assert ok(tenant.put(f"{base}/c", json={"meta": {"c": "3"}}))["meta"] == {"c": "3"}
    assert tenant.put(f"{base}/c", json={"meta": {"d": "3"}}).status_code == 400
    ok(tenant.delete(f"{base}/a"), 204)
    assert tenant.get(f"{base}/a").status_code == 404
    assert ok(tenant.put(base, json={"metadata": {"only": "x"}}))["metadata"] == {"only": "x"}
    # more items than the project's metadata_items quota (128): Nova's 403, whichever way they come
    many = {f"k{i}": "v" for i in range(129)}
    assert tenant.put(base, json={"metadata": many}).status_code == 403
    assert tenant.post(base, json={"metadata": many}).status_code == 403
    assert ok(tenant.get(base))["metadata"] == {"only": "x"}
    ips = ok(tenant.get(f"/servers/{server['id']}/ips"))["addresses"]
    (net_name, entries), = ips.items()
    assert set(entries[0]) == {"version", "addr"}


def test_a_deleted_server_leaves_its_group(tenant, image_id):
    group = ok(tenant.post("/os-server-groups", json={"server_group": {"name": name("grp"),
                                                                     "policies": ["affinity"]}}))["server_group"]
    body = {"server": {"name": name("g"), "imageRef": image_id, "flavorRef": "1", "networks": "none"},
            "os:scheduler_hints": {"group": group["id"]}}
    server_id = ok(tenant.post("/servers", json=body, headers=NETWORKS_NONE), 202)["server"]["id"]
    wait(tenant, server_id, "ACTIVE")
    assert ok(tenant.get(f"/os-server-groups/{group['id']}"))["server_group"]["members"] == [server_id]
    ok(tenant.delete(f"/servers/{server_id}"), 204)
    deadline = time.monotonic() + 30
    while tenant.get(f"/servers/{server_id}").status_code != 404:
        assert time.monotonic() < deadline, "the server was never deleted"
        time.sleep(0.1)
    assert ok(tenant.get(f"/os-server-groups/{group['id']}"))["server_group"]["members"] == []
    listed = {g["id"]: g for g in ok(tenant.get("/os-server-groups"))["server_groups"]}
    assert listed[group["id"]]["members"] == []


def test_anti_affinity_spreads_and_no_valid_host_when_full(cloud, tenant, image_id):
    hosts = ok(tenant.get("/os-availability-zone"))["availabilityZoneInfo"]
    assert hosts and hosts[0]["zoneName"] == "nova"
    group = ok(tenant.post("/os-server-groups", json={"server_group": {"name": "spread",
                                                                     "policies": ["anti-affinity"]}}))["server_group"]
    assert group["policies"] == ["anti-affinity"]
    hint = {"os:scheduler_hints": {"group": group["id"]}}
    made = []
    for _ in range(3):
        body = {"server": {"name": name("g"), "imageRef": image_id, "flavorRef": "1", "networks": "none"}, **hint}
        made.append(ok(tenant.post("/servers", json=body, headers=NETWORKS_NONE), 202)["server"]["id"])
    finals = [wait(tenant, s, "ACTIVE", "ERROR") for s in made]
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token(), **MV}) as admin:
        hosts_of = [ok(admin.get(f"/servers/{s}"))["server"]["OS-EXT-SRV-ATTR:host"] for s in made]
    active = [h for h, f in zip(hosts_of, finals, strict=True) if f["status"] == "ACTIVE"]
    assert len(active) == len(set(active)) == 2  # the test cloud runs two fake hosts
    failed = [f for f in finals if f["status"] == "ERROR"]
    assert len(failed) == 1 and "No valid host was found" in failed[0]["fault"]["message"]
    members = ok(tenant.get(f"/os-server-groups/{group['id']}"))["server_group"]["members"]
    assert sorted(members) == sorted(made)


def test_projects_are_walls(cloud, admin, tenant, image_id):
    server = boot(tenant, image_id)
    _, _, token = member_of_new_project(cloud, admin)
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token, **MV}) as other:
        assert other.get(f"/servers/{server['id']}").status_code == 404
        assert other.delete(f"/servers/{server['id']}").status_code == 404
        assert other.post(f"/servers/{server['id']}/action", json={"os-stop": None}).status_code == 404
        assert server["id"] not in {s["id"] for s in ok(other.get("/servers"))["servers"]}
        assert server["id"] not in {s["id"] for s in ok(other.get("/servers", params={"all_tenants": 1}))["servers"]}
        foreign = {"server": {"name": "x", "imageRef": image_id, "flavorRef": "1",
                              "networks": [{"uuid": tenant.network_id}]}}
        assert other.post("/servers", json=foreign).status_code == 400  # someone else's network


@pytest.mark.parametrize("body", [{}, {"server": {}}, {"server": {"name": "x"}},
                                  {"server": {"name": "", "flavorRef": "1", "imageRef": "x"}},
                                  {"server": {"name": "x", "flavorRef": "1", "imageRef": "x", "bogus": 1}},
                                  {"server": {"name": "x", "flavorRef": "1", "imageRef": "x", "min_count": 0}},
                                  {"server": {"name": "x", "flavorRef": "1", "imageRef": "x", "networks": "some"}},
                                  {"server": {"name": "x", "flavorRef": "1", "imageRef": "x", "user_data": "%%%"}}])
def test_malformed_create_is_400(tenant, body):
    assert tenant.post("/servers", json=body).status_code == 400


def test_list_filters_and_paging(tenant, image_id):
    ids = [boot(tenant, image_id, name=f"flt-{i}")["id"] for i in range(3)]
    for server_id in ids:
        wait(tenant, server_id, "ACTIVE")
    named = ok(tenant.get("/servers", params={"name": "flt-[12]"}))["servers"]
    assert sorted(s["name"] for s in named) == ["flt-1", "flt-2"]
    first = ok(tenant.get("/servers/detail", params={"limit": 2}))
    assert len(first["servers"]) == 2 and first["servers_links"][0]["rel"] == "next"
    assert ok(tenant.get("/servers", params={"status": "SHUTOFF"}))["servers"] == []
    assert len(ok(tenant.get("/servers", params={"status": "ACTIVE"}))["servers"]) >= 3


def test_pages_walk_every_server_once_in_order(tenant, image_id):
    body = {"server": {"name": name("page"), "imageRef": image_id, "flavorRef": "1", "networks": "none",
                       "min_count": 5, "max_count": 5}}
    ok(tenant.post("/servers", json=body, headers=NETWORKS_NONE), 202)
    every = [s["id"] for s in ok(tenant.get("/servers"))["servers"]]
    seen, marker = [], None
    while True:
        params = {"limit": 2, **({"marker": marker} if marker else {})}
        got = ok(tenant.get("/servers", params=params))
        seen += [s["id"] for s in got["servers"]]
        if "servers_links" not in got:
            break
        marker = got["servers"][-1]["id"]
    assert seen == every and len(set(seen)) == len(seen) >= 5
    assert tenant.get("/servers", params={"marker": "no-such-server"}).status_code == 400
