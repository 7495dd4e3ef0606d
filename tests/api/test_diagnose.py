"""``onestack diagnose server``: each hop named fine or missing, in set-ups made through the APIs (fake
compute driver, no data plane on this cloud: the kernel hops say so, the database hops are the subject)."""

from __future__ import annotations

import random

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, ok
from tests.api.network_helpers import external_network
from tests.api.test_servers import MV, boot, image_id, wait  # noqa: F401  (image_id is a fixture)


@pytest.fixture
def project(cloud, admin):
    """Clients of a fresh project that has a network and subnet, and of the network admin."""
    _, _, token = member_of_new_project(cloud, admin)
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token, **MV}, timeout=60)
    neutron = httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": token}, timeout=60)
    net = ok(neutron.post("/networks", json={"network": {"name": name("net")}}), 201)["network"]
    subnet = ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                          "cidr": "10.30.0.0/24"}}), 201)["subnet"]
    nova.network_id, nova.neutron, nova.subnet = net["id"], neutron, subnet
    yield nova
    nova.close()
    neutron.close()


@pytest.fixture
def external(nadmin):
    octet = random.randint(0, 255)
    network, _ = external_network(nadmin, f"172.25.{octet}.0/24", (f"172.25.{octet}.10", f"172.25.{octet}.200"))
    return network


def server(project, image) -> dict:
    made = wait(project, boot(project, image)["id"], "ACTIVE")
    made["port"] = ok(project.neutron.get("/ports", params={"device_id": made["id"]}))["ports"][0]
    return made


def allow_ping(project) -> None:
    group = ok(project.neutron.get("/security-groups", params={"name": "default"}))["security_groups"][0]
    ok(project.neutron.post("/security-group-rules", json={"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp",
        "remote_ip_prefix": "0.0.0.0/0"}}), 201)


def routed(project, external: dict) -> dict:
    router = ok(project.neutron.post("/routers", json={"router": {
        "name": name("r"), "external_gateway_info": {"network_id": external["id"]}}}), 201)["router"]
    ok(project.neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": project.subnet["id"]}))
    return router


def floating_ip(project, external: dict, port: dict) -> dict:
    return ok(project.neutron.post("/floatingips", json={"floatingip": {
        "floating_network_id": external["id"], "port_id": port["id"]}}), 201)["floatingip"]


def diagnose(cloud, *args: str) -> tuple[int, dict[str, str]]:
    done = cloud.onestack("diagnose", "server", *args, check=False)
    hops = {}
    for line in done.stdout.splitlines()[1:]:
        status, rest = line.split(None, 1)
        hop, detail = rest.split(": ", 1)
        hops[hop] = f"{status} {detail}"
    return done.returncode, hops


def test_missing_security_group_rule_is_named(cloud, project, external, image_id):  # noqa: F811
    vm = server(project, image_id)
    routed(project, external)
    fip = floating_ip(project, external, vm["port"])
    code, hops = diagnose(cloud, vm["name"], "--from", "external")
    assert code == 1
    assert hops["server"].startswith("ok") and hops["port"].startswith("ok")
    assert hops["router"].startswith("ok") and hops["router gateway"].startswith("ok")
    assert hops["floating ip"] == f"ok {fip['floating_ip_address']} is associated to {vm['port']['fixed_ips'][0]['ip_address']}"
    assert hops["security groups (ingress)"].startswith(
        "MISSING no ingress rule of the port's groups ('default') admits ping (ICMP echo) from outside")
    allow_ping(project)
    _, hops = diagnose(cloud, vm["id"], "--from", "external")
    assert hops["security groups (ingress)"].startswith("ok rule ")
    _, hops = diagnose(cloud, vm["id"], "--from", "external", "--port", "22")
    assert "admits tcp port 22 from outside" in hops["security groups (ingress)"]
    assert hops["security groups (ingress)"].startswith("MISSING")


def test_missing_router_is_named(cloud, project, external, image_id):  # noqa: F811
    vm = server(project, image_id)
    allow_ping(project)
    code, hops = diagnose(cloud, vm["name"])
    assert code == 1
    assert hops["security groups (ingress)"].startswith("ok")
    assert hops["router"].startswith("MISSING no router has an interface on the server's subnet (10.30.0.0/24)")
    assert hops["floating ip"].startswith("MISSING no floating IP on port")
    # The kernel hops speak for this host, where no data plane runs for this cloud.
    assert hops["bridge"] == f"MISSING brq{vm['port']['network_id'][:11]} is not on this host"
    assert hops["tap"] == f"MISSING tap{vm['port']['id'][:11]} is not on this host"


def test_between_two_servers_the_default_group_admits_its_members(cloud, project, image_id):  # noqa: F811
    first, second = server(project, image_id), server(project, image_id)
    _, hops = diagnose(cloud, first["id"], "--from", second["id"], "--port", "22")
    assert hops["source server"].startswith("ok")
    assert hops["security groups (egress)"].startswith("ok") and hops["security groups (ingress)"].startswith("ok")
    assert "router" not in hops  # the same network: no router on the way
    code, _ = diagnose(cloud, "no-such-server")
    assert code == 2

