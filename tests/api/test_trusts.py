import datetime

import httpx

from tests.api.helpers import grant, make_project, make_user, ok


def _setup(cloud, admin):
    project = make_project(admin)
    trustor, trustee = make_user(admin), make_user(admin)
    grant(admin, project["id"], trustor["id"], "member")
    token = cloud.token(trustor["name"], "secret-pass-1", project["name"])
    http = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    return project, trustor, trustee, http


def _trust_token(cloud, trustee, trust_id) -> httpx.Response:
    return cloud.issue(trustee["name"], "secret-pass-1", scope={"OS-TRUST:trust": {"id": trust_id}})


def test_trust_lifecycle_and_trust_scoped_tokens(cloud, admin):
    project, trustor, trustee, http = _setup(cloud, admin)
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).replace(microsecond=0)
    body = {"trust": {"trustor_user_id": trustor["id"], "trustee_user_id": trustee["id"],
                      "project_id": project["id"], "impersonation": True, "roles": [{"name": "reader"}],
                      "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), "remaining_uses": 2}}
    trust = ok(http.post("/OS-TRUST/trusts", json=body), 201)["trust"]
    assert trust["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert [r["name"] for r in trust["roles"]] == ["reader"]
    assert ok(http.get(f"/OS-TRUST/trusts/{trust['id']}/roles"))["roles"][0]["name"] == "reader"
    member = ok(admin.get("/roles", params={"name": "member"}))["roles"][0]["id"]
    assert http.get(f"/OS-TRUST/trusts/{trust['id']}/roles/{member}").status_code == 404

    issued = ok(_trust_token(cloud, trustee, trust["id"]), 201)["token"]
    assert issued["user"]["id"] == trustor["id"]  # impersonation
    assert issued["OS-TRUST:trust"]["trustee_user"]["id"] == trustee["id"]
    assert [r["name"] for r in issued["roles"]] == ["reader"]  # never more than delegated
    assert _trust_token(cloud, trustee, trust["id"]).status_code == 201
    assert _trust_token(cloud, trustee, trust["id"]).status_code == 403  # both uses spent
    assert _trust_token(cloud, trustor, trust["id"]).status_code == 403  # only the trustee

    listed = ok(http.get("/OS-TRUST/trusts", params={"trustor_user_id": trustor["id"]}))["trusts"]
    assert [t["id"] for t in listed] == [trust["id"]]
    ok(http.delete(f"/OS-TRUST/trusts/{trust['id']}"), 204)
    assert http.get(f"/OS-TRUST/trusts/{trust['id']}").status_code == 404


def test_trust_token_dies_with_the_trust_and_respects_trustor_roles(cloud, admin):
    project, trustor, trustee, http = _setup(cloud, admin)
    body = {"trust": {"trustor_user_id": trustor["id"], "trustee_user_id": trustee["id"],
                      "project_id": project["id"], "impersonation": False, "roles": [{"name": "member"}]}}
    trust = ok(http.post("/OS-TRUST/trusts", json=body), 201)["trust"]
    resp = _trust_token(cloud, trustee, trust["id"])
    token = ok(resp, 201)["token"]
    assert token["user"]["id"] == trustee["id"] and token["project"]["id"] == project["id"]
    subject = resp.headers["X-Subject-Token"]
    check = {"X-Auth-Token": cloud.token(), "X-Subject-Token": subject}
    url = f"{cloud.auth_url}/v3/auth/tokens"
    assert httpx.get(url, headers=check).status_code == 200
    ok(http.delete(f"/OS-TRUST/trusts/{trust['id']}"), 204)
    assert httpx.get(url, headers=check).status_code == 404


def test_trusts_refuse_what_the_trustor_cannot_give(cloud, admin):
    project, trustor, trustee, http = _setup(cloud, admin)
    base = {"trustor_user_id": trustor["id"], "trustee_user_id": trustee["id"], "project_id": project["id"],
            "impersonation": False}
    assert http.post("/OS-TRUST/trusts", json={"trust": {**base, "roles": [{"name": "admin"}]}}).status_code == 403
    assert http.post("/OS-TRUST/trusts", json={"trust": {**base, "expires_at": "bad.123Z"}}).status_code == 400
    other = {**base, "trustor_user_id": trustee["id"], "trustee_user_id": trustor["id"]}
    assert http.post("/OS-TRUST/trusts", json={"trust": other}).status_code == 403  # not the caller's to give
