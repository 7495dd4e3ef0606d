"""Network API clients for tests — the admin's, and personas acting in fresh projects of their own —
and builders of the networks, subnets, routers and external networks they need."""

from __future__ import annotations

import itertools
import random

import httpx
import pytest

from tests.api.helpers import grant, make_user, member_of_new_project, name, ok

# Each private subnet gets its own /24 so routers never see overlapping CIDRs unless a test wants it.
_NEXT_CIDR = itertools.count(1)


def network_client(cloud, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=30)


class Persona:
    """A project member (or reader) with a network client and the project they act in."""

    def __init__(self, cloud, admin, role: str = "member", project: dict | None = None):
        if project is None:
            project, user, token = member_of_new_project(cloud, admin, role)
        else:
            user = make_user(admin)
            grant(admin, project["id"], user["id"], role)
            token = cloud.token(user["name"], "secret-pass-1", project["name"])
        self.project = project
        self.http = network_client(cloud, token)

    @property
    def project_id(self) -> str:
        return self.project["id"]

    def network(self, **extra) -> dict:
        return ok(self.http.post("/networks", json={"network": {"name": name("net"), **extra}}), 201)["network"]

    def subnet(self, network: dict, cidr: str | None = None, **extra) -> dict:
        if cidr is None:
            n = next(_NEXT_CIDR)
            cidr = f"10.{n // 250 % 250}.{n % 250}.0/24"
        body = {"network_id": network["id"], "ip_version": 4, "cidr": cidr, "name": name("sub"), **extra}
        return ok(self.http.post("/subnets", json={"subnet": body}), 201)["subnet"]

    def private_subnet(self, cidr: str | None = None, **extra) -> dict:
        return self.subnet(self.network(), cidr, **extra)

    def port(self, network_id: str, **extra) -> dict:
        body = {"network_id": network_id, "name": name("port"), **extra}
        return ok(self.http.post("/ports", json={"port": body}), 201)["port"]

    def router(self, **extra) -> dict:
        return ok(self.http.post("/routers", json={"router": {"name": name("r"), **extra}}), 201)["router"]

    def add_interface(self, router_id: str, **body) -> dict:
        return ok(self.http.put(f"/routers/{router_id}/add_router_interface", json=body))


@pytest.fixture(scope="session")
def nadmin(cloud):
    with network_client(cloud, cloud.token()) as http:
        yield http


@pytest.fixture
def make_tenant(cloud, admin):
    """Members of new projects, each with its network client (fresh per test: no shared state)."""
    personas = []

    def make() -> Persona:
        personas.append(Persona(cloud, admin))
        return personas[-1]

    yield make
    for persona in personas:
        persona.http.close()


@pytest.fixture
def tenant(make_tenant) -> Persona:
    return make_tenant()


@pytest.fixture
def other_tenant(make_tenant) -> Persona:
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


def external_network(net_admin: httpx.Client, cidr: str, pool: tuple[str, str]) -> tuple[dict, dict]:
    network = ok(net_admin.post("/networks", json={"network": {
        "name": name("ext"), "router:external": True, "provider:network_type": "vxlan"}}), 201)["network"]
    subnet = ok(net_admin.post("/subnets", json={"subnet": {
        "network_id": network["id"], "ip_version": 4, "cidr": cidr, "enable_dhcp": False,
        "gateway_ip": cidr.replace("0/24", "1"), "allocation_pools": [{"start": pool[0], "end": pool[1]}]}}),
        201)["subnet"]
    return network, subnet


def error(resp: httpx.Response, status: int) -> dict:
    """A Neutron fault of ``status``: its type and message."""
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    body = resp.json()["NeutronError"]
    assert set(body) == {"type", "message", "detail"}, body
    return body


def ids(resp: httpx.Response, plural: str) -> set[str]:
    return {item["id"] for item in ok(resp)[plural]}


def vlan_id() -> int:
    """A provider VLAN unlikely to clash with other tests on the same server."""
    return random.randint(2000, 3999)



def fault(resp: httpx.Response, status: int, kind: str | None = None) -> str:
    """Assert a Neutron fault of ``status`` (and type ``kind``); returns its message."""
    body = error(resp, status)
    assert kind is None or body["type"] == kind, body
    return body["message"]
