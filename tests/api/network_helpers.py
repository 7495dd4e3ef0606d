"""Network API clients for tests: the admin's, and members of fresh projects of their own."""

from __future__ import annotations

import dataclasses
import random

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, ok


def network_client(cloud, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=30)


@dataclasses.dataclass
class Member:
    project_id: str
    http: httpx.Client


@pytest.fixture
def nadmin(cloud):
    with network_client(cloud, cloud.token()) as http:
        yield http


@pytest.fixture
def make_tenant(cloud, admin):
    """Members of new projects, each with its network client (fresh per test: no shared state)."""
    clients = []

    def make() -> Member:
        project, _, token = member_of_new_project(cloud, admin)
        clients.append(network_client(cloud, token))
        return Member(project["id"], clients[-1])

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def tenant(make_tenant) -> Member:
    return make_tenant()


@pytest.fixture
def other_tenant(make_tenant) -> Member:
    return make_tenant()


def create(http: httpx.Client, plural: str, singular: str, status: int = 201, **body) -> dict:
    return ok(http.post(f"/{plural}", json={singular: body}), status)[singular]


def network(http: httpx.Client, **body) -> dict:
    return create(http, "networks", "network", name=name("net"), **body)


def subnet(http: httpx.Client, network_id: str, **body) -> dict:
    body.setdefault("ip_version", 4)
    return create(http, "subnets", "subnet", network_id=network_id, name=name("sub"), **body)


def pool(http: httpx.Client, prefixes: list[str], **body) -> dict:
    return create(http, "subnetpools", "subnetpool", name=name("pool"), prefixes=prefixes, **body)


def scope(http: httpx.Client, ip_version: int = 4, **body) -> dict:
    return create(http, "address-scopes", "address_scope", name=name("scope"), ip_version=ip_version, **body)


def policy(http: httpx.Client, object_type: str, object_id: str, target: str, action: str = "access_as_shared",
           status: int = 201) -> dict:
    return create(http, "rbac-policies", "rbac_policy", status, object_type=object_type, object_id=object_id,
                  target_tenant=target, action=action)


def error(resp: httpx.Response, status: int) -> dict:
    """A Neutron fault of ``status``: its type and message."""
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    return resp.json()["NeutronError"]


def ids(resp: httpx.Response, plural: str) -> set[str]:
    return {item["id"] for item in ok(resp)[plural]}


def vlan_id() -> int:
    """A provider VLAN unlikely to clash with other tests on the same server."""
    return random.randint(2000, 3999)

