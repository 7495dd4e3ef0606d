import httpx

from tests.api.helpers import grant, make_project, make_user, name, network_access, ok, role_id


def test_project_crud_and_conflict(admin):
    project = make_project(admin, description="d", tags=["a", "b"])
    assert project["domain_id"] == "default" and project["parent_id"] == "default"
    assert project["tags"] == ["a", "b"] and project["enabled"] is True
    assert admin.post("/projects", json={"project": {"name": project["name"]}}).status_code == 409
    updated = ok(admin.patch(f"/projects/{project['id']}", json={"project": {"description": "new"}}))["project"]
    assert updated["description"] == "new"
    assert ok(admin.get(f"/projects/{project['id']}"))["project"]["description"] == "new"
    ok(admin.delete(f"/projects/{project['id']}"), 204)
    assert admin.get(f"/projects/{project['id']}").status_code == 404


def test_project_hierarchy(admin):
    parent = make_project(admin)
    child = make_project(admin, parent_id=parent["id"])
    assert child["parent_id"] == parent["id"]
    body = ok(admin.get(f"/projects/{child['id']}", params={"parents_as_ids": ""}))
    assert body["project"]["parents"] == {parent["id"]: None}
    body = ok(admin.get(f"/projects/{parent['id']}", params={"subtree_as_list": ""}))
    assert [p["project"]["id"] for p in body["project"]["subtree"]] == [child["id"]]
    assert admin.delete(f"/projects/{parent['id']}").status_code == 403
    ok(admin.delete(f"/projects/{parent['id']}", params={"cascade": ""}), 204)
    assert admin.get(f"/projects/{child['id']}").status_code == 404


def test_project_tags_api(admin):
    project = make_project(admin)
    url = f"/projects/{project['id']}/tags"
    ok(admin.put(f"{url}/blue"), 201)
    ok(admin.put(url, json={"tags": ["red", "green"]}))
    assert ok(admin.get(url))["tags"] == ["red", "green"]
    ok(admin.get(f"{url}/red"), 204)
    assert admin.get(f"{url}/blue").status_code == 404
    listed = ok(admin.get("/projects", params={"tags": "red,green"}))["projects"]
    assert [p["id"] for p in listed] == [project["id"]]
    ok(admin.delete(url), 204)
    assert ok(admin.get(url))["tags"] == []


def test_domain_lifecycle(admin):
    domain = ok(admin.post("/domains", json={"domain": {"name": name("d")}}), 201)["domain"]
    project = make_project(admin, domain_id=domain["id"])
    assert project["domain_id"] == domain["id"]
    assert admin.delete(f"/domains/{domain['id']}").status_code == 403  # still enabled
    ok(admin.patch(f"/domains/{domain['id']}", json={"domain": {"enabled": False}}))
    ok(admin.delete(f"/domains/{domain['id']}"), 204)
    assert admin.get(f"/projects/{project['id']}").status_code == 404


def test_user_crud_hides_password_and_keeps_extra(admin):
    user = make_user(admin, email="a@example.org", favourite="tea")
    assert "password" not in user and user["email"] == "a@example.org" and user["favourite"] == "tea"
    assert admin.post("/users", json={"user": {"name": user["name"]}}).status_code == 409
    listed = ok(admin.get("/users", params={"name": user["name"]}))["users"]
    assert [u["id"] for u in listed] == [user["id"]]
    assert ok(admin.get("/users", params={"name__startswith": user["name"][:8]}))["users"]
    ok(admin.delete(f"/users/{user['id']}"), 204)
    assert admin.get(f"/users/{user['id']}").status_code == 404


def test_groups_and_group_roles(cloud, admin):
    project = make_project(admin)
    user = make_user(admin)
    group = ok(admin.post("/groups", json={"group": {"name": name("g")}}), 201)["group"]
    ok(admin.put(f"/groups/{group['id']}/users/{user['id']}"), 204)
    assert admin.head(f"/groups/{group['id']}/users/{user['id']}").status_code == 204
    assert [u["id"] for u in ok(admin.get(f"/groups/{group['id']}/users"))["users"]] == [user["id"]]
    assert [g["id"] for g in ok(admin.get(f"/users/{user['id']}/groups"))["groups"]] == [group["id"]]
    member = role_id(admin, "member")
    ok(admin.put(f"/projects/{project['id']}/groups/{group['id']}/roles/{member}"), 204)
    issued = cloud.issue(user["name"], "secret-pass-1", project["name"])
    assert issued.status_code == 201, issued.text
    assert "member" in {r["name"] for r in issued.json()["token"]["roles"]}
    assert network_access(cloud, issued.headers["X-Subject-Token"]) == (200, 201)  # the group's role works
    ok(admin.delete(f"/groups/{group['id']}/users/{user['id']}"), 204)
    assert cloud.issue(user["name"], "secret-pass-1", project["name"]).status_code == 401


def test_inherited_roles_reach_child_projects(cloud, admin):
    parent = make_project(admin)
    child = make_project(admin, parent_id=parent["id"])
    user = make_user(admin)
    reader = role_id(admin, "reader")
    ok(admin.put(f"/OS-INHERIT/projects/{parent['id']}/users/{user['id']}/roles/{reader}/inherited_to_projects"),
       204)
    assert cloud.issue(user["name"], "secret-pass-1", parent["name"]).status_code == 401
    issued = cloud.issue(user["name"], "secret-pass-1", child["name"])
    assert issued.status_code == 201, issued.text
    assert [r["name"] for r in issued.json()["token"]["roles"]] == ["reader"]
    assert network_access(cloud, issued.headers["X-Subject-Token"]) == (200, 403)  # it reads, it cannot write
    listed = ok(admin.get(f"/users/{user['id']}/projects"))["projects"]
    assert [p["id"] for p in listed] == [child["id"]]
    grandchild = make_project(admin, parent_id=child["id"])
    listed = ok(admin.get(f"/users/{user['id']}/projects"))["projects"]
    assert {p["id"] for p in listed} == {child["id"], grandchild["id"]}


def test_implied_roles_and_effective_assignments(admin):
    prior = ok(admin.post("/roles", json={"role": {"name": name("r")}}), 201)["role"]
    implied = ok(admin.post("/roles", json={"role": {"name": name("r")}}), 201)["role"]
    ok(admin.put(f"/roles/{prior['id']}/implies/{implied['id']}"), 201)
    ok(admin.head(f"/roles/{prior['id']}/implies/{implied['id']}"), 204)
    assert admin.put(f"/roles/{implied['id']}/implies/{prior['id']}").status_code == 403  # a loop
    project = make_project(admin)
    user = make_user(admin)
    ok(admin.put(f"/projects/{project['id']}/users/{user['id']}/roles/{prior['id']}"), 204)
    direct = ok(admin.get("/role_assignments", params={"user.id": user["id"]}))["role_assignments"]
    assert [a["role"]["id"] for a in direct] == [prior["id"]]
    effective = ok(admin.get("/role_assignments", params={"user.id": user["id"], "effective": "",
                                                          "include_names": ""}))["role_assignments"]
    assert {a["role"]["name"] for a in effective} == {prior["name"], implied["name"]}
    assert all(a["scope"]["project"]["name"] == project["name"] for a in effective)


def test_role_assignment_list_names_scopes(admin):
    project = make_project(admin)
    user = make_user(admin)
    grant(admin, project["id"], user["id"], "reader")
    body = ok(admin.get("/role_assignments", params={"scope.project.id": project["id"], "include_names": "1"}))
    [assignment] = body["role_assignments"]
    assert assignment["user"]["name"] == user["name"] and assignment["role"]["name"] == "reader"
    assert assignment["links"]["assignment"].endswith(
        f"/projects/{project['id']}/users/{user['id']}/roles/{assignment['role']['id']}")


def test_application_credential_auth_and_delete(cloud, admin):
    project = make_project(admin)
    user = make_user(admin)
    grant(admin, project["id"], user["id"], "member")
    token = cloud.token(user["name"], "secret-pass-1", project["name"])
    mine = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    cred = ok(mine.post(f"/users/{user['id']}/application_credentials",
                        json={"application_credential": {"name": "ci"}}), 201)["application_credential"]
    assert cred["secret"] and cred["project_id"] == project["id"]
    assert "secret" not in ok(mine.get(f"/users/{user['id']}/application_credentials/{cred['id']}"))[
        "application_credential"]
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}}
    issued = ok(httpx.post(f"{cloud.auth_url}/v3/auth/tokens", json=auth), 201)["token"]
    assert issued["application_credential"]["id"] == cred["id"]
    assert issued["project"]["id"] == project["id"]
    wrong = {"auth": {"identity": {"methods": ["application_credential"],
                                   "application_credential": {"id": cred["id"], "secret": "nope"}}}}
    assert httpx.post(f"{cloud.auth_url}/v3/auth/tokens", json=wrong).status_code == 401
    ok(mine.delete(f"/users/{user['id']}/application_credentials/{cred['id']}"), 204)
    assert httpx.post(f"{cloud.auth_url}/v3/auth/tokens", json=auth).status_code == 401


def test_catalog_crud(admin):
    region = ok(admin.post("/regions", json={"region": {"id": name("region")}}), 201)["region"]
    service = ok(admin.post("/services", json={"service": {"type": name("type"), "name": "svc"}}), 201)["service"]
    endpoint = ok(admin.post("/endpoints", json={"endpoint": {
        "service_id": service["id"], "interface": "public", "url": "http://127.0.0.1:9/x",
        "region_id": region["id"]}}), 201)["endpoint"]
    assert endpoint["region"] == region["id"]
    listed = ok(admin.get("/endpoints", params={"service_id": service["id"]}))["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert admin.post("/endpoints", json={"endpoint": {"service_id": "nope", "interface": "public",
                                                       "url": "http://x"}}).status_code == 400
    # As in Keystone, an endpoint brings its region into being.
    fresh = name("region")
    ok(admin.post("/endpoints", json={"endpoint": {"service_id": service["id"], "interface": "internal",
                                                   "url": "http://127.0.0.1:9/y", "region_id": fresh}}), 201)
    assert ok(admin.get(f"/regions/{fresh}"))["region"]["id"] == fresh
    ok(admin.delete(f"/services/{service['id']}"), 204)
    assert admin.get(f"/endpoints/{endpoint['id']}").status_code == 404
    ok(admin.delete(f"/regions/{region['id']}"), 204)
    ok(admin.delete(f"/regions/{fresh}"), 204)


def test_system_grants_and_role_inferences(cloud, admin):
    user = make_user(admin)
    reader = role_id(admin, "reader")
    ok(admin.put(f"/system/users/{user['id']}/roles/{reader}"), 204)
    ok(admin.get(f"/system/users/{user['id']}/roles/{reader}"), 204)
    assert [r["name"] for r in ok(admin.get(f"/system/users/{user['id']}/roles"))["roles"]] == ["reader"]
    scoped = cloud.issue(user["name"], "secret-pass-1", None, scope={"system": {"all": True}})
    assert ok(scoped, 201)["token"]["system"] == {"all": True}
    system = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": scoped.headers["X-Subject-Token"]})
    # the grant works: the system reader lists every project, and changes none
    someone_elses = make_project(admin)
    assert someone_elses["id"] in {p["id"] for p in ok(system.get("/projects"))["projects"]}
    assert system.post("/projects", json={"project": {"name": name("p")}}).status_code == 403
    ok(admin.delete(f"/system/users/{user['id']}/roles/{reader}"), 204)
    assert admin.get(f"/system/users/{user['id']}/roles/{reader}").status_code == 404
    # revoked: the token it had counts no more, and no new one is issued
    assert system.get("/projects").status_code == 401
    assert cloud.issue(user["name"], "secret-pass-1", None, scope={"system": {"all": True}}).status_code == 401
    inferences = {i["prior_role"]["name"]: {r["name"] for r in i["implies"]}
                  for i in ok(admin.get("/role_inferences"))["role_inferences"]}
    assert inferences["admin"] == {"member"} and inferences["member"] == {"reader"}
