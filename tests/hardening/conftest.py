"""The hardening sweeps run against clouds of their own: the fuzzer's admin changes whatever it likes, and
the isolation sweep needs a project A whose estate no other test touches."""

from __future__ import annotations

import datetime
import time

import httpx
import pytest

from tests.cloudfixture import Cloud
from tests.hardening import cast, world


@pytest.fixture(scope="module")
def own_cloud(tmp_path_factory):
    c = Cloud(tmp_path_factory.mktemp("hardening")).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def estate(own_cloud) -> world.World:
    """Projects A (with one of everything) and B (its member and reader), in the module's own cloud."""
    with own_cloud.client() as keystone:
        a, b = cast.tenant(own_cloud, keystone), cast.tenant(own_cloud, keystone)
    return world.build(own_cloud, a, b)


def revoked_token(cloud, user: dict, project: dict) -> str:
    token = cloud.token(user["name"], cast.PASSWORD, project["name"])
    resp = httpx.delete(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": cloud.token(),
                                                                      "X-Subject-Token": token}, timeout=30)
    assert resp.status_code == 204, resp.text
    return token


def expired_token(cloud, user: dict, project: dict, seconds: float = 3) -> str:
    """A real token of ``user`` that has expired: issued through an application credential that expires
    ``seconds`` from now (Keystone ends such a token with its credential, as onestack does), shown to work,
    then waited out on the cloud's own clock."""
    token = cloud.token(user["name"], cast.PASSWORD, project["name"])
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    with httpx.Client(base_url=cloud.auth_url, headers={"X-Auth-Token": token}, timeout=30) as keystone:
        resp = keystone.post(f"/v3/users/{user['id']}/application_credentials", json={"application_credential": {
            "name": f"short-{time.time_ns()}", "expires_at": expires.isoformat()}})
        assert resp.status_code == 201, resp.text
        cred = resp.json()["application_credential"]
        resp = httpx.post(f"{cloud.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}})
        assert resp.status_code == 201, resp.text
        short = resp.headers["X-Subject-Token"]
        assert datetime.datetime.fromisoformat(resp.json()["token"]["expires_at"].replace("Z", "+00:00")) <= expires
        check = {"X-Auth-Token": short, "X-Subject-Token": short}
        assert keystone.get("/v3/auth/tokens", headers=check).status_code == 200
        time.sleep(max(0.0, (expires - datetime.datetime.now(datetime.UTC)).total_seconds()) + 1.5)
        assert keystone.get("/v3/auth/tokens", headers=check).status_code == 401
    return short
