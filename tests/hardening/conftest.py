"""The hardening sweeps run against clouds of their own: the fuzzer's admin changes whatever it likes, and
the isolation sweep needs a project A whose estate no other test touches."""

from __future__ import annotations

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
