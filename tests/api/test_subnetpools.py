"""Subnet pools and address scopes: validation, allocation, defaults, and walls between projects."""

from __future__ import annotations

import pytest

from tests.api.helpers import name, ok
from tests.api.network_helpers import error, ids, network, policy, pool, scope, subnet


def test_pool_lifecycle_defaults_and_compaction(tenant):
    created = pool(tenant.http, ["10.1.0.0/24", "10.1.1.0/24", "10.1.0.128/25"], description="d")
    assert created["prefixes"] == ["10.1.0.0/23"]
    assert (created["ip_version"], created["min_prefixlen"], created["max_prefixlen"],
            created["default_prefixlen"]) == (4, 8, 32, 8)
    assert created["shared"] is False and created["is_default"] is False and created["default_quota"] is None
    assert created["project_id"] == tenant.project_id and created["revision_number"] >= 0
    v6 = pool(tenant.http, ["2001:db8::/48"])
    assert (v6["ip_version"], v6["min_prefixlen"], v6["max_prefixlen"], v6["default_prefixlen"]) == (6, 64, 128, 64)

    shown = ok(tenant.http.get(f"/subnetpools/{created['id']}"))["subnetpool"]
    assert shown == created
    renamed = ok(tenant.http.put(f"/subnetpools/{created['id']}", json={"subnetpool": {
        "name": "renamed", "min_prefixlen": "20", "default_prefixlen": 24}}))["subnetpool"]
    assert (renamed["name"], renamed["min_prefixlen"], renamed["default_prefixlen"]) == ("renamed", 20, 24)
    assert ids(tenant.http.get("/subnetpools", params={"name": "renamed"}), "subnetpools") == {created["id"]}
    assert ids(tenant.http.get("/subnetpools", params={"ip_version": 6}), "subnetpools") == {v6["id"]}

    ok(tenant.http.delete(f"/subnetpools/{created['id']}"), 204)
    assert error(tenant.http.get(f"/subnetpools/{created['id']}"), 404)["type"] == "SubnetPoolNotFound"


@pytest.mark.parametrize("body, kind", [
    ({"prefixes": []}, "EmptySubnetPoolPrefixList"),
    ({"prefixes": ["10.0.0.0/8", "2001:db8::/32"]}, "PrefixVersionMismatch"),
    ({"prefixes": ["10.0.0.1/8"]}, "InvalidInput"),
    ({"prefixes": ["not-a-cidr"]}, "InvalidInput"),
    ({"prefixes": "10.0.0.0/8"}, "HTTPBadRequest"),
    ({"prefixes": ["10.0.0.0/8"], "min_prefixlen": 24, "max_prefixlen": 16}, "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "max_prefixlen": 33}, "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "min_prefixlen": 16, "default_prefixlen": 12}, "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "max_prefixlen": 24, "default_prefixlen": 28}, "IllegalSubnetPoolPrefixBounds"),
    ({"prefixes": ["10.0.0.0/8"], "min_prefixlen": "eight"}, "HTTPBadRequest"),
    ({"prefixes": ["10.0.0.0/8"], "default_quota": -1}, "HTTPBadRequest"),
    ({"prefixes": ["10.0.0.0/8"], "ip_version": 4}, "HTTPBadRequest"),
    ({"prefixes": ["10.0.0.0/8"], "colour": "blue"}, "HTTPBadRequest"),
    ({}, "HTTPBadRequest"),
])
def test_malformed_pools_are_refused(tenant, body, kind):
    assert error(tenant.http.post("/subnetpools", json={"subnetpool": body}), 400)["type"] == kind


def test_malformed_bodies_are_refused(tenant):
    for raw in ("{", '{"subnetpool": 5}', '["subnetpool"]'):
        resp = tenant.http.post("/subnetpools", content=raw, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, resp.text


def test_prefixes_may_grow_but_never_shrink(tenant):
    created = pool(tenant.http, ["10.2.0.0/24"])
    grown = ok(tenant.http.put(f"/subnetpools/{created['id']}", json={"subnetpool": {
        "prefixes": ["10.2.0.0/24", "10.2.1.0/24", "10.9.0.0/16"]}}))["subnetpool"]
    assert grown["prefixes"] == ["10.2.0.0/23", "10.9.0.0/16"]
    err = error(tenant.http.put(f"/subnetpools/{created['id']}", json={"subnetpool": {
        "prefixes": ["10.9.0.0/16"]}}), 400)
    assert err["type"] == "IllegalSubnetPoolPrefixUpdate" and "Illegal update to prefixes" in err["message"]
    assert error(tenant.http.put(f"/subnetpools/{created['id']}", json={"subnetpool": {
        "prefixes": ["2001:db8::/64"]}}), 400)["type"] == "IllegalSubnetPoolPrefixUpdate"
    assert ok(tenant.http.get(f"/subnetpools/{created['id']}"))["subnetpool"]["prefixes"] == grown["prefixes"]


def test_allocation_from_a_pool(tenant):
    created = pool(tenant.http, ["10.3.0.0/22"], default_prefixlen=24, min_prefixlen=23, max_prefixlen=28)
    net = network(tenant.http)
    first = subnet(tenant.http, net["id"], subnetpool_id=created["id"])
    assert first["cidr"] == "10.3.0.0/24" and first["subnetpool_id"] == created["id"]
    small = subnet(tenant.http, net["id"], subnetpool_id=created["id"], prefixlen=28)
    # The smallest free block that fits is used, leaving larger ones whole.
    assert small["cidr"] == "10.3.1.0/28"
    chosen = subnet(tenant.http, net["id"], subnetpool_id=created["id"], cidr="10.3.2.0/24")
    assert chosen["cidr"] == "10.3.2.0/24" and chosen["gateway_ip"] == "10.3.2.1"

    def refused(status: int, **body) -> dict:
        return error(tenant.http.post("/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "subnetpool_id": created["id"], **body}}), status)

    assert refused(409, cidr="10.3.2.128/25")["type"] == "SubnetAllocationError"   # taken
    assert refused(409, cidr="10.4.0.0/24")["type"] == "SubnetAllocationError"     # outside the pool
    assert refused(400, prefixlen=29)["type"] == "MaxPrefixSubnetAllocationError"
    assert refused(400, prefixlen=22)["type"] == "MinPrefixSubnetAllocationError"
    assert refused(400, prefixlen="big")["type"] == "HTTPBadRequest"
    assert refused(400, ip_version=6)["type"] == "InvalidInput"
    assert refused(400, cidr="10.3.3.0/24", prefixlen=24)["type"] == "InvalidInput"
    last = subnet(tenant.http, net["id"], subnetpool_id=created["id"])
    assert last["cidr"] == "10.3.3.0/24"
    assert "Insufficient prefix space" in refused(409)["message"]

    err = error(tenant.http.delete(f"/subnetpools/{created['id']}"), 409)
    assert err["type"] == "SubnetPoolInUse"
    for sub in (first, small, chosen, last):
        ok(tenant.http.delete(f"/subnets/{sub['id']}"), 204)
    ok(tenant.http.delete(f"/subnetpools/{created['id']}"), 204)


def test_default_quota_caps_addresses_per_project(tenant):
    created = pool(tenant.http, ["10.5.0.0/16"], default_quota=512)
    net = network(tenant.http)
    subnet(tenant.http, net["id"], subnetpool_id=created["id"], prefixlen=24)
    subnet(tenant.http, net["id"], subnetpool_id=created["id"], prefixlen=24)
    err = error(tenant.http.post("/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "subnetpool_id": created["id"], "prefixlen": 30}}), 409)
    assert err["type"] == "SubnetPoolQuotaExceeded"


def test_one_default_pool_per_ip_version(nadmin, tenant):
    err = error(tenant.http.post("/subnetpools", json={"subnetpool": {
        "prefixes": ["10.6.0.0/16"], "is_default": True}}), 403)
    assert err["type"] == "PolicyNotAuthorized"
    default = pool(nadmin, ["2001:db8:6::/48"], is_default=True, shared=True)
    try:
        second = pool(nadmin, ["2001:db8:7::/48"])
        assert error(nadmin.put(f"/subnetpools/{second['id']}", json={"subnetpool": {"is_default": True}}),
                     400)["type"] == "InvalidInput"
        # A member asks for the default pool without naming it.
        net = network(tenant.http)
        made = subnet(tenant.http, net["id"], ip_version=6, use_default_subnetpool=True)
        assert made["subnetpool_id"] == default["id"] and made["cidr"].startswith("2001:db8:6:")
        ok(tenant.http.delete(f"/subnets/{made['id']}"), 204)
    finally:
        ok(nadmin.put(f"/subnetpools/{default['id']}", json={"subnetpool": {"is_default": False}}))


def test_pools_are_private_unless_shared(nadmin, tenant, other_tenant):
    mine = pool(tenant.http, ["10.7.0.0/16"])
    assert mine["id"] not in ids(other_tenant.http.get("/subnetpools"), "subnetpools")
    assert error(other_tenant.http.get(f"/subnetpools/{mine['id']}"), 404)["type"] == "SubnetPoolNotFound"
    assert error(other_tenant.http.put(f"/subnetpools/{mine['id']}", json={"subnetpool": {"name": "x"}}), 404)
    assert error(other_tenant.http.delete(f"/subnetpools/{mine['id']}"), 404)
    net = network(other_tenant.http)
    assert error(other_tenant.http.post("/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "subnetpool_id": mine["id"]}}), 404)
    assert error(tenant.http.post("/subnetpools", json={"subnetpool": {
        "prefixes": ["10.8.0.0/16"], "shared": True}}), 403)["type"] == "PolicyNotAuthorized"

    public = pool(nadmin, ["10.9.0.0/16"], shared=True)
    seen = ok(other_tenant.http.get(f"/subnetpools/{public['id']}"))["subnetpool"]
    assert seen["shared"] is True
    assert subnet(other_tenant.http, net["id"], subnetpool_id=public["id"], prefixlen=24)["cidr"] == "10.9.0.0/24"


def test_pool_shared_with_one_project_through_rbac(tenant, other_tenant, make_tenant):
    mine = pool(tenant.http, ["10.10.0.0/16"])
    grant = policy(tenant.http, "subnetpool", mine["id"], other_tenant.project_id)
    seen = ok(other_tenant.http.get(f"/subnetpools/{mine['id']}"))["subnetpool"]
    assert seen["shared"] is True
    assert ok(tenant.http.get(f"/subnetpools/{mine['id']}"))["subnetpool"]["shared"] is False
    assert error(make_tenant().http.get(f"/subnetpools/{mine['id']}"), 404)
    net = network(other_tenant.http)
    used = subnet(other_tenant.http, net["id"], subnetpool_id=mine["id"], prefixlen=24)
    assert error(tenant.http.delete(f"/rbac-policies/{grant['id']}"), 409)["type"] == "RbacPolicyInUse"
    ok(other_tenant.http.delete(f"/subnets/{used['id']}"), 204)
    ok(tenant.http.delete(f"/rbac-policies/{grant['id']}"), 204)
    assert error(other_tenant.http.get(f"/subnetpools/{mine['id']}"), 404)


def test_address_scopes(nadmin, tenant, other_tenant):
    v4 = scope(tenant.http, 4)
    assert set(v4) == {"id", "name", "project_id", "tenant_id", "shared", "ip_version"}
    assert (v4["ip_version"], v4["shared"]) == (4, False)
    assert error(tenant.http.post("/address-scopes", json={"address_scope": {"ip_version": 5}}), 400)
    assert error(tenant.http.post("/address-scopes", json={"address_scope": {"name": "x"}}), 400)
    assert error(tenant.http.post("/address-scopes", json={"address_scope": {"ip_version": 4, "shared": True}}),
                 403)["type"] == "PolicyNotAuthorized"
    assert error(tenant.http.put(f"/address-scopes/{v4['id']}", json={"address_scope": {"ip_version": 6}}), 400)
    assert error(tenant.http.get(f"/address-scopes/{v4['id']}/tags"), 404)

    # Walls: another project neither sees nor uses it.
    assert v4["id"] not in ids(other_tenant.http.get("/address-scopes"), "address_scopes")
    assert error(other_tenant.http.get(f"/address-scopes/{v4['id']}"), 404)["type"] == "AddressScopeNotFound"
    assert error(other_tenant.http.post("/subnetpools", json={"subnetpool": {
        "prefixes": ["10.11.0.0/16"], "address_scope_id": v4["id"]}}), 400)["type"] == \
        "IllegalSubnetPoolAssociationToAddressScope"
    assert error(tenant.http.post("/subnetpools", json={"subnetpool": {
        "prefixes": ["10.11.0.0/16"], "address_scope_id": "6b3a58ba-5e9d-4a63-b2b8-2a1f3c3d9a11"}}), 404)

    # Pools join scopes of their IP version, with prefixes unique inside the scope.
    assert error(tenant.http.post("/subnetpools", json={"subnetpool": {
        "prefixes": ["2001:db8::/48"], "address_scope_id": v4["id"]}}), 400)["type"] == \
        "IllegalSubnetPoolIpVersionAssociationToAddressScope"
    first = pool(tenant.http, ["10.12.0.0/16"], address_scope_id=v4["id"])
    assert error(tenant.http.post("/subnetpools", json={"subnetpool": {
        "prefixes": ["10.12.128.0/17"], "address_scope_id": v4["id"]}}), 409)["type"] == "AddressScopePrefixConflict"
    loose = pool(tenant.http, ["10.12.0.0/24"])
    assert error(tenant.http.put(f"/subnetpools/{loose['id']}", json={"subnetpool": {
        "address_scope_id": v4["id"]}}), 409)["type"] == "AddressScopePrefixConflict"

    # A network's address scope follows the pools of its subnets.
    net = network(tenant.http)
    subnet(tenant.http, net["id"], subnetpool_id=first["id"], prefixlen=24)
    shown = ok(tenant.http.get(f"/networks/{net['id']}"))["network"]
    assert (shown["ipv4_address_scope"], shown["ipv6_address_scope"]) == (v4["id"], None)

    assert error(tenant.http.delete(f"/address-scopes/{v4['id']}"), 409)["type"] == "AddressScopeInUse"
    ok(tenant.http.put(f"/subnetpools/{loose['id']}", json={"subnetpool": {"address_scope_id": None}}))
    # Admin-shared scopes are visible to all and cannot be unshared.
    public = scope(nadmin, 6, shared=True)
    assert ok(other_tenant.http.get(f"/address-scopes/{public['id']}"))["address_scope"]["shared"] is True
    assert error(nadmin.put(f"/address-scopes/{public['id']}", json={"address_scope": {"shared": False}}),
                 400)["type"] == "AddressScopeUpdateError"
    renamed = ok(tenant.http.put(f"/address-scopes/{v4['id']}", json={"address_scope": {"name": name("s")}}))
    assert renamed["address_scope"]["name"].startswith("s-")


def test_admin_sees_every_projects_pools(nadmin, tenant):
    mine = pool(tenant.http, ["10.13.0.0/16"])
    assert mine["id"] in ids(nadmin.get("/subnetpools"), "subnetpools")
    assert ids(nadmin.get("/subnetpools", params={"project_id": tenant.project_id}), "subnetpools") == {mine["id"]}
