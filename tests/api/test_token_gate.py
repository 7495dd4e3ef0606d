"""The token gate (``onestack.http.routing``): as keystonemiddleware does in front of every OpenStack service,
a call without a valid token is answered 401 before its route, method, microversion or body is looked at;
public routes stay public.  Also: route patterns match the whole path."""

from __future__ import annotations

import datetime
import time
import uuid

import httpx
import pytest

from tests.api.helpers import make_user, member_of_new_project, name, ok

# Calls that a valid token gets refused for what they say (their status with the admin's token), and that
# no token, a wrong one or an expired one must get a 401 for, before anything else.
REFUSED_FOR_WHAT_THEY_SAY = [
    # an unknown path under an authenticated prefix
    ("GET", "/compute/v2.1/no-such-thing", {}, None, 404),
    ("GET", "/network/v2.0/no-such-thing", {}, None, 404),
    ("GET", "/image/v2/no-such-thing", {}, None, 404),
    ("GET", "/volume/v3/no/such/thing", {}, None, 404),
    ("GET", "/placement/no-such-thing", {}, None, 404),
    ("GET", "/orchestration/v1/no/such/thing/here/either", {}, None, 404),
    # a body the route's schema refuses
    ("POST", "/compute/v2.1/os-keypairs", {}, {"keypair": {"name": "ok", "colour": "red"}}, 400),
    ("PUT", "/network/v2.0/networks/{uuid}", {}, {"network": {"no_such_attribute": 1}}, 400),
    ("POST", "/volume/v3/types", {}, {"volume_type": {}}, 400),
    # a method the route does not take
    ("DELETE", "/compute/v2.1/flavors", {}, None, 405),
    ("PATCH", "/network/v2.0/networks", {}, None, 405),
    # a media type the route refuses
    ("PATCH", "/image/v2/images/{uuid}", {"Content-Type": "application/json"}, [], 415),
    # a route newer than the negotiated microversion
    ("GET", "/placement/traits", {"OpenStack-API-Version": "placement 1.0"}, None, 404),
    ("GET", "/compute/v2.1/servers/{uuid}/tags", {"OpenStack-API-Version": "compute 2.1"}, None, 404),
    # a version the service does not have
    ("GET", "/compute/v2.1/servers", {"OpenStack-API-Version": "compute 9.99"}, None, 406),
]

WWW_AUTHENTICATE = 'Keystone uri="{}/identity"'

FAULT_KEYS = {"compute": {"unauthorized"}, "network": {"NeutronError"}, "image": {"code", "title", "message"},
              "volume": {"unauthorized"}, "placement": {"errors"}, "orchestration": {"code", "title", "explanation",
                                                                                    "error"}}


@pytest.fixture(scope="module")
def expired_token(cloud) -> str:
    """A token that expired: issued from an application credential that lives two seconds."""
    with cloud.client() as admin:
        project, user, token = member_of_new_project(cloud, admin)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2)
    with cloud.client(token) as mine:
        cred = ok(mine.post(f"/users/{user['id']}/application_credentials", json={"application_credential": {
            "name": name("short"), "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%f")}}), 201)
    body = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": cred["application_credential"]["id"], "secret": cred["application_credential"]["secret"]}}}}
    issued = httpx.post(f"{cloud.auth_url}/v3/auth/tokens", json=body, timeout=30)
    assert issued.status_code == 201, issued.text
    token = issued.headers["X-Subject-Token"]
    assert ok(httpx.get(f"{cloud.url}/compute/v2.1/flavors", headers={"X-Auth-Token": token}, timeout=30))
    time.sleep(max(0.0, expires.timestamp() - time.time()) + 1)  # the clock itself is the condition
    return token


def _send(cloud, method, path, headers, body, token):
    url = cloud.url + path.replace("{uuid}", uuid.uuid4().hex)
    sent = {**headers, **({"X-Auth-Token": token} if token else {})}
    return httpx.request(method, url, headers=sent, json=body, timeout=30)


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), REFUSED_FOR_WHAT_THEY_SAY,
                         ids=[f"{m} {p} {s}" for m, p, _, _, s in REFUSED_FOR_WHAT_THEY_SAY])
def test_no_valid_token_is_401_before_anything_else(cloud, expired_token, method, path, headers, body, status):
    assert _send(cloud, method, path, headers, body, cloud.token()).status_code == status
    service = path.split("/")[1]
    for token in (None, "", "not-a-token", expired_token):
        resp = _send(cloud, method, path, headers, body, token)
        assert resp.status_code == 401, (token, resp.text)
        assert resp.headers["WWW-Authenticate"] == WWW_AUTHENTICATE.format(cloud.url)
        assert set(resp.json()) == FAULT_KEYS[service], resp.text


def test_a_revoked_token_is_401_before_the_body(cloud, admin):
    _, _, token = member_of_new_project(cloud, admin)
    revoked = httpx.delete(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": cloud.token(),
                                                                         "X-Subject-Token": token}, timeout=30)
    assert revoked.status_code == 204
    resp = _send(cloud, "POST", "/compute/v2.1/os-keypairs", {}, {"keypair": {"colour": "red"}}, token)
    assert resp.status_code == 401 and resp.json()["unauthorized"]["code"] == 401


@pytest.mark.parametrize("path", ["/compute/", "/compute/v2.1", "/compute/v2.1/", "/network/", "/network/v2.0",
                                  "/image/", "/image/versions", "/volume/", "/volume/v3/", "/placement/",
                                  "/orchestration/", "/identity/", "/identity/v3", "/object-store/info",
                                  "/compute/openapi.json", "/identity/openapi.json"])
def test_discovery_stays_public(cloud, path):
    for token in (None, "not-a-token"):
        resp = httpx.get(cloud.url + path, headers={"X-Auth-Token": token} if token else {}, timeout=30)
        assert resp.status_code in (200, 300), (path, token, resp.status_code)
        assert resp.json()


def test_keystone_routes_first_and_its_own_credentials_need_no_token(cloud, admin):
    """Keystone has no keystonemiddleware in front: an unknown path is its 404, a known route's 401 comes
    before its body; issuing a token and changing one's password take their own credentials."""
    unknown = httpx.get(f"{cloud.auth_url}/v3/no-such-thing", timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404
    patch = httpx.patch(f"{cloud.auth_url}/v3/projects/{uuid.uuid4().hex}", json={"project": 5}, timeout=30)
    assert patch.status_code == 401 and patch.json()["error"]["code"] == 401
    assert patch.headers["WWW-Authenticate"] == WWW_AUTHENTICATE.format(cloud.url)
    assert admin.patch(f"/projects/{uuid.uuid4().hex}", json={"project": 5}).status_code == 400
    user = make_user(admin)
    change = {"user": {"original_password": "secret-pass-1", "password": "secret-pass-2"}}
    assert httpx.post(f"{cloud.auth_url}/v3/users/{user['id']}/password", json=change, timeout=30).status_code == 204
    assert cloud.issue(user["name"], "secret-pass-2", project=None).status_code == 201


def test_swift_authorizes_before_refusing_account_management(cloud, admin):
    """Swift's proxy authorizes before its handler: an anonymous PUT or DELETE of an account is a 401, the
    owner's the 405 of ``allow_account_management = false``."""
    project, _, token = member_of_new_project(cloud, admin)
    account = f"{cloud.url}/object-store/v1/AUTH_{project['id']}"
    for method in ("PUT", "DELETE"):
        assert httpx.request(method, account, timeout=30).status_code == 401
        assert httpx.request(method, account, headers={"X-Auth-Token": "not-a-token"}, timeout=30).status_code == 401
        assert httpx.request(method, account, headers={"X-Auth-Token": token}, timeout=30).status_code == 405


WHOLE_PATHS = ["/compute/v2.1/flavors", "/compute/v2.1/os-keypairs", "/network/v2.0/networks", "/image/v2/images",
               "/volume/v3/types", "/placement/resource_providers", "/orchestration/v1/{project}/stacks",
               "/identity/v3/projects"]


@pytest.mark.parametrize("path", WHOLE_PATHS)
@pytest.mark.parametrize("tail", ["%0A", "%0a", "%0A/detail"])
def test_a_route_matches_the_whole_path(cloud, path, tail):
    """Starlette's ``$`` matches before a final newline and its mounts' ``.*`` stops at one: ``/flavors%0A``
    must not be the flavors, and whatever holds a newline is answered by its service, in its shape."""
    token = cloud.token()
    project = httpx.get(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": token,
                                                                      "X-Subject-Token": token}, timeout=30)
    url = cloud.url + path.format(project=project.json()["token"]["project"]["id"])
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "placement latest"}
    assert httpx.get(url, headers=headers, timeout=30).status_code == 200
    resp = httpx.get(url + tail, headers=headers, timeout=30)
    assert resp.status_code == 404, (path, tail, resp.status_code, resp.text[:200])
    assert resp.json(), resp.text  # the service's fault, not a bare page
    anonymous = httpx.get(url + tail, timeout=30)
    assert anonymous.status_code == (404 if path.startswith("/identity") else 401), anonymous.text


def test_an_object_name_ending_in_a_newline_is_not_the_name_without(cloud, admin):
    """Swift takes any UTF-8 but NUL in a name: ``o\\n`` is an object of its own, never ``o``."""
    project, _, token = member_of_new_project(cloud, admin)
    headers = {"X-Auth-Token": token}
    container = f"{cloud.url}/object-store/v1/AUTH_{project['id']}/c"
    assert httpx.put(container, headers=headers, timeout=30).status_code == 201
    assert httpx.put(f"{container}/o%0A", headers=headers, content=b"x", timeout=30).status_code == 201
    assert httpx.get(f"{container}/o", headers=headers, timeout=30).status_code == 404
    assert httpx.get(f"{container}/o%0A", headers=headers, timeout=30).content == b"x"
    listed = httpx.get(container, headers={**headers, "Accept": "application/json"}, timeout=30).json()
    assert [entry["name"] for entry in listed] == ["o\n"]


# Each service's root is version discovery, outside keystonemiddleware for every method: Nova's api-paste maps
# ``/`` to a pipeline without authtoken whose Versions app answers any method with its document (its dispatch
# reads only the path), as Glance's, Cinder's and Heat's version apps answer 300 whatever the method; Neutron's
# root controller refuses other methods with 405 and Placement lets ``/`` past its auth by path and routes
# it to a 405.  A token changes nothing.
ROOT_WHATEVER_THE_METHOD = {"/compute/": 200, "/image/": 300, "/volume/": 300, "/orchestration/": 300,
                            "/network/": 405, "/placement/": 405}


@pytest.mark.parametrize("root", sorted(ROOT_WHATEVER_THE_METHOD))
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_service_root_answers_every_method_as_openstack_does_token_or_not(cloud, root, method):
    expected = ROOT_WHATEVER_THE_METHOD[root]
    for token in (None, "not-a-token", cloud.token()):
        resp = httpx.request(method, cloud.url + root, headers={"X-Auth-Token": token} if token else {},
                             timeout=30)
        assert resp.status_code == expected, (method, root, token is not None, resp.text)
        if expected == 405:
            assert "WWW-Authenticate" not in resp.headers
        else:
            assert resp.json()["versions"], resp.text
    # a path under the root in no API version: Nova's and Glance's version apps answer it (below), the
    # others' keystonemiddleware asks a token first
    expected = 300 if root in ("/compute/", "/image/") else 401
    assert httpx.request(method, cloud.url + root + "v9/nothing", timeout=30).status_code == expected


# A path under the prefix outside every API version, without a token, a bad one or a good one, whatever the
# method: Nova's urlmap sends all but /v2.1 and /v2 to its versions app, whose `multi` answers 300 with its
# choices (each linking the path under v2); Glance's version negotiation, ahead of keystonemiddleware, answers
# a first segment naming no version it serves with its 300 version list, and /versions/... with the 200 one.
OUTSIDE_THE_VERSIONS = [
    ("/compute/foo", 300, "choices"), ("/compute/v3/servers", 300, "choices"),
    ("/compute/v2.10/servers", 300, "choices"), ("/compute/openapi.json/more", 300, "choices"),
    ("/image/foo", 300, "versions"), ("/image/v1/images", 300, "versions"), ("/image/v2.99/images", 300, "versions"),
    ("/image/versions/more", 200, "versions"),
]


@pytest.mark.parametrize(("path", "status", "key"), OUTSIDE_THE_VERSIONS)
def test_a_path_outside_the_api_versions_gets_the_version_document_as_nova_and_glance_answer(
        cloud, expired_token, path, status, key):
    for method in ("GET", "POST", "DELETE"):
        for token in (None, "not-a-token", expired_token, cloud.token()):
            resp = httpx.request(method, cloud.url + path, headers={"X-Auth-Token": token} if token else {},
                                 timeout=30)
            assert resp.status_code == status, (method, path, token is not None, resp.text)
            assert "WWW-Authenticate" not in resp.headers
            assert resp.json()[key], resp.text
    if key == "choices":
        choices = resp.json()["choices"]
        assert [c["id"] for c in choices] == ["v2.0", "v2.1"]
        rest = path.removeprefix("/compute/")
        assert {link["href"] for c in choices for link in c["links"]} == {f"{cloud.url}/compute/v2/{rest}"}
        assert [c["media-types"][0]["type"] for c in choices] == [
            "application/vnd.openstack.compute+json;version=2", "application/vnd.openstack.compute+json;version=2.1"]
    else:
        assert "v2.16" in [v["id"] for v in resp.json()["versions"]]


@pytest.mark.parametrize("path", ["/compute/v2.1/foo", "/compute/v2/foo", "/image/v2/foo", "/image/v2.3/foo",
                                  "/network/foo", "/volume/foo", "/placement/foo", "/orchestration/foo"])
def test_a_path_inside_an_api_version_or_another_service_still_needs_a_token(cloud, path):
    resp = httpx.get(cloud.url + path, timeout=30)
    assert resp.status_code == 401, resp.text
    assert resp.headers["WWW-Authenticate"].startswith("Keystone uri=")
