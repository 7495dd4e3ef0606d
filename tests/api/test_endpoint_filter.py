import httpx

from tests.api.helpers import grant, make_project, make_user, name, ok


def test_policy_blobs(admin):
    policy = ok(admin.post("/policies", json={"policy": {"blob": '{"a": "b"}', "type": "application/json"}}),
                201)["policy"]
    ok(admin.patch(f"/policies/{policy['id']}", json={"policy": {"type": "text/plain"}}))
    assert ok(admin.get(f"/policies/{policy['id']}"))["policy"]["type"] == "text/plain"
    assert policy["id"] in {p["id"] for p in ok(admin.get("/policies"))["policies"]}
    ok(admin.delete(f"/policies/{policy['id']}"), 204)
    assert admin.get(f"/policies/{policy['id']}").status_code == 404
    assert admin.post("/policies", json={"policy": {"type": "x"}}).status_code == 400


def test_endpoint_group_narrows_a_projects_catalog(cloud, admin):
    service = ok(admin.post("/services", json={"service": {"type": name("svc"), "name": "narrow"}}), 201)["service"]
    endpoint = ok(admin.post("/endpoints", json={"endpoint": {
        "service_id": service["id"], "interface": "public", "url": "http://127.0.0.1:9/narrow",
        "region_id": "RegionOne"}}), 201)["endpoint"]
    group = ok(admin.post("/OS-EP-FILTER/endpoint_groups", json={"endpoint_group": {
        "name": name("eg"), "filters": {"service_id": service["id"]}}}), 201)["endpoint_group"]
    assert admin.head(f"/OS-EP-FILTER/endpoint_groups/{group['id']}").status_code == 200
    listed = ok(admin.get(f"/OS-EP-FILTER/endpoint_groups/{group['id']}/endpoints"))["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]

    project = make_project(admin)
    user = make_user(admin)
    grant(admin, project["id"], user["id"])

    def catalog_types() -> set[str]:
        token = ok(cloud.issue(user["name"], "secret-pass-1", project["name"]), 201)["token"]
        return {s["type"] for s in token["catalog"] if s["endpoints"]}

    assert {"identity", service["type"]} <= catalog_types()  # nothing associated: the whole catalog
    ok(admin.put(f"/OS-EP-FILTER/endpoint_groups/{group['id']}/projects/{project['id']}"), 204)
    assert catalog_types() == {service["type"]}
    groups = ok(admin.get(f"/OS-EP-FILTER/projects/{project['id']}/endpoint_groups"))["endpoint_groups"]
    assert [g["id"] for g in groups] == [group["id"]]
    ok(admin.delete(f"/OS-EP-FILTER/endpoint_groups/{group['id']}/projects/{project['id']}"), 204)
    assert "identity" in catalog_types()

    identity = next(s for s in ok(admin.get("/services", params={"type": "identity"}))["services"])
    keystone = ok(admin.get("/endpoints", params={"service_id": identity["id"], "interface": "public"}))["endpoints"][0]
    ok(admin.put(f"/OS-EP-FILTER/projects/{project['id']}/endpoints/{keystone['id']}"), 204)
    assert admin.head(f"/OS-EP-FILTER/projects/{project['id']}/endpoints/{keystone['id']}").status_code == 204
    assert catalog_types() == {"identity"}
    projects = ok(admin.get(f"/OS-EP-FILTER/endpoints/{keystone['id']}/projects"))["projects"]
    assert project["id"] in {p["id"] for p in projects}
    ok(admin.delete(f"/OS-EP-FILTER/projects/{project['id']}/endpoints/{keystone['id']}"), 204)
    ok(admin.delete(f"/OS-EP-FILTER/endpoint_groups/{group['id']}"), 204)
    ok(admin.delete(f"/services/{service['id']}"), 204)
    assert httpx.get(f"{cloud.auth_url}/v3/OS-EP-FILTER/endpoint_groups").status_code == 401
