"""The leaks the isolation sweep found, each held by a test of its own."""

from __future__ import annotations

import uuid

import httpx

from tests.api.helpers import member_of_new_project, ok
from tests.hardening import cast
from tests.hardening.conftest import expired_token


def test_identity_answers_no_one_whether_an_id_exists(cloud, admin):
    """Users and projects: without a valid token 401 (it was 404 for a missing row, 401 for a real one);
    a caller the rule refuses gets 403 for both; the admin still gets 404 for what is missing."""
    project, user, token = member_of_new_project(cloud, admin)
    _, _, stranger = member_of_new_project(cloud, admin)
    missing = uuid.uuid4().hex
    for path in (f"/users/{user['id']}", f"/projects/{project['id']}", f"/users/{user['id']}/projects"):
        twin = path.replace(user["id"], missing).replace(project["id"], missing)
        for headers in ({}, {"X-Auth-Token": "not-a-token"}):
            answers = {httpx.get(f"{cloud.auth_url}/v3{p}", headers=headers, timeout=30).status_code
                       for p in (path, twin)}
            assert answers == {401}, (path, headers, answers)
        with cloud.client(stranger) as them:
            assert (them.get(path).status_code, them.get(twin).status_code) == (403, 403), path
        assert admin.get(twin).status_code == 404
    with cloud.client(token) as mine:
        ok(mine.get(f"/users/{user['id']}"))


def test_trusts_keep_keystones_404_for_the_missing(cloud, admin):
    """Keystone answers a trust that is gone with 404, even to a caller who may not see it."""
    _, _, token = member_of_new_project(cloud, admin)
    with cloud.client(token) as them:
        assert them.get(f"/OS-TRUST/trusts/{uuid.uuid4().hex}").status_code == 404
    assert httpx.get(f"{cloud.auth_url}/v3/OS-TRUST/trusts/{uuid.uuid4().hex}", timeout=30).status_code == 401


def test_network_agents_are_the_admins(cloud, admin):
    _, _, token = member_of_new_project(cloud, admin)
    agents = f"{cloud.url}/network/v2.0/agents"
    assert httpx.get(agents, headers={"X-Auth-Token": token}, timeout=30).status_code == 403
    assert httpx.get(agents, headers={"X-Auth-Token": cloud.token()}, timeout=30).status_code == 200


def test_orchestration_refuses_another_projects_url_everywhere(cloud, admin):
    """Resource types, template versions and functions and the build info name a project in their URL too:
    another project's is refused (Heat's tenant check), one's own answers."""
    mine, _, token = member_of_new_project(cloud, admin)
    theirs, _, _ = member_of_new_project(cloud, admin)
    for tail in ("resource_types", "resource_types/OS::Heat::RandomString", "template_versions",
                 "template_versions/heat_template_version.2018-08-31/functions", "build_info"):
        headers = {"X-Auth-Token": token}
        own = httpx.get(f"{cloud.url}/orchestration/v1/{mine['id']}/{tail}", headers=headers, timeout=30)
        assert own.status_code == 200, (tail, own.text)
        other = httpx.get(f"{cloud.url}/orchestration/v1/{theirs['id']}/{tail}", headers=headers, timeout=30)
        assert other.status_code == 403, (tail, other.text)


def test_image_schemas_need_a_token(cloud):
    for name in ("image", "images", "member", "members", "task", "tasks", "metadefs/namespace"):
        url = f"{cloud.url}/image/v2/schemas/{name}"
        assert httpx.get(url, timeout=30).status_code == 401, name
        assert httpx.get(url, headers={"X-Auth-Token": cloud.token()}, timeout=30).status_code == 200, name


def test_a_domain_reader_lists_only_its_domains_role_assignments(cloud, admin):
    """GET /v3/role_assignments answered a reader scoped to one domain with every assignment of the cloud
    (other domains' projects and users, the system's). Keystone's defaults show a domain's reader the
    assignments on its domain and on the domain's projects; the admin still sees all."""
    theirs, _, _ = member_of_new_project(cloud, admin)
    for role in ("reader", "admin"):
        d = cast.other_domain_user(cloud, admin, role)
        with cloud.client(d.token) as them:
            lines = ok(them.get("/role_assignments"))["role_assignments"]
            effective = ok(them.get("/role_assignments", params={"effective": "", "include_names": "1"}))
            asked = ok(them.get("/role_assignments", params={"scope.project.id": theirs["id"]}))
        scopes = {(k, v["id"]) for line in lines + effective["role_assignments"] for k, v in line["scope"].items()
                  if k in ("project", "domain")}
        if role == "admin":  # the admin role anywhere is Keystone's cloud admin: it sees the other domain too
            assert ("project", theirs["id"]) in scopes
            continue
        assert scopes == {("domain", d.domain["id"]), ("project", d.project["id"])}, lines
        assert not any("system" in line["scope"] for line in lines)
        assert asked["role_assignments"] == []
        assert theirs["id"] not in str(effective)
    everything = ok(admin.get("/role_assignments"))["role_assignments"]
    assert any(line["scope"].get("project", {}).get("id") == theirs["id"] for line in everything)


def test_a_token_that_no_longer_counts_learns_nothing_about_a_subject_token(cloud, admin):
    """GET /v3/auth/tokens with an expired X-Auth-Token answered 404 for a subject token that is not valid
    and 401 only for one that is: the subject was judged before the caller. Now 401 either way."""
    project, user, token = member_of_new_project(cloud, admin)
    expired = expired_token(cloud, user, project)
    for subject in (token, expired, "not-a-token"):
        for method in ("GET", "HEAD", "DELETE"):
            resp = httpx.request(method, f"{cloud.auth_url}/v3/auth/tokens", timeout=30,
                                 headers={"X-Auth-Token": expired, "X-Subject-Token": subject})
            assert resp.status_code == 401, (method, subject[:12], resp.status_code)
    with cloud.client(token) as mine:  # the subject token itself still counts
        ok(mine.get("/auth/tokens", headers={"X-Subject-Token": token}))
