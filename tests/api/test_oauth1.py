"""OS-OAUTH1 end to end, signed the way OAuth 1.0a clients sign (RFC 5849, HMAC-SHA1); domain configuration."""

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, unquote

import httpx

from tests.api.helpers import grant, make_project, make_user, ok


def _pct(value: str) -> str:
    return quote(value, safe="~")


def _oauth_header(method: str, url: str, consumer: tuple[str, str], token: tuple[str, str] = ("", ""),
                  **extra: str) -> dict:
    params = {"oauth_consumer_key": consumer[0], "oauth_nonce": secrets.token_hex(8),
              "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": str(int(time.time())),
              "oauth_version": "1.0", **extra}
    if token[0]:
        params["oauth_token"] = token[0]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params.items()))
    base = "&".join(_pct(x) for x in (method, url, normalized))
    key = f"{_pct(consumer[1])}&{_pct(token[1])}".encode()
    params["oauth_signature"] = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()
    return {"Authorization": "OAuth " + ", ".join(f'{_pct(k)}="{_pct(v)}"' for k, v in params.items())}


def _form(resp: httpx.Response) -> dict:
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/x-www-form-urlencoded")
    return {k: unquote(v) for k, v in (item.split("=", 1) for item in resp.text.split("&"))}


def test_oauth1_delegation_from_consumer_to_token(cloud, admin):
    project, user = make_project(admin), make_user(admin)
    grant(admin, project["id"], user["id"], "member")
    consumer = ok(admin.post("/OS-OAUTH1/consumers", json={"consumer": {"description": "app"}}), 201)["consumer"]
    keys = (consumer["id"], consumer["secret"])
    assert "secret" not in ok(admin.get(f"/OS-OAUTH1/consumers/{consumer['id']}"))["consumer"]

    base = f"{cloud.auth_url}/v3"
    url = f"{base}/OS-OAUTH1/request_token"
    forged = _oauth_header("POST", url, (keys[0], "wrong"), oauth_callback="oob")
    assert httpx.post(url, headers={**forged, "Requested-Project-Id": project["id"]}).status_code == 401
    request = _form(httpx.post(url, headers={**_oauth_header("POST", url, keys, oauth_callback="oob"),
                                             "Requested-Project-Id": project["id"]}))

    user_http = httpx.Client(base_url=base, headers={
        "X-Auth-Token": cloud.token(user["name"], "secret-pass-1", project["name"])})
    admin_role = ok(admin.get("/roles", params={"name": "admin"}))["roles"][0]["id"]
    refused = user_http.put(f"/OS-OAUTH1/authorize/{request['oauth_token']}", json={"roles": [{"id": admin_role}]})
    assert refused.status_code == 401  # only roles the user holds there
    verifier = ok(user_http.put(f"/OS-OAUTH1/authorize/{request['oauth_token']}",
                                json={"roles": [{"name": "member"}]}))["token"]["oauth_verifier"]

    url = f"{base}/OS-OAUTH1/access_token"
    request_keys = (request["oauth_token"], request["oauth_token_secret"])
    access = _form(httpx.post(url, headers=_oauth_header("POST", url, keys, request_keys, oauth_verifier=verifier)))
    again = httpx.post(url, headers=_oauth_header("POST", url, keys, request_keys, oauth_verifier=verifier))
    assert again.status_code == 401  # a request token is exchanged once

    url = f"{base}/auth/tokens"
    body = {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}}
    access_keys = (access["oauth_token"], access["oauth_token_secret"])
    resp = httpx.post(url, json=body, headers=_oauth_header("POST", url, keys, access_keys))
    token = ok(resp, 201)["token"]
    assert token["user"]["id"] == user["id"] and token["project"]["id"] == project["id"]
    assert token["OS-OAUTH1"] == {"access_token_id": access["oauth_token"], "consumer_id": consumer["id"]}
    assert "member" in [r["name"] for r in token["roles"]] and "admin" not in [r["name"] for r in token["roles"]]
    subject = resp.headers["X-Subject-Token"]
    rescope = {"auth": {"identity": {"methods": ["token"], "token": {"id": subject}}}}
    assert httpx.post(url, json=rescope).status_code == 403

    listed = ok(user_http.get(f"/users/{user['id']}/OS-OAUTH1/access_tokens"))["access_tokens"]
    assert [t["id"] for t in listed] == [access["oauth_token"]] and "secret" not in listed[0]
    check = {"X-Auth-Token": cloud.token(), "X-Subject-Token": subject}
    assert httpx.get(url, headers=check).status_code == 200
    ok(user_http.delete(f"/users/{user['id']}/OS-OAUTH1/access_tokens/{access['oauth_token']}"), 204)
    assert httpx.get(url, headers=check).status_code == 404  # the delegated token died with its access token
    ok(admin.delete(f"/OS-OAUTH1/consumers/{consumer['id']}"), 204)


def test_domain_configuration(admin):
    domain = ok(admin.post("/domains", json={"domain": {"name": f"d-{secrets.token_hex(4)}"}}), 201)["domain"]
    config = {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://x", "password": "hidden"}}
    path = f"/domains/{domain['id']}/config"
    assert ok(admin.put(path, json={"config": config}), 201)["config"] == {
        "identity": {"driver": "ldap"}, "ldap": {"url": "ldap://x"}}  # sensitive options are never shown
    assert admin.put(path, json={"config": {"nova": {"x": 1}}}).status_code == 403
    assert admin.patch(f"{path}/ldap", json={"config": {"ldap": {"bogus": 1}}}).status_code == 403
    ok(admin.patch(f"{path}/identity/driver", json={"config": {"driver": "sql"}}))
    assert ok(admin.get(f"{path}/identity/driver"))["config"] == {"driver": "sql"}
    ok(admin.delete(f"{path}/ldap"), 204)
    assert admin.get(f"{path}/ldap").status_code == 404
    assert ok(admin.get("/domains/config/identity/default"))["config"]["identity"]["driver"] == "sql"
    ok(admin.patch(f"/domains/{domain['id']}", json={"domain": {"enabled": False}}))
    ok(admin.delete(f"/domains/{domain['id']}"), 204)
    assert admin.get(path).status_code == 404
