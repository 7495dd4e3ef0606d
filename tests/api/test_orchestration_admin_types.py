"""Resource types of the cloud's admin-side services, made by a stack through their APIs: a provider network, a flavor, a
volume type and QoS specs, an Object Storage container, Identity's project, role, domain, group, user (in the group,
with the role on the project), region, service and endpoint; a member's stack gets the
services' own 403 for those an admin must make."""

import httpx
import pytest
import yaml

from tests.api.helpers import name, ok, wait

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "flavor": {"type": "OS::Nova::Flavor", "properties": {"ram": 128, "vcpus": 1, "disk": 1,
                                                              "extra_specs": {"hw:cpu_policy": "shared"}}},
        "vtype": {"type": "OS::Cinder::VolumeType", "properties": {"name": {"list_join": [
            "-", ["vt", {"get_param": "OS::stack_name"}]]}, "metadata": {"volume_backend_name": "files"}}},
        "bucket": {"type": "OS::Swift::Container", "properties": {"X-Container-Meta": {"owner": "heat"},
                                                                  "PurgeOnDelete": True}},
        "project": {"type": "OS::Keystone::Project", "properties": {"description": "made by a stack"}},
        "role": {"type": "OS::Keystone::Role"},
        "provider": {"type": "OS::Neutron::ProviderNet", "properties": {
            "network_type": "vxlan", "segmentation_id": "3001",
            "router_external": True}},
        "qos": {"type": "OS::Cinder::QoSSpecs", "properties": {"specs": {"total_iops_sec": 100}}},
        "domain": {"type": "OS::Keystone::Domain", "properties": {"description": "a stack's"}},
        "group": {"type": "OS::Keystone::Group"},
        "user": {"type": "OS::Keystone::User", "properties": {
            "password": "secret-1234", "default_project": {"get_resource": "project"},
            "groups": [{"get_resource": "group"}],
            "roles": [{"role": {"get_resource": "role"}, "project": {"get_resource": "project"}}]}},
        "region": {"type": "OS::Keystone::Region", "properties": {"description": "far away"}},
        "service": {"type": "OS::Keystone::Service", "properties": {"type": "thing"}},
        "endpoint": {"type": "OS::Keystone::Endpoint", "properties": {
            "service": {"get_resource": "service"}, "region": {"get_resource": "region"},
            "interface": "public", "url": "http://thing.example/v1"}},
    },
    "outputs": {"flavor_specs": {"value": {"get_attr": ["flavor", "extra_specs"]}},
                "url": {"value": {"get_attr": ["bucket", "WebsiteURL"]}},
                "objects": {"value": {"get_attr": ["bucket", "ObjectCount"]}},
                "project": {"value": {"get_attr": ["project", "name"]}}},
}


@pytest.fixture
def admin_heat(cloud):
    token = cloud.token()
    project = ok(httpx.get(f"{cloud.url}/identity/v3/auth/tokens", headers={
        "X-Auth-Token": token, "X-Subject-Token": token}))["token"]["project"]["id"]
    with httpx.Client(base_url=f"{cloud.url}/orchestration/v1/{project}", headers={"X-Auth-Token": token},
                      timeout=60) as heat, httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": token},
                                                        timeout=60) as root:
        yield heat, root, project


def settle(heat, path: str) -> dict:
    return wait(lambda: (s := ok(heat.get(path))["stack"])["stack_status"].endswith(("COMPLETE", "FAILED")) and s,
                60, "the stack to settle")


def test_admin_types_come_and_go(admin_heat, heat):
    http, root, project = admin_heat
    stack_name = name("admin-types")
    ref = ok(http.post("/stacks", json={"stack_name": stack_name, "template": yaml.safe_dump(TEMPLATE)}), 201)
    path = f"/stacks/{stack_name}/{ref['stack']['id']}"
    done = settle(http, path)
    assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
    made = {r["resource_name"]: r["physical_resource_id"] for r in ok(http.get(f"{path}/resources"))["resources"]}
    outputs = {o["output_key"]: o["output_value"] for o in done["outputs"]}
    assert outputs["flavor_specs"] == {"hw:cpu_policy": "shared"}
    assert ok(root.get(f"/compute/v2.1/flavors/{made['flavor']}"))["flavor"]["ram"] == 128
    assert ok(root.get(f"/volume/v3/{project}/types/{made['vtype']}"))["volume_type"]["extra_specs"] == {
        "volume_backend_name": "files"}
    assert outputs["url"].endswith(f"/object-store/v1/AUTH_{project}/{made['bucket']}") and outputs["objects"] == 0
    head = root.head(f"/object-store/v1/AUTH_{project}/{made['bucket']}")
    assert head.status_code == 204 and head.headers["x-container-meta-owner"] == "heat"
    assert outputs["project"] == ok(root.get(f"/identity/v3/projects/{made['project']}"))["project"]["name"]
    assert ok(root.get(f"/identity/v3/roles/{made['role']}"))["role"]["id"] == made["role"]
    assert ok(root.get(f"/identity/v3/users/{made['user']}"))["user"]["default_project_id"] == made["project"]
    assert [u["id"] for u in ok(root.get(f"/identity/v3/groups/{made['group']}/users"))["users"]] == [made["user"]]
    assert root.head(f"/identity/v3/projects/{made['project']}/users/{made['user']}/roles/{made['role']}"
                     ).status_code == 204
    endpoint = ok(root.get(f"/identity/v3/endpoints/{made['endpoint']}"))["endpoint"]
    assert (endpoint["service_id"], endpoint["region_id"]) == (made["service"], made["region"])
    assert ok(root.get(f"/identity/v3/domains/{made['domain']}"))["domain"]["description"] == "a stack's"
    provider = ok(root.get(f"/network/v2.0/networks/{made['provider']}"))["network"]
    assert (provider["provider:network_type"], provider["provider:physical_network"],
            provider["provider:segmentation_id"], provider["router:external"], provider["shared"]) == (
        "vxlan", None, 3001, True, True)
    assert ok(root.get(f"/volume/v3/{project}/qos-specs/{made['qos']}"))["qos_specs"]["specs"] == {
        "total_iops_sec": "100"}
    # An object put into the container goes with it (PurgeOnDelete).
    assert root.put(f"/object-store/v1/AUTH_{project}/{made['bucket']}/note", content=b"hi").status_code == 201

    ok(http.delete(path), 204)
    assert settle(http, path)["stack_status"] == "DELETE_COMPLETE"
    assert root.get(f"/compute/v2.1/flavors/{made['flavor']}").status_code == 404
    assert root.get(f"/volume/v3/{project}/types/{made['vtype']}").status_code == 404
    assert root.head(f"/object-store/v1/AUTH_{project}/{made['bucket']}").status_code == 404
    assert root.get(f"/identity/v3/projects/{made['project']}").status_code == 404
    assert root.get(f"/identity/v3/roles/{made['role']}").status_code == 404
    assert root.get(f"/volume/v3/{project}/qos-specs/{made['qos']}").status_code == 404
    assert root.get(f"/network/v2.0/networks/{made['provider']}").status_code == 404
    for kind in ("domains", "groups", "users", "regions", "services", "endpoints"):
        assert root.get(f"/identity/v3/{kind}/{made[kind[:-1]]}").status_code == 404, kind

    # A member's stack acts with the member's rights: Nova refuses it a flavor.
    failed = heat.settle(heat.create({"heat_template_version": "2018-08-31", "resources": {"flavor": {
        "type": "OS::Nova::Flavor", "properties": {"ram": 64, "vcpus": 1}}}}))
    assert failed["stack_status"] == "CREATE_FAILED"
    assert "Forbidden: resources.flavor:" in failed["stack_status_reason"] and "403" in failed["stack_status_reason"]
