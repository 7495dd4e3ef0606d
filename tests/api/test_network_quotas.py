"""The network quotas API and its enforcement."""

from __future__ import annotations

import pytest

from tests.api.helpers import member_of_new_project, ok
from tests.api.network_helpers import error, network, network_client

RESOURCES = {"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule",
             "subnetpool", "rbac_policy"}


def test_show_defaults_and_details(nadmin, tenant):
    defaults = ok(nadmin.get(f"/quotas/{tenant.project_id}/default"))["quota"]
    assert set(defaults) == RESOURCES and defaults["network"] == 100 and defaults["subnetpool"] == -1
    assert ok(tenant.http.get(f"/quotas/{tenant.project_id}"))["quota"] == defaults
    network(tenant.http)
    for path in ("details", "details.json"):
        details = ok(tenant.http.get(f"/quotas/{tenant.project_id}/{path}"))["quota"]
        assert details["network"] == {"limit": 100, "used": 1, "reserved": 0}
        assert set(details) == RESOURCES
    assert ok(tenant.http.get("/quotas/tenant"))["tenant"]["tenant_id"] == tenant.project_id


def test_admin_sets_lists_and_resets(nadmin, tenant):
    updated = ok(nadmin.put(f"/quotas/{tenant.project_id}", json={"quota": {"network": "7", "port": -1}}))["quota"]
    assert (updated["network"], updated["port"], updated["subnet"]) == (7, -1, 100)
    assert ok(tenant.http.get(f"/quotas/{tenant.project_id}"))["quota"]["network"] == 7
    listed = {q["project_id"]: q for q in ok(nadmin.get("/quotas"))["quotas"]}
    assert listed[tenant.project_id]["network"] == 7 and listed[tenant.project_id]["tenant_id"] == tenant.project_id
    ok(nadmin.delete(f"/quotas/{tenant.project_id}"), 204)
    assert ok(nadmin.get(f"/quotas/{tenant.project_id}"))["quota"]["network"] == 100
    assert tenant.project_id not in {q["project_id"] for q in ok(nadmin.get("/quotas"))["quotas"]}


def test_members_may_only_read_their_own(tenant, other_tenant, cloud, admin):
    assert error(tenant.http.put(f"/quotas/{tenant.project_id}", json={"quota": {"network": 1000}}), 403)
    assert error(tenant.http.delete(f"/quotas/{tenant.project_id}"), 403)
    assert error(tenant.http.get(f"/quotas/{other_tenant.project_id}"), 403)
    assert error(tenant.http.get(f"/quotas/{other_tenant.project_id}/details"), 403)
    assert error(tenant.http.get("/quotas"), 403)
    project, _, token = member_of_new_project(cloud, admin, role="reader")
    with network_client(cloud, token) as reader:
        assert ok(reader.get(f"/quotas/{project['id']}"))["quota"]["network"] == 100
        assert error(reader.post("/networks", json={"network": {"name": "r"}}), 403)


@pytest.mark.parametrize("body", [
    {"quota": {"network": -2}},
    {"quota": {"network": "lots"}},
    {"quota": {"network": 1.5}},
    {"quota": {"network": True}},
    {"quota": {"network": 2**31}},
    {"quota": {"widgets": 5}},
    {"quota": {"network": 5, "check_limit": "yes"}},
    {"quota": "network"},
    {"network": 5},
])
def test_bad_quota_updates_are_refused(nadmin, tenant, body):
    assert error(nadmin.put(f"/quotas/{tenant.project_id}", json=body), 400)
    assert ok(nadmin.get(f"/quotas/{tenant.project_id}"))["quota"]["network"] == 100


def test_network_quota_is_enforced(nadmin, tenant):
    ok(nadmin.put(f"/quotas/{tenant.project_id}", json={"quota": {"network": 2}}))
    network(tenant.http)
    network(tenant.http)
    err = error(tenant.http.post("/networks", json={"network": {"name": "third"}}), 409)
    assert err["type"] == "OverQuota" and "network" in err["message"]
    # check_limit refuses a limit below what is already used.
    assert error(nadmin.put(f"/quotas/{tenant.project_id}", json={"quota": {"network": 1, "check_limit": True}}),
                 409)["type"] == "InvalidQuotaValue"
    ok(nadmin.put(f"/quotas/{tenant.project_id}", json={"quota": {"network": 3}}))
    network(tenant.http)
