import httpx

from tests.api.helpers import make_project, member_of_new_project, name, ok


def _service(admin) -> dict:
    return ok(admin.post("/services", json={"service": {"type": name("svc")}}), 201)["service"]


def test_registered_and_project_limits(cloud, admin):
    service = _service(admin)
    registered = ok(admin.post("/registered_limits", json={"registered_limits": [
        {"service_id": service["id"], "region_id": "RegionOne", "resource_name": "cores", "default_limit": 10}]}),
        201)["registered_limits"][0]
    assert registered["default_limit"] == 10 and registered["region_id"] == "RegionOne"
    again = {"registered_limits": [{"service_id": service["id"], "region_id": "RegionOne",
                                    "resource_name": "cores", "default_limit": 5}]}
    assert admin.post("/registered_limits", json=again).status_code == 409

    project, _, token = member_of_new_project(cloud, admin)
    other = make_project(admin)
    body = {"limits": [{"service_id": service["id"], "region_id": "RegionOne", "project_id": project["id"],
                        "resource_name": "cores", "resource_limit": 20},
                       {"service_id": service["id"], "region_id": "RegionOne", "project_id": other["id"],
                        "resource_name": "cores", "resource_limit": 1}]}
    mine, theirs = ok(admin.post("/limits", json=body), 201)["limits"]
    assert mine["project_id"] == project["id"] and mine["resource_limit"] == 20
    unregistered = {"limits": [{"service_id": service["id"], "project_id": project["id"],
                                "resource_name": "ram", "resource_limit": 1}]}
    assert admin.post("/limits", json=unregistered).status_code == 403
    assert admin.delete(f"/registered_limits/{registered['id']}").status_code == 403  # still referred to

    member = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    assert [m["id"] for m in ok(member.get("/limits"))["limits"]] == [mine["id"]]
    assert member.get(f"/limits/{theirs['id']}").status_code == 403
    assert member.patch(f"/limits/{mine['id']}", json={"limit": {"resource_limit": 99}}).status_code == 403
    assert ok(member.get("/limits/model"))["model"]["name"] == "flat"
    assert ok(member.get("/registered_limits", params={"service_id": service["id"]}))["registered_limits"]

    ok(admin.patch(f"/limits/{mine['id']}", json={"limit": {"resource_limit": 30}}))
    assert ok(admin.get(f"/limits/{mine['id']}"))["limit"]["resource_limit"] == 30
    for limit in (mine, theirs):
        ok(admin.delete(f"/limits/{limit['id']}"), 204)
    ok(admin.delete(f"/registered_limits/{registered['id']}"), 204)
    ok(admin.delete(f"/services/{service['id']}"), 204)


def test_limit_bodies_are_validated(admin):
    service = _service(admin)
    bad = [{"registered_limits": []},
           {"registered_limits": [{"service_id": service["id"], "resource_name": "x", "default_limit": "ten"}]},
           {"registered_limits": [{"service_id": service["id"], "resource_name": "x", "default_limit": -2}]},
           {"registered_limits": [{"service_id": "nope", "resource_name": "x", "default_limit": 1}]}]
    for body in bad:
        assert admin.post("/registered_limits", json=body).status_code == 400, body
    ok(admin.delete(f"/services/{service['id']}"), 204)
