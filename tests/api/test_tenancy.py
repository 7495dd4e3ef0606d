"""Tenants are walls: what a project member, reader and domain reader may and may not do."""

import httpx
import pytest

from tests.api.helpers import make_project, make_user, member_of_new_project, name, network_access, ok


@pytest.fixture
def member(cloud, admin):
    project, user, token = member_of_new_project(cloud, admin)
    with httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token}) as http:
        yield project, user, http


def test_member_cannot_see_other_projects_or_users(admin, member):
    project, user, http = member
    other_project = make_project(admin)
    other_user = make_user(admin)
    assert http.get(f"/projects/{project['id']}").status_code == 200
    assert http.get(f"/projects/{other_project['id']}").status_code == 403
    assert http.get(f"/users/{user['id']}").status_code == 200
    assert http.get(f"/users/{other_user['id']}").status_code == 403
    assert http.get("/users").status_code == 403
    assert http.get("/projects").status_code == 403
    assert http.get("/role_assignments").status_code == 403


def test_member_cannot_change_anything_it_does_not_own(admin, member):
    project, user, http = member
    other_user = make_user(admin)
    assert http.post("/projects", json={"project": {"name": "mine"}}).status_code == 403
    assert http.patch(f"/projects/{project['id']}", json={"project": {"description": "x"}}).status_code == 403
    assert http.patch(f"/users/{other_user['id']}", json={"user": {"enabled": False}}).status_code == 403
    assert http.delete(f"/users/{other_user['id']}").status_code == 403
    admin_role = ok(admin.get("/roles", params={"name": "admin"}))["roles"][0]["id"]
    grant = f"/projects/{project['id']}/users/{user['id']}/roles/{admin_role}"
    assert http.put(grant).status_code == 403
    assert http.post("/roles", json={"role": {"name": "sneaky"}}).status_code == 403
    assert http.post("/services", json={"service": {"type": "x"}}).status_code == 403


def test_member_cannot_read_or_revoke_someone_elses_token(cloud, member):
    _, _, http = member
    admin_token = cloud.token()
    resp = http.get("/auth/tokens", headers={"X-Subject-Token": admin_token})
    assert resp.status_code == 403
    assert http.delete("/auth/tokens", headers={"X-Subject-Token": admin_token}).status_code == 403
    assert httpx.get(f"{cloud.auth_url}/v3/users", headers={"X-Auth-Token": admin_token}).status_code == 200


def test_member_cannot_touch_another_users_credentials(cloud, admin, member):
    _, _, http = member
    other_project, other_user, _ = member_of_new_project(cloud, admin)
    assert http.get(f"/users/{other_user['id']}/application_credentials").status_code == 403
    assert http.post(f"/users/{other_user['id']}/application_credentials",
                     json={"application_credential": {"name": "x"}}).status_code == 403
    assert http.post("/credentials", json={"credential": {"user_id": other_user["id"], "type": "ec2",
                                                          "blob": "{}", "project_id": other_project["id"]}}
                     ).status_code == 403


def test_reader_reads_its_project_only(cloud, admin):
    project, _, token = member_of_new_project(cloud, admin, role="reader")
    http = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    assert http.get(f"/projects/{project['id']}").status_code == 200
    assert http.patch(f"/projects/{project['id']}", json={"project": {"name": "x"}}).status_code == 403


def test_system_reader_reads_everything_and_changes_nothing(cloud, admin):
    user = make_user(admin)
    reader = ok(admin.get("/roles", params={"name": "reader"}))["roles"][0]["id"]
    ok(admin.put(f"/system/users/{user['id']}/roles/{reader}"), 204)
    token = cloud.token(user["name"], "secret-pass-1", scope={"system": {"all": True}})
    http = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    assert http.get("/users").status_code == 200
    assert http.get("/projects").status_code == 200
    assert http.post("/projects", json={"project": {"name": "x"}}).status_code == 403
    assert http.delete(f"/users/{user['id']}").status_code == 403


def domain_user_with(cloud, admin, role: str) -> tuple[dict, httpx.Client]:
    """A new domain, a user of it holding ``role`` on it, and a client with that user's domain-scoped token."""
    domain = ok(admin.post("/domains", json={"domain": {"name": name("d")}}), 201)["domain"]
    user = make_user(admin, domain_id=domain["id"])
    role_id = ok(admin.get("/roles", params={"name": role}))["roles"][0]["id"]
    ok(admin.put(f"/domains/{domain['id']}/users/{user['id']}/roles/{role_id}"), 204)
    token = cloud.token(user["name"], "secret-pass-1", domain=domain["name"], scope={"domain": {"id": domain["id"]}})
    return domain, httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})


def test_domain_reader_sees_only_its_domain(cloud, admin):
    domain, http = domain_user_with(cloud, admin, "reader")
    users = ok(http.get("/users"))["users"]
    assert {u["domain_id"] for u in users} == {domain["id"]}
    assert http.get("/users", params={"domain_id": "default"}).status_code == 403


def test_no_token_is_401_and_bad_token_is_401(cloud):
    assert httpx.get(f"{cloud.auth_url}/v3/users").status_code == 401
    resp = httpx.get(f"{cloud.auth_url}/v3/users", headers={"X-Auth-Token": "gAAAAA-not-a-token"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == 401


def test_domain_manager_runs_its_domain_but_cannot_hand_out_admin(cloud, admin):
    domain, http = domain_user_with(cloud, admin, "manager")
    project = ok(http.post("/projects", json={"project": {"name": "managed", "domain_id": domain["id"]}}),
                 201)["project"]
    staff = ok(http.post("/users", json={"user": {"name": "staff", "domain_id": domain["id"],
                                                  "password": "staff-pass-1"}}), 201)["user"]
    member = ok(admin.get("/roles", params={"name": "member"}))["roles"][0]["id"]
    admin_role = ok(admin.get("/roles", params={"name": "admin"}))["roles"][0]["id"]
    ok(http.put(f"/projects/{project['id']}/users/{staff['id']}/roles/{member}"), 204)
    staff_token = cloud.token("staff", "staff-pass-1", project["name"], domain=domain["name"])
    assert network_access(cloud, staff_token) == (200, 201)  # the manager's grant makes a working member
    assert http.put(f"/projects/{project['id']}/users/{staff['id']}/roles/{admin_role}").status_code == 403
    assert http.post("/projects", json={"project": {"name": "elsewhere", "domain_id": "default"}}).status_code == 403
    assert http.post("/users", json={"user": {"name": "x", "domain_id": "default"}}).status_code == 403
