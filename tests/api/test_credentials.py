"""/v3/credentials, OS-EC2, access rules, policy blobs and domain configuration: what a user keeps and who
else may see it."""

import json

import httpx

from tests.api.helpers import member_of_new_project, name, ok


def test_credentials_are_their_owners_and_ec2_ones_are_found_by_access_key(cloud, admin):
    project, user, token = member_of_new_project(cloud, admin)
    mine = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    _, other, other_token = member_of_new_project(cloud, admin)
    theirs = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": other_token})
    totp = ok(mine.post("/credentials", json={"credential": {"user_id": user["id"], "type": "totp", "blob": "b",
                                                             "note": "kept"}}), 201)["credential"]
    assert totp["note"] == "kept"
    assert mine.post("/credentials", json={"credential": {"user_id": other["id"], "type": "totp",
                                                          "blob": "b"}}).status_code == 403
    assert theirs.get(f"/credentials/{totp['id']}").status_code == 403
    assert [c["id"] for c in ok(theirs.get("/credentials"))["credentials"]] == []
    blob = json.dumps({"access": name("key"), "secret": "s"})
    body = {"credential": {"user_id": user["id"], "type": "ec2", "blob": blob}}
    assert mine.post("/credentials", json=body).status_code == 400  # an ec2 credential names its project
    body["credential"]["project_id"] = project["id"]
    ok(mine.post("/credentials", json=body), 201)
    assert mine.post("/credentials", json=body).status_code == 409  # the same access key twice
    assert mine.patch(f"/credentials/{totp['id']}", json={"credential": {"type": "ec2"}}).status_code == 400
    ec2 = ok(mine.post(f"/users/{user['id']}/credentials/OS-EC2", json={"tenant_id": project["id"]}), 201)
    access = ec2["credential"]["access"]
    assert ok(mine.get(f"/users/{user['id']}/credentials/OS-EC2/{access}"))["credential"]["tenant_id"] == project["id"]
    assert len(ok(mine.get(f"/users/{user['id']}/credentials/OS-EC2"))["credentials"]) == 2
    assert theirs.get(f"/users/{user['id']}/credentials/OS-EC2/{access}").status_code == 403
    ok(mine.delete(f"/users/{user['id']}/credentials/OS-EC2/{access}"), 204)
    assert mine.get(f"/users/{user['id']}/credentials/OS-EC2/{access}").status_code == 404
    ok(mine.delete(f"/credentials/{totp['id']}"), 204)


def test_an_access_rule_in_use_stays_until_its_credential_goes(cloud, admin):
    _, user, token = member_of_new_project(cloud, admin)
    mine = httpx.Client(base_url=f"{cloud.auth_url}/v3", headers={"X-Auth-Token": token})
    rule = {"service": "compute", "path": "/v2.1/servers", "method": "GET"}
    cred = ok(mine.post(f"/users/{user['id']}/application_credentials", json={"application_credential": {
        "name": name("ac"), "access_rules": [rule]}}), 201)["application_credential"]
    [listed] = ok(mine.get(f"/users/{user['id']}/access_rules"))["access_rules"]
    assert {k: listed[k] for k in rule} == rule and cred["access_rules"][0]["id"] == listed["id"]
    assert mine.delete(f"/users/{user['id']}/access_rules/{listed['id']}").status_code == 403
    ok(mine.delete(f"/users/{user['id']}/application_credentials/{cred['id']}"), 204)
    ok(mine.delete(f"/users/{user['id']}/access_rules/{listed['id']}"), 204)
    assert mine.get(f"/users/{user['id']}/access_rules/{listed['id']}").status_code == 404


def test_policy_blobs_keep_what_they_are_given(admin):
    policy = ok(admin.post("/policies", json={"policy": {"type": "application/json", "blob": "{}",
                                                         "owner": "ops"}}), 201)["policy"]
    changed = ok(admin.patch(f"/policies/{policy['id']}", json={"policy": {"blob": "{\"a\": 1}"}}))["policy"]
    assert changed["blob"] == "{\"a\": 1}" and changed["owner"] == "ops"
    assert policy["id"] in [p["id"] for p in ok(admin.get("/policies", params={"type": "application/json"}))[
        "policies"]]
    ok(admin.delete(f"/policies/{policy['id']}"), 204)
    assert admin.get(f"/policies/{policy['id']}").status_code == 404


def test_domain_config_by_group_and_option_hides_sensitive_options(admin):
    domain = ok(admin.post("/domains", json={"domain": {"name": name("d")}}), 201)["domain"]
    base = f"/domains/{domain['id']}/config"
    config = {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://a", "password": "hidden"}}
    assert ok(admin.put(base, json={"config": config}), 201)["config"] == {
        "identity": {"driver": "ldap"}, "ldap": {"url": "ldap://a"}}
    ok(admin.patch(f"{base}/ldap/url", json={"config": {"url": "ldap://b"}}))
    assert ok(admin.get(f"{base}/ldap/url"))["config"] == {"url": "ldap://b"}
    assert admin.get(f"{base}/ldap/user").status_code == 404
    assert admin.put(base, json={"config": {"bogus": {"x": 1}}}).status_code == 403
    assert admin.get("/domains/config/ldap/password/default").status_code == 403
    ok(admin.delete(f"{base}/ldap"), 204)
    assert ok(admin.get(base))["config"] == {"identity": {"driver": "ldap"}}
