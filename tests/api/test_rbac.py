"""RBAC policies: who may share what with whom, what the flags say, and what a share cannot lose."""

from __future__ import annotations

import pytest

from tests.api.helpers import ok
from tests.api.network_helpers import create, error, ids, network, policy, scope, subnet

POLICY_KEYS = {"id", "project_id", "tenant_id", "object_type", "object_id", "target_tenant", "action"}


def test_share_a_network_with_one_project(tenant, other_tenant, make_tenant):
    net = network(tenant.http)
    sub = subnet(tenant.http, net["id"], cidr="192.168.10.0/24")
    outsider = make_tenant()
    assert error(other_tenant.http.get(f"/networks/{net['id']}"), 404)["type"] == "NetworkNotFound"

    pol = policy(tenant.http, "network", net["id"], other_tenant.project_id)
    assert set(pol) == POLICY_KEYS
    assert (pol["project_id"], pol["target_tenant"], pol["action"]) == (tenant.project_id, other_tenant.project_id,
                                                                         "access_as_shared")
    seen = ok(other_tenant.http.get(f"/networks/{net['id']}"))["network"]
    assert seen["shared"] is True
    assert ok(tenant.http.get(f"/networks/{net['id']}"))["network"]["shared"] is False
    assert sub["id"] in ids(other_tenant.http.get("/subnets"), "subnets")
    port = create(other_tenant.http, "ports", "port", network_id=net["id"])
    assert port["fixed_ips"][0]["subnet_id"] == sub["id"]

    # Nobody else sees the network, its subnet or the policy; the target does not see the policy either.
    assert error(outsider.http.get(f"/networks/{net['id']}"), 404)
    assert error(outsider.http.get(f"/subnets/{sub['id']}"), 404)
    assert pol["id"] not in ids(other_tenant.http.get("/rbac-policies"), "rbac_policies")
    assert error(other_tenant.http.get(f"/rbac-policies/{pol['id']}"), 404)["type"] == "RbacPolicyNotFound"
    assert error(outsider.http.delete(f"/rbac-policies/{pol['id']}"), 404)
    assert ok(tenant.http.get(f"/rbac-policies/{pol['id']}"))["rbac_policy"] == pol
    listed = ok(tenant.http.get("/rbac-policies", params={"object_id": net["id"], "fields": ["id", "action"]}))
    assert listed["rbac_policies"] == [{"id": pol["id"], "action": "access_as_shared"}]

    # Revoked (once the target's port, which holds it, is gone), the share takes the access with it.
    ok(other_tenant.http.delete(f"/ports/{port['id']}"), 204)
    ok(tenant.http.delete(f"/rbac-policies/{pol['id']}"), 204)
    assert error(other_tenant.http.get(f"/networks/{net['id']}"), 404)["type"] == "NetworkNotFound"
    assert sub["id"] not in ids(other_tenant.http.get("/subnets"), "subnets")
    assert error(other_tenant.http.post("/ports", json={"port": {"network_id": net["id"]}}), 404)


def test_only_owners_share_and_only_admins_share_with_everyone(nadmin, tenant, other_tenant):
    net = network(tenant.http)
    assert error(tenant.http.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared", "target_tenant": "*"}}),
        403)["type"] == "PolicyNotAuthorized"
    pol = policy(tenant.http, "network", net["id"], other_tenant.project_id)
    assert error(tenant.http.put(f"/rbac-policies/{pol['id']}", json={"rbac_policy": {"target_tenant": "*"}}), 403)
    # The target may see the network but not re-share it.
    assert error(other_tenant.http.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": other_tenant.project_id}}), 400)["type"] == "InvalidInput"
    # Objects the caller cannot see do not exist for it.
    hidden = network(nadmin)
    assert error(tenant.http.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": hidden["id"], "action": "access_as_shared",
        "target_tenant": tenant.project_id}}), 404)["type"] == "NetworkNotFound"
    assert error(tenant.http.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "subnetpool", "object_id": "4c0a30c5-1a0c-4d55-8a3f-b0f7e1d1a3c2", "action": "access_as_shared",
        "target_tenant": tenant.project_id}}), 404)["type"] == "SubnetPoolNotFound"
    # Duplicates conflict, for admins too.
    assert error(nadmin.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": other_tenant.project_id}}), 409)["type"] == "DuplicateRbacPolicy"


@pytest.mark.parametrize("change, kind", [
    ({"object_type": "router"}, "HTTPBadRequest"),
    ({"action": "access_as_owner"}, "HTTPBadRequest"),
    ({"object_type": "subnetpool", "action": "access_as_external"}, "InvalidActionForType"),
    ({"target_tenant": None}, "HTTPBadRequest"),
    ({"target_tenant": "1234" * 100}, "HTTPBadRequest"),
    ({"object_id": "not-a-uuid"}, "HTTPBadRequest"),
    ({"target_tenant": "MISSING"}, "HTTPBadRequest"),
    ({"colour": "red"}, "HTTPBadRequest"),
])
def test_malformed_policies_are_refused(tenant, change, kind):
    net = network(tenant.http)
    body = {"object_type": "network", "object_id": net["id"], "action": "access_as_shared",
            "target_tenant": "someone", **change}
    body = {k: v for k, v in body.items() if v != "MISSING"}
    assert error(tenant.http.post("/rbac-policies", json={"rbac_policy": body}), 400)["type"] == kind


def test_only_the_target_may_change(tenant, other_tenant):
    net = network(tenant.http)
    pol = policy(tenant.http, "network", net["id"], other_tenant.project_id)
    for change in ({"action": "access_as_external"}, {"object_id": net["id"]}, {"object_type": "network"}):
        assert error(tenant.http.put(f"/rbac-policies/{pol['id']}", json={"rbac_policy": change}), 400)
    assert error(tenant.http.put(f"/rbac-policies/{pol['id']}", content="{",
                                 headers={"Content-Type": "application/json"}), 400)
    moved = ok(tenant.http.put(f"/rbac-policies/{pol['id']}", json={"rbac_policy": {"target_tenant": "elsewhere"}}))
    assert moved["rbac_policy"] == {**pol, "target_tenant": "elsewhere"}
    assert error(other_tenant.http.get(f"/networks/{net['id']}"), 404)


def test_policies_that_ports_depend_on_stay(nadmin, tenant, other_tenant):
    net = network(nadmin)
    subnet(nadmin, net["id"], cidr="192.168.20.0/24")
    pol = policy(nadmin, "network", net["id"], tenant.project_id)
    port = create(tenant.http, "ports", "port", network_id=net["id"])
    assert error(nadmin.delete(f"/rbac-policies/{pol['id']}"), 409)["type"] == "RbacPolicyInUse"
    assert error(nadmin.put(f"/rbac-policies/{pol['id']}", json={"rbac_policy": {
        "target_tenant": other_tenant.project_id}}), 409)["type"] == "RbacPolicyInUse"

    # The wildcard covers the port, so the specific policy may go; then the wildcard is the anchor.
    wild = policy(nadmin, "network", net["id"], "*")
    assert ok(nadmin.get(f"/networks/{net['id']}"))["network"]["shared"] is True
    ok(nadmin.delete(f"/rbac-policies/{pol['id']}"), 204)
    assert error(nadmin.delete(f"/rbac-policies/{wild['id']}"), 409)["type"] == "RbacPolicyInUse"
    ok(tenant.http.delete(f"/ports/{port['id']}"), 204)
    ok(nadmin.delete(f"/rbac-policies/{wild['id']}"), 204)
    assert ok(nadmin.get(f"/networks/{net['id']}"))["network"]["shared"] is False
    assert error(tenant.http.get(f"/networks/{net['id']}"), 404)


def test_self_share_can_go_while_the_owner_has_ports(tenant, other_tenant):
    net = network(tenant.http)
    subnet(tenant.http, net["id"], cidr="192.168.30.0/24")
    own = policy(tenant.http, "network", net["id"], tenant.project_id)
    create(tenant.http, "ports", "port", network_id=net["id"])
    ok(tenant.http.put(f"/rbac-policies/{own['id']}", json={"rbac_policy": {"target_tenant": other_tenant.project_id}}))
    ok(tenant.http.delete(f"/rbac-policies/{own['id']}"), 204)


def test_wildcard_share_is_the_shared_flag_and_bumps_revision(nadmin, tenant, other_tenant):
    net = network(tenant.http)
    before = ok(tenant.http.get(f"/networks/{net['id']}"))["network"]["revision_number"]
    wild = policy(nadmin, "network", net["id"], "*")
    shown = ok(tenant.http.get(f"/networks/{net['id']}"))["network"]
    assert shown["shared"] is True and shown["revision_number"] > before
    assert net["id"] in ids(other_tenant.http.get("/networks", params={"shared": "true"}), "networks")
    ok(nadmin.delete(f"/rbac-policies/{wild['id']}"), 204)
    assert ok(tenant.http.get(f"/networks/{net['id']}"))["network"]["shared"] is False
    # And the other way round: setting the flag creates the wildcard policy.
    ok(nadmin.put(f"/networks/{net['id']}", json={"network": {"shared": True}}))
    found = ok(nadmin.get("/rbac-policies", params={"object_id": net["id"], "target_tenant": "*"}))["rbac_policies"]
    assert [p["action"] for p in found] == ["access_as_shared"]
    # gone again: a shared network left on the worker's cloud is one more every later project may use
    ok(nadmin.delete(f"/networks/{net['id']}"), 204)


def test_external_access_for_one_project(nadmin, tenant, other_tenant):
    net = network(nadmin)
    sub = subnet(nadmin, net["id"], cidr="198.18.0.0/24", enable_dhcp=False)
    pol = policy(nadmin, "network", net["id"], tenant.project_id, action="access_as_external")
    shown = ok(nadmin.get(f"/networks/{net['id']}"))["network"]
    assert shown["router:external"] is True and shown["shared"] is False
    external = ok(tenant.http.get("/networks", params={"router:external": "true"}))["networks"]
    assert net["id"] in {n["id"] for n in external}
    assert ok(tenant.http.get(f"/subnets/{sub['id']}"))["subnet"]["cidr"] == "198.18.0.0/24"
    assert error(other_tenant.http.get(f"/networks/{net['id']}"), 404)
    assert error(other_tenant.http.get(f"/subnets/{sub['id']}"), 404)
    # External access does not let the project plug ports into the network.
    assert error(tenant.http.post("/ports", json={"port": {"network_id": net["id"]}}), 403)
    ok(nadmin.delete(f"/rbac-policies/{pol['id']}"), 204)
    assert ok(nadmin.get(f"/networks/{net['id']}"))["network"]["router:external"] is False
    assert error(tenant.http.get(f"/networks/{net['id']}"), 404)


def test_external_stays_while_the_wildcard_exists(nadmin, tenant):
    net = network(nadmin, **{"router:external": True})
    pol = policy(nadmin, "network", net["id"], tenant.project_id, action="access_as_external")
    ok(nadmin.delete(f"/rbac-policies/{pol['id']}"), 204)
    assert ok(tenant.http.get(f"/networks/{net['id']}"))["network"]["router:external"] is True


def test_security_group_shared_with_a_project(tenant, other_tenant):
    group = create(tenant.http, "security-groups", "security_group", name="shared-sg")
    assert error(other_tenant.http.get(f"/security-groups/{group['id']}"), 404)
    pol = policy(tenant.http, "security_group", group["id"], other_tenant.project_id)
    assert ok(other_tenant.http.get(f"/security-groups/{group['id']}"))["security_group"]["id"] == group["id"]
    net = network(other_tenant.http)
    subnet(other_tenant.http, net["id"], cidr="192.168.40.0/24")
    port = create(other_tenant.http, "ports", "port", network_id=net["id"], security_groups=[group["id"]])
    assert error(tenant.http.delete(f"/rbac-policies/{pol['id']}"), 409)["type"] == "RbacPolicyInUse"
    ok(other_tenant.http.delete(f"/ports/{port['id']}"), 204)
    ok(tenant.http.delete(f"/rbac-policies/{pol['id']}"), 204)
    assert error(other_tenant.http.get(f"/security-groups/{group['id']}"), 404)


def test_address_scope_shared_with_a_project(tenant, other_tenant):
    mine = scope(tenant.http, 4)
    pol = policy(tenant.http, "address_scope", mine["id"], other_tenant.project_id)
    assert ok(other_tenant.http.get(f"/address-scopes/{mine['id']}"))["address_scope"]["shared"] is True
    joined = create(other_tenant.http, "subnetpools", "subnetpool", prefixes=["10.200.0.0/16"],
                    address_scope_id=mine["id"])
    assert error(tenant.http.delete(f"/rbac-policies/{pol['id']}"), 409)["type"] == "RbacPolicyInUse"
    ok(other_tenant.http.delete(f"/subnetpools/{joined['id']}"), 204)
    ok(tenant.http.delete(f"/rbac-policies/{pol['id']}"), 204)
    assert error(other_tenant.http.get(f"/address-scopes/{mine['id']}"), 404)


def test_deleting_the_object_deletes_its_policies(tenant, other_tenant):
    net = network(tenant.http)
    pol = policy(tenant.http, "network", net["id"], other_tenant.project_id)
    ok(tenant.http.delete(f"/networks/{net['id']}"), 204)
    assert error(tenant.http.get(f"/rbac-policies/{pol['id']}"), 404)


def test_policy_quota(nadmin, tenant):
    net = network(tenant.http)
    ok(nadmin.put(f"/quotas/{tenant.project_id}", json={"quota": {"rbac_policy": 2}}))
    policy(tenant.http, "network", net["id"], "p1")
    policy(tenant.http, "network", net["id"], "p2")
    assert error(tenant.http.post("/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared", "target_tenant": "p3"}}),
        409)["type"] == "OverQuota"
