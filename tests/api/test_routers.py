"""Routers as Neutron answers them: gateways on external networks, interfaces, extra routes, tenancy."""

from __future__ import annotations

import ipaddress

import pytest

from tests.api.helpers import ok
from tests.api.network_helpers import Persona, external_network, fault

EXT_CIDR = "198.51.100.0/24"


@pytest.fixture(scope="module")
def ext(nadmin):
    network, subnet = external_network(nadmin, EXT_CIDR, ("198.51.100.10", "198.51.100.250"))
    return {"network": network, "subnet": subnet}


def gateway_ports(nadmin, router_id: str) -> list[dict]:
    return ok(nadmin.get("/ports", params={"device_id": router_id, "device_owner": "network:router_gateway"}))[
        "ports"]


# -- gateways -------------------------------------------------------------------------------------
def test_router_with_gateway_lifecycle(tenant, nadmin, ext):
    router = tenant.router(external_gateway_info={"network_id": ext["network"]["id"]}, admin_state_up=False)
    assert router["status"] == "ACTIVE" and router["admin_state_up"] is False
    assert router["availability_zones"] == ["nova"] and router["routes"] == []
    assert "distributed" not in router and "ha" not in router
    info = router["external_gateway_info"]
    assert info["network_id"] == ext["network"]["id"] and info["enable_snat"] is True
    [fixed] = info["external_fixed_ips"]
    assert fixed["subnet_id"] == ext["subnet"]["id"]
    assert ipaddress.ip_address(fixed["ip_address"]) in ipaddress.ip_network(EXT_CIDR)

    [port] = gateway_ports(nadmin, router["id"])
    assert port["project_id"] == "" and port["network_id"] == ext["network"]["id"]
    assert port["fixed_ips"] == info["external_fixed_ips"]
    # The gateway port belongs to no project: the member does not see it.
    assert ok(tenant.http.get("/ports", params={"device_id": router["id"]}))["ports"] == []

    renamed = ok(tenant.http.put(f"/routers/{router['id']}", json={"router": {"name": "renamed"}}))["router"]
    assert renamed["name"] == "renamed" and renamed["external_gateway_info"] == info
    listed = ok(tenant.http.get("/routers", params={"name": "renamed"}))["routers"]
    assert [r["id"] for r in listed] == [router["id"]]

    ok(tenant.http.delete(f"/routers/{router['id']}"), 204)
    assert gateway_ports(nadmin, router["id"]) == []
    fault(tenant.http.get(f"/routers/{router['id']}"), 404, "RouterNotFound")


def test_gateway_network_must_exist_and_be_external(tenant):
    router = tenant.router()
    internal = tenant.network()
    tenant.subnet(internal)
    message = fault(tenant.http.put(f"/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": internal["id"]}}}), 400, "BadRequest")
    assert message == f"Bad router request: Network {internal['id']} is not an external network."
    fault(tenant.http.put(f"/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": router["id"]}}}), 404, "NetworkNotFound")
    assert ok(tenant.http.get(f"/routers/{router['id']}"))["router"]["external_gateway_info"] is None


def test_snat_and_fixed_ips_are_admin_only(tenant, nadmin, ext):
    router = tenant.router()
    for info in ({"enable_snat": False}, {"external_fixed_ips": [{"subnet_id": ext["subnet"]["id"]}]}):
        fault(tenant.http.put(f"/routers/{router['id']}", json={"router": {
            "external_gateway_info": {"network_id": ext["network"]["id"], **info}}}), 403, "PolicyNotAuthorized")
    set_by_admin = ok(nadmin.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {
        "network_id": ext["network"]["id"], "enable_snat": False,
        "external_fixed_ips": [{"ip_address": "198.51.100.77"}]}}}))["router"]["external_gateway_info"]
    assert set_by_admin["enable_snat"] is False
    assert set_by_admin["external_fixed_ips"] == [{"subnet_id": ext["subnet"]["id"], "ip_address": "198.51.100.77"}]
    # The address is taken now: another router cannot have it.
    fault(nadmin.post("/routers", json={"router": {"external_gateway_info": {
        "network_id": ext["network"]["id"], "external_fixed_ips": [{"ip_address": "198.51.100.77"}]}}}),
        409, "IpAddressAlreadyAllocated")
    # Setting the same network again without enable_snat turns SNAT back on (Neutron's default).
    again = ok(tenant.http.put(f"/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": ext["network"]["id"]}}}))["router"]["external_gateway_info"]
    assert again["enable_snat"] is True and again["external_fixed_ips"] == set_by_admin["external_fixed_ips"]


def test_clearing_the_gateway_removes_its_port(tenant, nadmin, ext):
    router = tenant.router(external_gateway_info={"network_id": ext["network"]["id"]})
    assert len(gateway_ports(nadmin, router["id"])) == 1
    cleared = ok(tenant.http.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {}}}))
    assert cleared["router"]["external_gateway_info"] is None
    assert gateway_ports(nadmin, router["id"]) == []


def test_external_network_with_a_gateway_cannot_be_deleted(tenant, nadmin):
    network, _ = external_network(nadmin, "192.0.2.0/24", ("192.0.2.10", "192.0.2.20"))
    router = tenant.router(external_gateway_info={"network_id": network["id"]})
    fault(nadmin.delete(f"/networks/{network['id']}"), 409, "NetworkInUse")
    ok(tenant.http.delete(f"/routers/{router['id']}"), 204)
    ok(nadmin.delete(f"/networks/{network['id']}"), 204)


# -- interfaces ------------------------------------------------------------------------------------
def test_interface_by_subnet(tenant):
    router = tenant.router()
    subnet = tenant.private_subnet("10.200.1.0/24")
    reply = tenant.add_interface(router["id"], subnet_id=subnet["id"])
    assert set(reply) == {"id", "subnet_id", "subnet_ids", "port_id", "network_id", "tenant_id", "project_id"}
    assert reply["id"] == router["id"] and reply["subnet_id"] == subnet["id"] and reply["subnet_ids"] == [subnet["id"]]
    assert reply["project_id"] == tenant.project["id"] and reply["network_id"] == subnet["network_id"]
    port = ok(tenant.http.get(f"/ports/{reply['port_id']}"))["port"]
    assert port["device_id"] == router["id"] and port["device_owner"] == "network:router_interface"
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.200.1.1"}]
    assert port["project_id"] == tenant.project["id"] and port["status"] == "ACTIVE"

    message = fault(tenant.http.put(f"/routers/{router['id']}/add_router_interface",
                                    json={"subnet_id": subnet["id"]}), 400, "BadRequest")
    assert message == f"Bad router request: Router already has a port on subnet {subnet['id']}."
    overlapping = tenant.private_subnet("10.200.1.128/25")
    message = fault(tenant.http.put(f"/routers/{router['id']}/add_router_interface",
                                    json={"subnet_id": overlapping["id"]}), 400, "BadRequest")
    assert message == (f"Bad router request: Cidr 10.200.1.128/25 of subnet {overlapping['id']} overlaps with cidr "
                       f"10.200.1.0/24 of subnet {subnet['id']}.")

    fault(tenant.http.delete(f"/routers/{router['id']}"), 409, "RouterInUse")
    fault(tenant.http.delete(f"/subnets/{subnet['id']}"), 409, "SubnetInUse")
    fault(tenant.http.delete(f"/ports/{reply['port_id']}"), 409, "ServicePortInUse")

    removed = ok(tenant.http.put(f"/routers/{router['id']}/remove_router_interface", json={"subnet_id": subnet["id"]}))
    assert removed["port_id"] == reply["port_id"] and removed["subnet_id"] == subnet["id"]
    fault(tenant.http.get(f"/ports/{reply['port_id']}"), 404, "PortNotFound")
    fault(tenant.http.put(f"/routers/{router['id']}/remove_router_interface", json={"subnet_id": subnet["id"]}),
          404, "RouterInterfaceNotFoundForSubnet")
    ok(tenant.http.delete(f"/routers/{router['id']}"), 204)
    ok(tenant.http.delete(f"/subnets/{subnet['id']}"), 204)


def test_interface_needs_a_subnet_gateway(tenant):
    router = tenant.router()
    subnet = tenant.private_subnet(gateway_ip=None)
    message = fault(tenant.http.put(f"/routers/{router['id']}/add_router_interface",
                                    json={"subnet_id": subnet["id"]}), 400)
    assert message == "Bad router request: Subnet for router interface must have a gateway IP."


def test_interface_by_port(tenant):
    router, second = tenant.router(), tenant.router()
    subnet = tenant.private_subnet()
    port = tenant.port(subnet["network_id"])
    reply = tenant.add_interface(router["id"], port_id=port["id"])
    assert reply["port_id"] == port["id"] and reply["subnet_ids"] == [subnet["id"]]
    shown = ok(tenant.http.get("/ports", params={"device_id": router["id"]}))["ports"]
    assert [(p["id"], p["device_owner"]) for p in shown] == [(port["id"], "network:router_interface")]

    fault(tenant.http.put(f"/routers/{second['id']}/add_router_interface", json={"port_id": port["id"]}),
          409, "PortInUse")
    fault(tenant.http.put(f"/routers/{router['id']}/remove_router_interface",
                          json={"port_id": tenant.port(subnet["network_id"])["id"]}), 404, "RouterInterfaceNotFound")
    ok(tenant.http.put(f"/routers/{router['id']}/remove_router_interface", json={"port_id": port["id"]}))
    # As in Neutron, the port goes with the interface.
    fault(tenant.http.get(f"/ports/{port['id']}"), 404, "PortNotFound")


@pytest.mark.parametrize("body", [{}, {"subnet_id": "not-a-uuid"}, {"port_id": 5}, [], "x",
                                  {"subnet_id": "11111111-2222-3333-4444-555555555555",
                                   "port_id": "11111111-2222-3333-4444-555555555555"}])
def test_interface_bodies_that_make_no_sense(tenant, body):
    router = tenant.router()
    fault(tenant.http.put(f"/routers/{router['id']}/add_router_interface", json=body), 400)


def test_subnet_gone_or_invisible_is_404(tenant, other_tenant):
    router = tenant.router()
    theirs = other_tenant.private_subnet()
    fault(tenant.http.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": theirs["id"]}),
          404, "SubnetNotFound")
    their_port = other_tenant.port(theirs["network_id"])
    fault(tenant.http.put(f"/routers/{router['id']}/add_router_interface", json={"port_id": their_port["id"]}),
          404, "PortNotFound")


# -- extra routes -----------------------------------------------------------------------------------
def test_extra_routes(tenant):
    router = tenant.router()
    subnet = tenant.private_subnet("10.201.0.0/24")
    tenant.add_interface(router["id"], subnet_id=subnet["id"])
    url = f"/routers/{router['id']}"
    routes = [{"destination": "172.16.0.0/16", "nexthop": "10.201.0.5"}]
    assert ok(tenant.http.put(url, json={"router": {"routes": routes}}))["router"]["routes"] == routes

    for nexthop, reason in (("10.9.9.9", "the nexthop is not connected with router"),
                            ("10.201.0.1", "the nexthop is used by router")):
        message = fault(tenant.http.put(url, json={"router": {"routes": [
            {"destination": "172.17.0.0/16", "nexthop": nexthop}]}}), 400, "InvalidRoutes")
        assert message.endswith(f"{reason}.")
    fault(tenant.http.put(url, json={"router": {"routes": [{"destination": "nonsense", "nexthop": "10.201.0.5"}]}}),
          400)
    too_many = [{"destination": f"172.18.{i}.0/24", "nexthop": "10.201.0.5"} for i in range(31)]
    fault(tenant.http.put(url, json={"router": {"routes": too_many}}), 400, "RoutesExhausted")
    fault(tenant.http.post("/routers", json={"router": {"routes": routes}}), 400)

    added = ok(tenant.http.put(f"{url}/add_extraroutes", json={"router": {"routes": [
        {"destination": "172.19.0.0/16", "nexthop": "10.201.0.6"}, routes[0]]}}))["router"]
    assert added["routes"] == [*routes, {"destination": "172.19.0.0/16", "nexthop": "10.201.0.6"}]
    fault(tenant.http.put(f"{url}/add_extraroutes", json={"router": {"routes": [
        {"destination": "172.20.0.0/16", "nexthop": "10.8.0.1"}]}}), 400, "InvalidRoutes")
    fault(tenant.http.put(f"{url}/add_extraroutes", json={"routes": []}), 400)

    fault(tenant.http.put(f"{url}/remove_router_interface", json={"subnet_id": subnet["id"]}), 409,
          "RouterInterfaceInUseByRoute")
    left = ok(tenant.http.put(f"{url}/remove_extraroutes", json={"router": {"routes": routes}}))["router"]["routes"]
    assert left == [{"destination": "172.19.0.0/16", "nexthop": "10.201.0.6"}]
    assert ok(tenant.http.put(url, json={"router": {"routes": None}}))["router"]["routes"] == []
    ok(tenant.http.put(f"{url}/remove_router_interface", json={"subnet_id": subnet["id"]}))


# -- tenancy and input -----------------------------------------------------------------------------------
def test_other_projects_cannot_see_or_use_a_router(cloud, admin, tenant, other_tenant, nadmin):
    router = tenant.router()
    url = f"/routers/{router['id']}"
    assert router["id"] not in [r["id"] for r in ok(other_tenant.http.get("/routers"))["routers"]]
    fault(other_tenant.http.get(url), 404, "RouterNotFound")
    fault(other_tenant.http.put(url, json={"router": {"name": "mine"}}), 404, "RouterNotFound")
    fault(other_tenant.http.delete(url), 404, "RouterNotFound")
    fault(other_tenant.http.put(f"{url}/add_router_interface", json={"subnet_id": other_tenant.private_subnet()["id"]}), 404,
          "RouterNotFound")
    # A reader of the project reads it and changes nothing.
    reader = Persona(cloud, admin, role="reader", project=tenant.project)
    assert ok(reader.http.get(url))["router"]["id"] == router["id"]
    assert reader.http.put(url, json={"router": {"name": "x"}}).status_code == 403
    assert reader.http.put(f"{url}/add_router_interface",
                           json={"subnet_id": tenant.private_subnet()["id"]}).status_code == 403
    # The admin sees every project's routers and may create one for another project.
    assert router["id"] in [r["id"] for r in ok(nadmin.get("/routers"))["routers"]]
    made = ok(nadmin.post("/routers", json={"router": {"project_id": other_tenant.project["id"]}}), 201)["router"]
    assert made["project_id"] == other_tenant.project["id"]
    assert ok(other_tenant.http.get(f"/routers/{made['id']}"))["router"]["tenant_id"] == other_tenant.project["id"]


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
def test_malformed_router_bodies(tenant, body):
    fault(tenant.http.post("/routers", json=body), 400)


def test_unknown_availability_zone(tenant):
    fault(tenant.http.post("/routers", json={"router": {"availability_zone_hints": ["elsewhere"]}}), 404,
          "AvailabilityZoneNotFound")
    assert tenant.router(availability_zone_hints=["nova"])["availability_zone_hints"] == ["nova"]


def test_extensions_advertise_what_is_implemented(tenant):
    aliases = {e["alias"] for e in ok(tenant.http.get("/extensions"))["extensions"]}
    assert {"router", "ext-gw-mode", "extraroute", "extraroute-atomic", "external-net",
            "router_availability_zone"} <= aliases
    assert not {"dvr", "l3-ha", "l3-flavors", "l3_agent_scheduler"} & aliases
