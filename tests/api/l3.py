"""Builders shared by the router and floating IP tests: network API clients for personas, external
networks (vxlan, so tests never compete for a flat physical network) and private subnets."""

from __future__ import annotations

import itertools

import httpx

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


def external_network(net_admin: httpx.Client, cidr: str, pool: tuple[str, str]) -> tuple[dict, dict]:
    network = ok(net_admin.post("/networks", json={"network": {
        "name": name("ext"), "router:external": True, "provider:network_type": "vxlan"}}), 201)["network"]
    subnet = ok(net_admin.post("/subnets", json={"subnet": {
        "network_id": network["id"], "ip_version": 4, "cidr": cidr, "enable_dhcp": False,
        "gateway_ip": cidr.replace("0/24", "1"), "allocation_pools": [{"start": pool[0], "end": pool[1]}]}}),
        201)["subnet"]
    return network, subnet


def fault(resp: httpx.Response, status: int, kind: str | None = None) -> str:
    """Assert a Neutron fault of ``status`` (and ``kind``); returns its message."""
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    error = resp.json()["NeutronError"]
    if kind is not None:
        assert error["type"] == kind, error
    return error["message"]
