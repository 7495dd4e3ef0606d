"""Network API v2.0 over HTTP: networks, subnets and IPAM, ports, security groups, tags, filters."""

import ipaddress
import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, ok
from tests.api.network_helpers import create, error


def network_with_subnet(client, cidr: str = "10.0.0.0/24", **subnet) -> tuple[dict, dict]:
    net = create(client, "networks", "network", name=name("net"))
    sub = create(client, "subnets", "subnet", network_id=net["id"], ip_version=4, cidr=cidr, **subnet)
    return net, sub


def test_version_and_extensions(cloud, nadmin):
    versions = httpx.get(f"{cloud.url}/network/").json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "CURRENT"
    aliases = {e["alias"] for e in ok(nadmin.get("/extensions"))["extensions"]}
    assert {"security-group", "provider", "binding", "standard-attr-tag", "filter-validation"} <= aliases
    assert ok(nadmin.get("/extensions/provider"))["extension"]["alias"] == "provider"
    assert error(nadmin.get("/extensions/no-such"), 404)["type"]
    assert httpx.get(f"{cloud.url}/network/v2.0/networks").status_code == 401


def test_tenant_network_gets_a_vxlan_segment_and_mtu(nadmin, tenant):
    net = create(tenant.http, "networks", "network", name=name("n"))
    assert net["status"] == "ACTIVE" and net["mtu"] == 1450 and net["shared"] is False
    assert "provider:network_type" not in net  # admin-only attributes stay hidden from members
    seen = ok(nadmin.get(f"/networks/{net['id']}"))["network"]
    assert seen["provider:network_type"] == "vxlan" and seen["provider:segmentation_id"] >= 1
    assert seen["revision_number"] == 1 and seen["tenant_id"] == tenant.project_id


def test_provider_networks_are_admin_only_and_validated(nadmin, tenant):
    resp = tenant.http.post("/networks", json={"network": {"name": "x", "provider:network_type": "vlan"}})
    assert error(resp, 403)["type"]
    vlan = random.randint(100, 999)
    net = create(nadmin, "networks", "network", **{"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                                        "provider:segmentation_id": vlan})
    assert net["mtu"] == 1500 and net["provider:segmentation_id"] == vlan
    twin = nadmin.post("/networks", json={"network": {"provider:network_type": "vlan",
                                                       "provider:physical_network": "physnet1",
                                                       "provider:segmentation_id": vlan}})
    assert error(twin, 409)["type"] == "VlanIdInUse"
    for bad in ({"provider:network_type": "vlan", "provider:physical_network": "nope"},
                {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                 "provider:segmentation_id": 4095},
                {"provider:network_type": "vxlan", "provider:physical_network": "physnet1"},
                {"provider:network_type": "warp"}):
        error(nadmin.post("/networks", json={"network": bad}), 400)["type"]
    ok(nadmin.delete(f"/networks/{net['id']}"), 204)
    again = create(nadmin, "networks", "network", **{"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                                          "provider:segmentation_id": vlan})
    ok(nadmin.delete(f"/networks/{again['id']}"), 204)


def test_subnet_defaults_and_validation(tenant):
    net, sub = network_with_subnet(tenant.http, "10.1.0.0/24", dns_nameservers=["8.8.8.8"])
    assert sub["gateway_ip"] == "10.1.0.1" and sub["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    assert sub["enable_dhcp"] is True and sub["dns_nameservers"] == ["8.8.8.8"]
    base = {"network_id": net["id"], "ip_version": 4}
    cases = [
        ({"cidr": "10.1.0.0/25"}, 400),  # overlaps the first subnet
        ({"cidr": "10.2.0.5/24"}, 400),  # host bits set
        ({"cidr": "not-a-cidr"}, 400),
        ({"cidr": "10.3.0.0/24", "allocation_pools": [{"start": "10.4.0.2", "end": "10.4.0.9"}]}, 400),
        ({"cidr": "10.3.0.0/24", "allocation_pools": [{"start": "10.3.0.9", "end": "10.3.0.2"}]}, 400),
        ({"cidr": "10.3.0.0/24", "allocation_pools": [{"start": "10.3.0.2", "end": "10.3.0.20"},
                                                      {"start": "10.3.0.10", "end": "10.3.0.30"}]}, 400),
        ({"cidr": "10.3.0.0/24", "gateway_ip": "10.3.0.5",
          "allocation_pools": [{"start": "10.3.0.2", "end": "10.3.0.20"}]}, 409),
        ({"cidr": "10.3.0.0/24", "ip_version": 6}, 400),
        ({"cidr": "10.3.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.1"]}, 400),
        ({"cidr": "10.3.0.0/24", "bogus": 1}, 400),
        ({"cidr": 17}, 400),
    ]
    for extra, status in cases:
        error(tenant.http.post("/subnets", json={"subnet": {**base, **extra}}), status)["type"]
    no_gateway = create(tenant.http, "subnets", "subnet", **base, cidr="10.5.0.0/28", gateway_ip=None, enable_dhcp=False)
    assert no_gateway["gateway_ip"] is None
    assert no_gateway["allocation_pools"] == [{"start": "10.5.0.1", "end": "10.5.0.14"}]


def test_ipv6_slaac_subnet_gives_eui64_addresses(tenant):
    net = create(tenant.http, "networks", "network")
    sub = create(tenant.http, "subnets", "subnet", network_id=net["id"], ip_version=6, cidr="2001:db8:1::/64",
                 ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    port = create(tenant.http, "ports", "port", network_id=net["id"])
    mac = port["mac_address"]
    expected = ipaddress.IPv6Address("2001:db8:1::") + int.from_bytes(bytes(
        [int(mac[0:2], 16) ^ 2, *(int(x, 16) for x in mac.split(":")[1:3]), 0xFF, 0xFE,
         *(int(x, 16) for x in mac.split(":")[3:])]), "big")
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": str(expected)}]
    bad = tenant.http.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 6,
                                                   "cidr": "2001:db8:2::/80", "ipv6_address_mode": "slaac"}})
    error(bad, 400)["type"]


def test_ports_get_addresses_macs_and_the_default_group(tenant):
    net, sub = network_with_subnet(tenant.http, "10.6.0.0/24")
    dhcp = ok(tenant.http.get("/ports", params={"network_id": net["id"], "device_owner": "network:dhcp"}))["ports"]
    assert len(dhcp) == 1 and dhcp[0]["fixed_ips"][0]["ip_address"] == "10.6.0.2"
    port = create(tenant.http, "ports", "port", network_id=net["id"], name="vm")
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.6.0.3"}]
    assert port["mac_address"].startswith("fa:16:3e:") and port["status"] == "DOWN"
    groups = ok(tenant.http.get("/security-groups", params={"name": "default"}))["security_groups"]
    assert port["security_groups"] == [groups[0]["id"]]
    fixed = create(tenant.http, "ports", "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.6.0.50"}])
    assert fixed["fixed_ips"][0]["ip_address"] == "10.6.0.50"
    taken = tenant.http.post("/ports", json={"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.6.0.50"}]}})
    assert error(taken, 409)["type"] == "IpAddressAlreadyAllocated"
    outside = tenant.http.post("/ports", json={"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.9.0.5"}]}})
    error(outside, 400)["type"]
    same_mac = tenant.http.post("/ports", json={"port": {"network_id": net["id"], "mac_address": port["mac_address"]}})
    assert error(same_mac, 409)["type"] == "MacAddressInUse"
    found = ok(tenant.http.get("/ports", params={"fixed_ips": "ip_address=10.6.0.50"}))["ports"]
    assert [p["id"] for p in found] == [fixed["id"]]
    ok(tenant.http.delete(f"/ports/{fixed['id']}"), 204)
    reused = create(tenant.http, "ports", "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.6.0.50"}])
    assert reused["fixed_ips"][0]["ip_address"] == "10.6.0.50"


def test_port_update_fixed_ips_pairs_and_port_security(tenant):
    net, sub = network_with_subnet(tenant.http, "10.7.0.0/24")
    port = create(tenant.http, "ports", "port", network_id=net["id"])
    moved = ok(tenant.http.put(f"/ports/{port['id']}", json={"port": {"fixed_ips": [{"ip_address": "10.7.0.77"}]}}))
    assert moved["port"]["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.7.0.77"}]
    pairs = [{"ip_address": "10.7.0.200/30"}]
    paired = ok(tenant.http.put(f"/ports/{port['id']}", json={"port": {"allowed_address_pairs": pairs}}))["port"]
    assert paired["allowed_address_pairs"] == [{"ip_address": "10.7.0.200/30", "mac_address": port["mac_address"]}]
    off = tenant.http.put(f"/ports/{port['id']}", json={"port": {"port_security_enabled": False}})
    assert error(off, 409)["type"] == "PortSecurityPortHasSecurityGroup"
    off = ok(tenant.http.put(f"/ports/{port['id']}", json={"port": {"port_security_enabled": False, "security_groups": [],
                                                                "allowed_address_pairs": []}}))["port"]
    assert off["port_security_enabled"] is False and off["security_groups"] == []
    assert error(tenant.http.put(f"/ports/{port['id']}", json={"port": {"binding:host_id": "h1"}}), 403)["type"]
    assert error(tenant.http.put(f"/ports/{port['id']}", json={"port": {"network_id": net["id"]}}), 400)["type"]


def test_full_pool_and_concurrent_ports_never_share_an_address(cloud, tenant):
    net, sub = network_with_subnet(tenant.http, "10.8.0.0/28", enable_dhcp=False)  # 13 usable after the gateway
    token = tenant.http.headers["X-Auth-Token"]

    def one(_):
        with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=60) as c:
            return c.post("/ports", json={"port": {"network_id": net["id"]}})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(20)))
    created = [r.json()["port"] for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code != 201]
    addresses = [p["fixed_ips"][0]["ip_address"] for p in created]
    assert len(created) == 13 and len(set(addresses)) == 13
    assert all(r.status_code == 409 and r.json()["NeutronError"]["type"] == "IpAddressGenerationFailure"
               for r in refused)
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.8.0.0/28") for a in addresses)


def test_network_in_use_and_cascade(tenant):
    net, sub = network_with_subnet(tenant.http, "10.9.0.0/24")
    port = create(tenant.http, "ports", "port", network_id=net["id"])
    assert error(tenant.http.delete(f"/networks/{net['id']}"), 409)["type"] == "NetworkInUse"
    assert error(tenant.http.delete(f"/subnets/{sub['id']}"), 409)["type"] == "SubnetInUse"
    ok(tenant.http.delete(f"/ports/{port['id']}"), 204)
    ok(tenant.http.delete(f"/networks/{net['id']}"), 204)  # takes its subnet and DHCP port along
    error(tenant.http.get(f"/subnets/{sub['id']}"), 404)["type"]
    assert ok(tenant.http.get("/ports", params={"network_id": net["id"]}))["ports"] == []


def test_projects_are_walls_and_sharing_opens_one(cloud, admin, nadmin, tenant):
    _, _, token = member_of_new_project(cloud, admin)
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=60) as other:
        net, sub = network_with_subnet(tenant.http, "10.10.0.0/24")
        port = create(tenant.http, "ports", "port", network_id=net["id"])
        for path in (f"/networks/{net['id']}", f"/subnets/{sub['id']}", f"/ports/{port['id']}"):
            assert error(other.get(path), 404)["type"]
            assert error(other.delete(path), 404)["type"]
        assert net["id"] not in {n["id"] for n in ok(other.get("/networks"))["networks"]}
        assert error(other.post("/ports", json={"port": {"network_id": net["id"]}}), 404)["type"]
        # The same CIDR in another project is fine: address spaces overlap freely across projects.
        network_with_subnet(other, "10.10.0.0/24")
        shared = create(nadmin, "networks", "network", name=name("shared"), shared=True)
        create(nadmin, "subnets", "subnet", network_id=shared["id"], ip_version=4, cidr="10.11.0.0/24")
        seen = ok(other.get(f"/networks/{shared['id']}"))["network"]
        assert seen["shared"] is True
        theirs = create(other, "ports", "port", network_id=shared["id"])
        assert theirs["fixed_ips"][0]["ip_address"].startswith("10.11.0.")
        assert error(other.put(f"/networks/{shared['id']}", json={"network": {"name": "mine"}}), 403)["type"]
        unshare = nadmin.put(f"/networks/{shared['id']}", json={"network": {"shared": False}})
        assert error(unshare, 409)["type"] == "InvalidSharedSetting"
        # gone again: a shared network left on the worker's cloud is one more every later project may use
        ok(other.delete(f"/ports/{theirs['id']}"), 204)
        ok(nadmin.delete(f"/networks/{shared['id']}"), 204)


def test_readers_read_only(cloud, admin, tenant):
    net = create(tenant.http, "networks", "network")
    project_id = tenant.project_id
    from tests.api.helpers import grant, make_user

    user = make_user(admin)
    grant(admin, project_id, user["id"], "reader")
    projects = ok(admin.get(f"/projects/{project_id}"))["project"]
    token = cloud.token(user["name"], "secret-pass-1", projects["name"])
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=60) as reader:
        assert ok(reader.get(f"/networks/{net['id']}"))["network"]["id"] == net["id"]
        assert error(reader.post("/networks", json={"network": {"name": "x"}}), 403)["type"]
        assert error(reader.put(f"/networks/{net['id']}", json={"network": {"name": "x"}}), 403)["type"]
        assert error(reader.delete(f"/networks/{net['id']}"), 403)["type"]


def test_filters_fields_sorting_paging_and_if_match(tenant):
    nets = [create(tenant.http, "networks", "network", name=f"pg-{i}", admin_state_up=i % 2 == 0) for i in range(5)]
    listed = ok(tenant.http.get("/networks", params={"name": ["pg-1", "pg-3"], "fields": ["id", "name"]}))["networks"]
    assert sorted(n["name"] for n in listed) == ["pg-1", "pg-3"] and all(set(n) == {"id", "name"} for n in listed)
    down = ok(tenant.http.get("/networks", params={"admin_state_up": "false"}))["networks"]
    assert {n["name"] for n in down} == {"pg-1", "pg-3"}
    ordered = ok(tenant.http.get("/networks", params={"sort_key": "name", "sort_dir": "desc"}))["networks"]
    names = [n["name"] for n in ordered]
    assert names == sorted(names, reverse=True)
    # Only this project's networks: other tests share or externalise networks that members see too.
    first = ok(tenant.http.get("/networks", params={"limit": 2, "sort_key": "name", "sort_dir": "asc",
                                               "project_id": tenant.project_id}))
    assert [n["name"] for n in first["networks"]] == ["pg-0", "pg-1"]
    assert first["networks_links"][0]["rel"] == "next"
    error(tenant.http.get("/networks", params={"no_such_attribute": "x"}), 400)["type"]
    error(tenant.http.get("/networks", params={"sort_key": "nope"}), 400)["type"]
    target = nets[0]
    stale = tenant.http.put(f"/networks/{target['id']}", json={"network": {"name": "x"}},
                       headers={"If-Match": "revision_number=99"})
    assert error(stale, 412)["type"]
    fresh = tenant.http.put(f"/networks/{target['id']}", json={"network": {"name": "renamed"}},
                       headers={"If-Match": f"revision_number={target['revision_number']}"})
    assert ok(fresh)["network"]["revision_number"] == target["revision_number"] + 1


def test_default_order_pages_walk_every_network_by_id_once(tenant):
    """The default order (id) pages in SQL (limit + 1 rows read, the marker a seek): following the next
    links still shows each of the project's networks once, in id order; a marker it would not show is 404."""
    made = {create(tenant.http, "networks", "network", name=f"walk-{i}")["id"] for i in range(5)}
    params = {"limit": 2, "project_id": tenant.project_id, "name": [f"walk-{i}" for i in range(5)]}
    seen: list[str] = []
    while True:
        body = ok(tenant.http.get("/networks", params=params))
        seen += [n["id"] for n in body["networks"]]
        if not body.get("networks_links"):
            break
        params = {**params, "marker": body["networks_links"][0]["href"].rsplit("marker=", 1)[1]}
    assert seen == sorted(made)
    assert error(tenant.http.get("/networks", params={"limit": 2, "marker": "no-such-network"}), 404)


def test_tags(tenant):
    net = create(tenant.http, "networks", "network", tags=["red"])
    assert net["tags"] == ["red"]
    ok(tenant.http.put(f"/networks/{net['id']}/tags/blue"), 201)
    ok(tenant.http.get(f"/networks/{net['id']}/tags/blue"), 204)
    error(tenant.http.get(f"/networks/{net['id']}/tags/green"), 404)["type"]
    assert ok(tenant.http.put(f"/networks/{net['id']}/tags", json={"tags": ["a", "b"]}))["tags"] == ["a", "b"]
    other = create(tenant.http, "networks", "network", tags=["a"])
    both = {n["id"] for n in ok(tenant.http.get("/networks", params={"tags": "a,b"}))["networks"]}
    anyof = {n["id"] for n in ok(tenant.http.get("/networks", params={"tags-any": "a,b"}))["networks"]}
    assert both == {net["id"]} and {net["id"], other["id"]} <= anyof
    assert net["id"] not in {n["id"] for n in ok(tenant.http.get("/networks", params={"not-tags": "a,b"}))["networks"]}
    ok(tenant.http.delete(f"/networks/{net['id']}/tags"), 204)
    assert ok(tenant.http.get(f"/networks/{net['id']}/tags"))["tags"] == []
    error(tenant.http.put(f"/networks/{net['id']}/tags", json={"tags": "notalist"}), 400)["type"]


def test_security_group_rules(tenant):
    group = create(tenant.http, "security-groups", "security_group", name=name("sg"))
    assert {(r["direction"], r["ethertype"]) for r in group["security_group_rules"]} == {("egress", "IPv4"),
                                                                                      ("egress", "IPv6")}
    base = {"security_group_id": group["id"], "direction": "ingress"}
    rule = create(tenant.http, "security-group-rules", "security_group_rule", **base, protocol="tcp", port_range_min=22, port_range_max=22,
                  remote_ip_prefix="192.168.0.0/16")
    assert rule["protocol"] == "tcp" and rule["remote_ip_prefix"] == "192.168.0.0/16"
    dup = tenant.http.post("/security-group-rules", json={"security_group_rule": {
        **base, "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "192.168.0.0/16"}})
    assert error(dup, 409)["type"] == "SecurityGroupRuleExists"
    bad = [{"protocol": "tcp", "port_range_min": 30, "port_range_max": 20},
           {"protocol": "tcp", "port_range_min": 70000},
           {"protocol": "teleport"},
           {"port_range_min": 22},
           {"protocol": "icmp", "port_range_min": 300},
           {"remote_ip_prefix": "2001:db8::/64"},
           {"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": group["id"]},
           {"direction": "sideways"}]
    for extra in bad:
        error(tenant.http.post("/security-group-rules", json={"security_group_rule": {**base, **extra}}), 400)["type"]
    default = ok(tenant.http.get("/security-groups", params={"name": "default"}))["security_groups"][0]
    assert error(tenant.http.post("/security-groups", json={"security_group": {"name": "default"}}), 409)["type"]
    assert error(tenant.http.delete(f"/security-groups/{default['id']}"), 409)["type"]
    net, _ = network_with_subnet(tenant.http, "10.12.0.0/24")
    port = create(tenant.http, "ports", "port", network_id=net["id"], security_groups=[group["id"]])
    assert error(tenant.http.delete(f"/security-groups/{group['id']}"), 409)["type"] == "SecurityGroupInUse"
    ok(tenant.http.delete(f"/ports/{port['id']}"), 204)
    ok(tenant.http.delete(f"/security-groups/{group['id']}"), 204)
    error(tenant.http.get(f"/security-group-rules/{rule['id']}"), 404)["type"]


@pytest.mark.parametrize("body", [None, [], "x", {"network": "x"}, {"network": {"name": 5}},
                                  {"network": {"admin_state_up": "maybe"}}, {"network": {"id": "x"}},
                                  {"networks": [{"name": "ok"}, {"mtu": "big"}]}])
def test_malformed_bodies_are_400(tenant, body):
    resp = tenant.http.post("/networks", json=body) if body is not None else tenant.http.post("/networks", content=b"{")
    error(resp, 400)["type"]


def test_bulk_create_is_all_or_nothing(tenant):
    names = [name("bulk"), name("bulk")]
    made = ok(tenant.http.post("/networks", json={"networks": [{"name": n} for n in names]}), 201)["networks"]
    assert [n["name"] for n in made] == names
    net = made[0]
    bad = tenant.http.post("/subnets", json={"subnets": [
        {"network_id": net["id"], "ip_version": 4, "cidr": "10.13.0.0/24"},
        {"network_id": net["id"], "ip_version": 4, "cidr": "10.13.0.0/25"}]})
    error(bad, 400)["type"]
    assert ok(tenant.http.get("/subnets", params={"network_id": net["id"]}))["subnets"] == []
