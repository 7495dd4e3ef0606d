"""Routers as Neutron answers them: gateways on external networks, interfaces, extra routes, tenancy."""

from __future__ import annotations

import ipaddress

import pytest

from tests.api.helpers import ok
from tests.api.l3 import Persona, external_network, fault, network_client

EXT_CIDR = "198.51.100.0/24"


@pytest.fixture(scope="module")
def net_admin(cloud):
    with network_client(cloud, cloud.token()) as http:
        yield http


@pytest.fixture(scope="module")
def ext(net_admin):
    network, subnet = external_network(net_admin, EXT_CIDR, ("198.51.100.10", "198.51.100.250"))
    return {"network": network, "subnet": subnet}


@pytest.fixture
def member(cloud, admin):
    return Persona(cloud, admin)


@pytest.fixture
def other(cloud, admin):
    return Persona(cloud, admin)


def gateway_ports(net_admin, router_id: str) -> list[dict]:
    return ok(net_admin.get("/ports", params={"device_id": router_id, "device_owner": "network:router_gateway"}))[
        "ports"]


# -- gateways -------------------------------------------------------------------------------------
def test_router_with_gateway_lifecycle(member, net_admin, ext):
    router = member.router(external_gateway_info={"network_id": ext["network"]["id"]}, admin_state_up=False)
    assert router["status"] == "ACTIVE" and router["admin_state_up"] is False
    assert router["availability_zones"] == ["nova"] and router["routes"] == []
    assert "distributed" not in router and "ha" not in router
    info = router["external_gateway_info"]
    assert info["network_id"] == ext["network"]["id"] and info["enable_snat"] is True
    [fixed] = info["external_fixed_ips"]
    assert fixed["subnet_id"] == ext["subnet"]["id"]
    assert ipaddress.ip_address(fixed["ip_address"]) in ipaddress.ip_network(EXT_CIDR)

    [port] = gateway_ports(net_admin, router["id"])
    assert port["project_id"] == "" and port["network_id"] == ext["network"]["id"]
    assert port["fixed_ips"] == info["external_fixed_ips"]
    # The gateway port belongs to no project: the member does not see it.
    assert ok(member.http.get("/ports", params={"device_id": router["id"]}))["ports"] == []

    renamed = ok(member.http.put(f"/routers/{router['id']}", json={"router": {"name": "renamed"}}))["router"]
    assert renamed["name"] == "renamed" and renamed["external_gateway_info"] == info
    listed = ok(member.http.get("/routers", params={"name": "renamed"}))["routers"]
    assert [r["id"] for r in listed] == [router["id"]]

    ok(member.http.delete(f"/routers/{router['id']}"), 204)
    assert gateway_ports(net_admin, router["id"]) == []
    fault(member.http.get(f"/routers/{router['id']}"), 404, "RouterNotFound")


def test_gateway_network_must_exist_and_be_external(member):
    router = member.router()
    internal = member.network()
    member.subnet(internal)
    message = fault(member.http.put(f"/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": internal["id"]}}}), 400, "BadRequest")
    assert message == f"Bad router request: Network {internal['id']} is not an external network."
    fault(member.http.put(f"/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": router["id"]}}}), 404, "NetworkNotFound")
    assert ok(member.http.get(f"/routers/{router['id']}"))["router"]["external_gateway_info"] is None


def test_snat_and_fixed_ips_are_admin_only(member, net_admin, ext):
    router = member.router()
    for info in ({"enable_snat": False}, {"external_fixed_ips": [{"subnet_id": ext["subnet"]["id"]}]}):
        fault(member.http.put(f"/routers/{router['id']}", json={"router": {
            "external_gateway_info": {"network_id": ext["network"]["id"], **info}}}), 403, "PolicyNotAuthorized")
    set_by_admin = ok(net_admin.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {
        "network_id": ext["network"]["id"], "enable_snat": False,
        "external_fixed_ips": [{"ip_address": "198.51.100.77"}]}}}))["router"]["external_gateway_info"]
    assert set_by_admin["enable_snat"] is False
    assert set_by_admin["external_fixed_ips"] == [{"subnet_id": ext["subnet"]["id"], "ip_address": "198.51.100.77"}]
    # The address is taken now: another router cannot have it.
    fault(net_admin.post("/routers", json={"router": {"external_gateway_info": {
        "network_id": ext["network"]["id"], "external_fixed_ips": [{"ip_address": "198.51.100.77"}]}}}),
        409, "IpAddressAlreadyAllocated")
    # Setting the same network again without enable_snat turns SNAT back on (Neutron's default).
    again = ok(member.http.put(f"/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": ext["network"]["id"]}}}))["router"]["external_gateway_info"]
    assert again["enable_snat"] is True and again["external_fixed_ips"] == set_by_admin["external_fixed_ips"]


def test_clearing_the_gateway_removes_its_port(member, net_admin, ext):
    router = member.router(external_gateway_info={"network_id": ext["network"]["id"]})
    assert len(gateway_ports(net_admin, router["id"])) == 1
    cleared = ok(member.http.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {}}}))
    assert cleared["router"]["external_gateway_info"] is None
    assert gateway_ports(net_admin, router["id"]) == []


def test_external_network_with_a_gateway_cannot_be_deleted(member, net_admin):
    network, _ = external_network(net_admin, "192.0.2.0/24", ("192.0.2.10", "192.0.2.20"))
    router = member.router(external_gateway_info={"network_id": network["id"]})
    fault(net_admin.delete(f"/networks/{network['id']}"), 409, "NetworkInUse")
    ok(member.http.delete(f"/routers/{router['id']}"), 204)
    ok(net_admin.delete(f"/networks/{network['id']}"), 204)


# -- interfaces ------------------------------------------------------------------------------------
def test_interface_by_subnet(member):
    router = member.router()
    subnet = member.private_subnet("10.200.1.0/24")
    reply = member.add_interface(router["id"], subnet_id=subnet["id"])
    assert set(reply) == {"id", "subnet_id", "subnet_ids", "port_id", "network_id", "tenant_id", "project_id"}
    assert reply["id"] == router["id"] and reply["subnet_id"] == subnet["id"] and reply["subnet_ids"] == [subnet["id"]]
    assert reply["project_id"] == member.project["id"] and reply["network_id"] == subnet["network_id"]
    port = ok(member.http.get(f"/ports/{reply['port_id']}"))["port"]
    assert port["device_id"] == router["id"] and port["device_owner"] == "network:router_interface"
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.200.1.1"}]
    assert port["project_id"] == member.project["id"] and port["status"] == "ACTIVE"

    message = fault(member.http.put(f"/routers/{router['id']}/add_router_interface",
                                    json={"subnet_id": subnet["id"]}), 400, "BadRequest")
    assert message == f"Bad router request: Router already has a port on subnet {subnet['id']}."
    overlapping = member.private_subnet("10.200.1.128/25")
    message = fault(member.http.put(f"/routers/{router['id']}/add_router_interface",
                                    json={"subnet_id": overlapping["id"]}), 400, "BadRequest")
    assert message == (f"Bad router request: Cidr 10.200.1.128/25 of subnet {overlapping['id']} overlaps with cidr "
                       f"10.200.1.0/24 of subnet {subnet['id']}.")

    fault(member.http.delete(f"/routers/{router['id']}"), 409, "RouterInUse")
    fault(member.http.delete(f"/subnets/{subnet['id']}"), 409, "SubnetInUse")
    fault(member.http.delete(f"/ports/{reply['port_id']}"), 409, "ServicePortInUse")

    removed = ok(member.http.put(f"/routers/{router['id']}/remove_router_interface", json={"subnet_id": subnet["id"]}))
    assert removed["port_id"] == reply["port_id"] and removed["subnet_id"] == subnet["id"]
    fault(member.http.get(f"/ports/{reply['port_id']}"), 404, "PortNotFound")
    fault(member.http.put(f"/routers/{router['id']}/remove_router_interface", json={"subnet_id": subnet["id"]}),
          404, "RouterInterfaceNotFoundForSubnet")
    ok(member.http.delete(f"/routers/{router['id']}"), 204)
    ok(member.http.delete(f"/subnets/{subnet['id']}"), 204)


def test_interface_needs_a_subnet_gateway(member):
    router = member.router()
    subnet = member.private_subnet(gateway_ip=None)
    message = fault(member.http.put(f"/routers/{router['id']}/add_router_interface",
                                    json={"subnet_id": subnet["id"]}), 400)
    assert message == "Bad router request: Subnet for router interface must have a gateway IP."


def test_interface_by_port(member):
    router, second = member.router(), member.router()
    subnet = member.private_subnet()
    port = member.port(subnet["network_id"])
    reply = member.add_interface(router["id"], port_id=port["id"])
    assert reply["port_id"] == port["id"] and reply["subnet_ids"] == [subnet["id"]]
    shown = ok(member.http.get("/ports", params={"device_id": router["id"]}))["ports"]
    assert [(p["id"], p["device_owner"]) for p in shown] == [(port["id"], "network:router_interface")]

    fault(member.http.put(f"/routers/{second['id']}/add_router_interface", json={"port_id": port["id"]}),
          409, "PortInUse")
    fault(member.http.put(f"/routers/{router['id']}/remove_router_interface",
                          json={"port_id": member.port(subnet["network_id"])["id"]}), 404, "RouterInterfaceNotFound")
    ok(member.http.put(f"/routers/{router['id']}/remove_router_interface", json={"port_id": port["id"]}))
    # As in Neutron, the port goes with the interface.
    fault(member.http.get(f"/ports/{port['id']}"), 404, "PortNotFound")


@pytest.mark.parametrize("body", [{}, {"subnet_id": "not-a-uuid"}, {"port_id": 5}, [], "x",
                                  {"subnet_id": "11111111-2222-3333-4444-555555555555",
                                   "port_id": "11111111-2222-3333-4444-555555555555"}])
def test_interface_bodies_that_make_no_sense(member, body):
    router = member.router()
    fault(member.http.put(f"/routers/{router['id']}/add_router_interface", json=body), 400)


def test_subnet_gone_or_invisible_is_404(member, other):
    router = member.router()
    theirs = other.private_subnet()
    fault(member.http.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": theirs["id"]}),
          404, "SubnetNotFound")
    their_port = other.port(theirs["network_id"])
    fault(member.http.put(f"/routers/{router['id']}/add_router_interface", json={"port_id": their_port["id"]}),
          404, "PortNotFound")


# -- extra routes -----------------------------------------------------------------------------------
def test_extra_routes(member):
    router = member.router()
    subnet = member.private_subnet("10.201.0.0/24")
    member.add_interface(router["id"], subnet_id=subnet["id"])
    url = f"/routers/{router['id']}"
    routes = [{"destination": "172.16.0.0/16", "nexthop": "10.201.0.5"}]
    assert ok(member.http.put(url, json={"router": {"routes": routes}}))["router"]["routes"] == routes

    for nexthop, reason in (("10.9.9.9", "the nexthop is not connected with router"),
                            ("10.201.0.1", "the nexthop is used by router")):
        message = fault(member.http.put(url, json={"router": {"routes": [
            {"destination": "172.17.0.0/16", "nexthop": nexthop}]}}), 400, "InvalidRoutes")
        assert message.endswith(f"{reason}.")
    fault(member.http.put(url, json={"router": {"routes": [{"destination": "nonsense", "nexthop": "10.201.0.5"}]}}),
          400)
    too_many = [{"destination": f"172.18.{i}.0/24", "nexthop": "10.201.0.5"} for i in range(31)]
    fault(member.http.put(url, json={"router": {"routes": too_many}}), 400, "RoutesExhausted")
    fault(member.http.post("/routers", json={"router": {"routes": routes}}), 400)

    added = ok(member.http.put(f"{url}/add_extraroutes", json={"router": {"routes": [
        {"destination": "172.19.0.0/16", "nexthop": "10.201.0.6"}, routes[0]]}}))["router"]
    assert added["routes"] == [*routes, {"destination": "172.19.0.0/16", "nexthop": "10.201.0.6"}]
    fault(member.http.put(f"{url}/add_extraroutes", json={"router": {"routes": [
        {"destination": "172.20.0.0/16", "nexthop": "10.8.0.1"}]}}), 400, "InvalidRoutes")
    fault(member.http.put(f"{url}/add_extraroutes", json={"routes": []}), 400)

    fault(member.http.put(f"{url}/remove_router_interface", json={"subnet_id": subnet["id"]}), 409,
          "RouterInterfaceInUseByRoute")
    left = ok(member.http.put(f"{url}/remove_extraroutes", json={"router": {"routes": routes}}))["router"]["routes"]
    assert left == [{"destination": "172.19.0.0/16", "nexthop": "10.201.0.6"}]
    assert ok(member.http.put(url, json={"router": {"routes": None}}))["router"]["routes"] == []
    ok(member.http.put(f"{url}/remove_router_interface", json={"subnet_id": subnet["id"]}))


# -- tenancy and input -----------------------------------------------------------------------------------
def test_other_projects_cannot_see_or_use_a_router(cloud, admin, member, other, net_admin):
    router = member.router()
    url = f"/routers/{router['id']}"
    assert router["id"] not in [r["id"] for r in ok(other.http.get("/routers"))["routers"]]
    fault(other.http.get(url), 404, "RouterNotFound")
    fault(other.http.put(url, json={"router": {"name": "mine"}}), 404, "RouterNotFound")
    fault(other.http.delete(url), 404, "RouterNotFound")
    fault(other.http.put(f"{url}/add_router_interface", json={"subnet_id": other.private_subnet()["id"]}), 404,
          "RouterNotFound")
    # A reader of the project reads it and changes nothing.
    reader = Persona(cloud, admin, role="reader", project=member.project)
    assert ok(reader.http.get(url))["router"]["id"] == router["id"]
    assert reader.http.put(url, json={"router": {"name": "x"}}).status_code == 403
    assert reader.http.put(f"{url}/add_router_interface",
                           json={"subnet_id": member.private_subnet()["id"]}).status_code == 403
    # The admin sees every project's routers and may create one for another project.
    assert router["id"] in [r["id"] for r in ok(net_admin.get("/routers"))["routers"]]
    made = ok(net_admin.post("/routers", json={"router": {"project_id": other.project["id"]}}), 201)["router"]
    assert made["project_id"] == other.project["id"]
    assert ok(other.http.get(f"/routers/{made['id']}"))["router"]["tenant_id"] == other.project["id"]


@pytest.mark.parametrize("body", [
    {"router": {"distributed": True}},
    {"router": {"ha": True}},
    {"router": {"admin_state_up": "yes"}},
    {"router": {"external_gateway_info": {"network": "x"}}},
    {"router": {"external_gateway_info": "x"}},
    {"router": {"status": "DOWN"}},
    {"router": []},
    {"routers": "x"},
])
def test_malformed_router_bodies(member, body):
    fault(member.http.post("/routers", json=body), 400)


def test_unknown_availability_zone(member):
    fault(member.http.post("/routers", json={"router": {"availability_zone_hints": ["elsewhere"]}}), 404,
          "AvailabilityZoneNotFound")
    assert member.router(availability_zone_hints=["nova"])["availability_zone_hints"] == ["nova"]


def test_extensions_advertise_what_is_implemented(member):
    aliases = {e["alias"] for e in ok(member.http.get("/extensions"))["extensions"]}
    assert {"router", "ext-gw-mode", "extraroute", "extraroute-atomic", "external-net",
            "router_availability_zone"} <= aliases
    assert not {"dvr", "l3-ha", "l3-flavors", "l3_agent_scheduler"} & aliases
