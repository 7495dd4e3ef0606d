"""Bad input gets a clear 4xx in Keystone's error shape, never a 5xx."""

import httpx
import pytest

from tests.api.helpers import make_user

CASES = [
    ("POST", "/projects", b"{not json"),
    ("POST", "/projects", b'{"project": {"name": 42}}'),
    ("POST", "/projects", b'{"project": {}}'),
    ("POST", "/projects", b'{"project": {"name": "x"}, "surprise": 1}'),
    ("POST", "/projects", b'[]'),
    ("POST", "/projects", b''),
    ("POST", "/users", b'{"user": {"name": "x", "enabled": "yes"}}'),
    ("POST", "/users", b'{"user": {"name": "x", "options": {"bogus": true}}}'),
    ("POST", "/roles", b'{"role": {"name": ""}}'),
    ("POST", "/domains", b'{"domain": {"name": "x", "tags": ["a/b"]}}'),
    ("POST", "/endpoints", b'{"endpoint": {"service_id": "x", "interface": "sideways", "url": "http://x"}}'),
    ("POST", "/auth/tokens", b'{"auth": {}}'),
    ("POST", "/auth/tokens", b'{"auth": {"identity": {"methods": "password"}}}'),
    ("POST", "/auth/tokens", b'{"auth": {"identity": {"methods": ["password"]}}}'),
    ("POST", "/auth/tokens", b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {}}}}}'),
    ("PATCH", "/projects/{project}", b'{"project": {"enabled": null}}'),
    ("PATCH", "/projects/{project}", b'{"project": {}}'),
    ("PUT", "/projects/{project}/tags", b'{"tags": "notalist"}'),
]


@pytest.mark.parametrize("method, path, body", CASES)
def test_malformed_bodies_are_400(cloud, admin, method, path, body):
    project = admin.post("/projects", json={"project": {"name": f"bad-{abs(hash(body))}"}}).json().get("project")
    url = path.format(project=project["id"] if project else "none")
    resp = admin.request(method, url, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    assert err["code"] == 400 and err["message"]


def test_huge_body_is_413(admin):
    resp = admin.post("/projects", content=b'{"project": {"name": "' + b"x" * 200_000 + b'"}}',
                      headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == 413


def test_huge_chunked_body_is_413(admin):
    def chunks():
        yield b'{"project": {"description": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}}'

    resp = admin.post("/projects", content=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413


def test_unknown_path_and_method(cloud, admin):
    resp = admin.get("/no/such/thing")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == 404
    resp = admin.request("PATCH", "/auth/catalog")
    assert resp.status_code == 405 and resp.json()["error"]["code"] == 405
    assert httpx.get(f"{cloud.url}/nowhere").status_code == 404


@pytest.mark.parametrize("path", ["/users/nope", "/projects/nope", "/groups/nope", "/roles/nope", "/domains/nope",
                                  "/regions/nope", "/services/nope", "/endpoints/nope", "/credentials/nope"])
def test_missing_resources_are_404(admin, path):
    resp = admin.get(path)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == 404


def test_weird_but_valid_input_never_500s(admin):
    user = make_user(admin)
    for params in ({"name__contains": "%_\\"}, {"enabled": "maybe"}, {"password_expires_at": "lt:garbage"},
                   {"name": "\u0000"}, {"domain_id": "x" * 5000}):
        resp = admin.get("/users", params=params)
        assert resp.status_code < 500, (params, resp.text)
    resp = admin.patch(f"/users/{user['id']}", json={"user": {"password": "p" * 100}})
    assert resp.status_code == 400
