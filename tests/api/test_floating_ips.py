"""Floating IPs as Neutron answers them: allocation from external networks, association through a
router, the checks on the port and fixed IP, tenancy, and what deleting things around them does."""

from __future__ import annotations

import ipaddress

import pytest

from tests.api.helpers import ok
from tests.api.network_helpers import Persona, external_network, fault, network_client
from tests.cloudfixture import Cloud

EXT_CIDR = "203.0.113.0/24"


@pytest.fixture(scope="module")
def ext(nadmin):
    network, subnet = external_network(nadmin, EXT_CIDR, ("203.0.113.10", "203.0.113.250"))
    return {"network": network, "subnet": subnet}


@pytest.fixture
def routed(tenant, ext):
    """The member's private subnet behind a router whose gateway is the external network."""
    subnet = tenant.private_subnet()
    router = tenant.router(external_gateway_info={"network_id": ext["network"]["id"]})
    tenant.add_interface(router["id"], subnet_id=subnet["id"])
    return {"subnet": subnet, "router": router}


def allocate(persona, ext, **extra) -> dict:
    body = {"floating_network_id": ext["network"]["id"], **extra}
    return ok(persona.http.post("/floatingips", json={"floatingip": body}), 201)["floatingip"]


def test_allocate_show_list_delete(tenant, nadmin, ext):
    fip = allocate(tenant, ext, description="web")
    assert ipaddress.ip_address(fip["floating_ip_address"]) in ipaddress.ip_network(EXT_CIDR)
    assert fip["project_id"] == tenant.project["id"] and fip["status"] == "DOWN" and fip["description"] == "web"
    assert fip["port_id"] is fip["fixed_ip_address"] is fip["router_id"] is fip["port_details"] is None
    assert "name" not in fip and "subnet_id" not in fip
    [holder] = ok(nadmin.get("/ports", params={"device_id": fip["id"]}))["ports"]
    assert holder["device_owner"] == "network:floatingip" and holder["project_id"] == ""
    assert holder["fixed_ips"][0]["ip_address"] == fip["floating_ip_address"]
    # The holding port is the cloud's: not the member's to see or delete.
    fault(tenant.http.get(f"/ports/{holder['id']}"), 404)
    fault(nadmin.delete(f"/ports/{holder['id']}"), 409, "ServicePortInUse")
    # Nobody else may take the address as a fixed IP.
    fault(nadmin.post("/ports", json={"port": {"network_id": ext["network"]["id"], "fixed_ips": [
        {"ip_address": fip["floating_ip_address"]}]}}), 409, "IpAddressAlreadyAllocated")

    assert ok(tenant.http.get(f"/floatingips/{fip['id']}"))["floatingip"] == fip
    listed = ok(tenant.http.get("/floatingips", params={"floating_ip_address": fip["floating_ip_address"]}))
    assert [f["id"] for f in listed["floatingips"]] == [fip["id"]]
    ok(tenant.http.delete(f"/floatingips/{fip['id']}"), 204)
    fault(tenant.http.get(f"/floatingips/{fip['id']}"), 404, "FloatingIPNotFound")
    assert ok(nadmin.get("/ports", params={"device_id": fip["id"]}))["ports"] == []


def test_associate_and_disassociate(tenant, ext, routed):
    port = tenant.port(routed["subnet"]["network_id"])
    fixed = port["fixed_ips"][0]["ip_address"]
    fip = allocate(tenant, ext, port_id=port["id"])
    assert fip["port_id"] == port["id"] and fip["fixed_ip_address"] == fixed
    assert fip["router_id"] == routed["router"]["id"] and fip["status"] == "DOWN"
    assert fip["port_details"]["network_id"] == port["network_id"]
    assert fip["port_details"]["mac_address"] == port["mac_address"]
    assert [f["id"] for f in ok(tenant.http.get("/floatingips", params={"port_id": port["id"]}))["floatingips"]] == [
        fip["id"]]

    # The interface and the gateway that carry the floating IP's traffic stay while it is associated.
    router_url = f"/routers/{routed['router']['id']}"
    fault(tenant.http.put(f"{router_url}/remove_router_interface", json={"subnet_id": routed["subnet"]["id"]}), 409,
          "RouterInterfaceInUseByFloatingIP")
    fault(tenant.http.put(router_url, json={"router": {"external_gateway_info": {}}}), 409,
          "RouterExternalGatewayInUseByFloatingIp")

    cleared = ok(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}}))["floatingip"]
    assert cleared["port_id"] is cleared["fixed_ip_address"] is cleared["router_id"] is None
    ok(tenant.http.put(f"{router_url}/remove_router_interface", json={"subnet_id": routed["subnet"]["id"]}))


def test_update_keeps_association_unless_port_id_given(tenant, ext, routed):
    port = tenant.port(routed["subnet"]["network_id"])
    fip = allocate(tenant, ext, port_id=port["id"])
    described = ok(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"description": "x"}}))
    assert described["floatingip"]["port_id"] == port["id"]
    assert described["floatingip"]["revision_number"] > fip["revision_number"]


def test_fixed_ip_choice_on_a_port_with_two_addresses(tenant, ext, routed):
    subnet = routed["subnet"]
    prefix = subnet["cidr"].rsplit(".", 1)[0]
    port = tenant.port(subnet["network_id"], fixed_ips=[{"ip_address": f"{prefix}.50"}, {"ip_address": f"{prefix}.51"}])
    message = fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "port_id": port["id"]}}), 400, "BadRequest")
    assert "has multiple fixed IPv4 addresses" in message
    fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "port_id": port["id"], "fixed_ip_address": "10.255.255.1"}}),
        400, "BadRequest")
    fip = allocate(tenant, ext, port_id=port["id"], fixed_ip_address=f"{prefix}.50")
    assert fip["fixed_ip_address"] == f"{prefix}.50"
    moved = ok(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {
        "port_id": port["id"], "fixed_ip_address": f"{prefix}.51"}}))["floatingip"]
    assert moved["fixed_ip_address"] == f"{prefix}.51"
    # One fixed IP has one floating IP on an external network.
    fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "port_id": port["id"], "fixed_ip_address": f"{prefix}.51"}}),
        409, "FloatingIPPortAlreadyAssociated")


def test_port_must_be_reachable_from_the_external_network(tenant, ext):
    subnet = tenant.private_subnet()
    router = tenant.router()  # an interface, but no gateway
    tenant.add_interface(router["id"], subnet_id=subnet["id"])
    port = tenant.port(subnet["network_id"])
    message = fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "port_id": port["id"]}}), 404,
        "ExternalGatewayForFloatingIPNotFound")
    assert message.startswith(f"External network {ext['network']['id']} is not reachable from subnet {subnet['id']}")
    fip = allocate(tenant, ext)
    fault(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}}), 404,
          "ExternalGatewayForFloatingIPNotFound")
    # A port on no router at all is just as unreachable.
    lonely = tenant.port(tenant.private_subnet()["network_id"])
    fault(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": lonely["id"]}}), 404,
          "ExternalGatewayForFloatingIPNotFound")


def test_floating_network_must_be_external(tenant):
    network = tenant.network()
    tenant.subnet(network)
    message = fault(tenant.http.post("/floatingips", json={"floatingip": {"floating_network_id": network["id"]}}),
                    400, "BadRequest")
    assert message == f"Bad floatingip request: Network {network['id']} is not a valid external network."
    fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": "11111111-2222-3333-4444-555555555555"}}), 404, "NetworkNotFound")


def test_choosing_the_address_is_for_admins(tenant, nadmin, ext):
    fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "floating_ip_address": "203.0.113.240"}}), 403,
        "PolicyNotAuthorized")
    fip = ok(nadmin.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "floating_ip_address": "203.0.113.240",
        "project_id": tenant.project["id"]}}), 201)["floatingip"]
    assert fip["floating_ip_address"] == "203.0.113.240" and fip["project_id"] == tenant.project["id"]
    # The member owns it now: it sees it and may release it.
    ok(tenant.http.delete(f"/floatingips/{fip['id']}"), 204)
    fault(nadmin.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "floating_ip_address": "198.18.0.1"}}), 400)
    fault(nadmin.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "subnet_id": "11111111-2222-3333-4444-555555555555"}}), 400)


def test_deleting_the_port_clears_the_association(tenant, ext, routed):
    port = tenant.port(routed["subnet"]["network_id"])
    fip = allocate(tenant, ext, port_id=port["id"])
    ok(tenant.http.delete(f"/ports/{port['id']}"), 204)
    shown = ok(tenant.http.get(f"/floatingips/{fip['id']}"))["floatingip"]
    assert shown["port_id"] is shown["fixed_ip_address"] is shown["router_id"] is None


def test_deleting_an_external_network_releases_its_unused_floating_ips(tenant, nadmin):
    network, _ = external_network(nadmin, "192.0.2.0/24", ("192.0.2.10", "192.0.2.20"))
    fip = allocate(tenant, {"network": network})
    ok(nadmin.delete(f"/networks/{network['id']}"), 204)
    fault(tenant.http.get(f"/floatingips/{fip['id']}"), 404, "FloatingIPNotFound")


def test_other_projects_cannot_see_or_take_a_floating_ip(cloud, admin, tenant, ext, routed):
    other = Persona(cloud, admin)
    fip = allocate(tenant, ext)
    url = f"/floatingips/{fip['id']}"
    assert fip["id"] not in [f["id"] for f in ok(other.http.get("/floatingips"))["floatingips"]]
    fault(other.http.get(url), 404, "FloatingIPNotFound")
    fault(other.http.delete(url), 404, "FloatingIPNotFound")
    # Their port is not the member's to map, and the member's port is not theirs.
    their_subnet = other.private_subnet()
    their_port = other.port(their_subnet["network_id"])
    fault(tenant.http.put(url, json={"floatingip": {"port_id": their_port["id"]}}), 404, "PortNotFound")
    mine = tenant.port(routed["subnet"]["network_id"])
    theirs = allocate(other, ext)
    fault(other.http.put(f"/floatingips/{theirs['id']}", json={"floatingip": {"port_id": mine["id"]}}), 404,
          "PortNotFound")
    # A reader of the project reads and changes nothing.
    reader = Persona(cloud, admin, role="reader", project=tenant.project)
    assert ok(reader.http.get(url))["floatingip"]["id"] == fip["id"]
    assert reader.http.put(url, json={"floatingip": {"description": "x"}}).status_code == 403
    assert reader.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"]}}).status_code == 403


@pytest.mark.parametrize("body", [
    {"floatingip": {}},
    {"floatingip": {"floating_network_id": "nope"}},
    {"floatingip": {"floating_network_id": "11111111-2222-3333-4444-555555555555", "router_id": None}},
    {"floatingip": {"floating_network_id": "11111111-2222-3333-4444-555555555555", "status": "ACTIVE"}},
    {"floatingip": {"floating_network_id": "11111111-2222-3333-4444-555555555555", "name": "x"}},
    {"floatingip": "x"},
    [],
])
def test_malformed_floating_ip_bodies(tenant, body):
    fault(tenant.http.post("/floatingips", json=body), 400)


def test_fixed_ip_without_port_is_refused(tenant, ext):
    fault(tenant.http.post("/floatingips", json={"floatingip": {
        "floating_network_id": ext["network"]["id"], "fixed_ip_address": "10.0.0.3"}}), 400)
    fip = allocate(tenant, ext)
    fault(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"fixed_ip_address": "10.0.0.3"}}), 400)
    fault(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"floating_network_id": fip["id"]}}), 400)


def test_pools_list_external_ipv4_subnets(tenant, ext):
    pools = ok(tenant.http.get("/floatingip_pools"))["floatingip_pools"]
    assert {"subnet_id": ext["subnet"]["id"], "subnet_name": ext["subnet"]["name"],
            "network_id": ext["network"]["id"], "cidr": EXT_CIDR, "project_id": ext["subnet"]["project_id"],
            "tenant_id": ext["subnet"]["project_id"]} in pools
    private = tenant.private_subnet()
    assert private["id"] not in [p["subnet_id"] for p in pools]


@pytest.mark.xdist_group("own-cloud")
def test_router_and_floating_ip_quotas(tmp_path):
    """Neutron's quotas, with limits of one (a cloud of its own, since quotas are settings)."""
    small = Cloud(tmp_path, settings={"network": {"quotas": {"router": 1, "floatingip": 1}}}).start()
    try:
        with network_client(small, small.token("demo", project="demo")) as demo, \
                network_client(small, small.token()) as admin:
            network, _ = external_network(admin, "192.0.2.0/24", ("192.0.2.10", "192.0.2.20"))
            ok(demo.post("/routers", json={"router": {}}), 201)
            fault(demo.post("/routers", json={"router": {}}), 409, "OverQuota")
            ok(demo.post("/floatingips", json={"floatingip": {"floating_network_id": network["id"]}}), 201)
            fault(demo.post("/floatingips", json={"floatingip": {"floating_network_id": network["id"]}}), 409,
                  "OverQuota")
    finally:
        small.stop()


# -- port forwardings ------------------------------------------------------------------------------
def forwarding(port: dict, external: int, internal: int = 80, protocol: str = "tcp") -> dict:
    return {"port_forwarding": {"internal_port_id": port["id"], "internal_ip_address": port["fixed_ips"][0][
        "ip_address"], "internal_port": internal, "external_port": external, "protocol": protocol}}


def test_port_forwardings(tenant, ext, routed):
    port = tenant.port(routed["subnet"]["network_id"])
    fip = allocate(tenant, ext)
    base = f"/floatingips/{fip['id']}/port_forwardings"
    made = ok(tenant.http.post(base, json=forwarding(port, 8080)), 201)["port_forwarding"]
    assert made["internal_port"] == 80 and made["external_port"] == 8080 and made["protocol"] == "tcp"
    assert made["internal_ip_address"] == port["fixed_ips"][0]["ip_address"] and made["description"] == ""
    # The forwarding goes through the router, which now keeps what it needs.
    assert ok(tenant.http.get(f"/floatingips/{fip['id']}"))["floatingip"]["router_id"] == routed["router"]["id"]
    fault(tenant.http.put(f"/routers/{routed['router']['id']}/remove_router_interface",
                          json={"subnet_id": routed["subnet"]["id"]}), 409, "RouterInterfaceInUseByFloatingIP")

    fault(tenant.http.post(base, json=forwarding(port, 8080, internal=81)), 409, "PortForwardingAlreadyExists")
    fault(tenant.http.post(base, json=forwarding(port, 8081)), 409, "PortForwardingAlreadyExists")
    udp = ok(tenant.http.post(base, json=forwarding(port, 8080, protocol="udp")), 201)["port_forwarding"]
    assert {p["id"] for p in ok(tenant.http.get(base))["port_forwardings"]} == {made["id"], udp["id"]}
    assert [p["id"] for p in ok(tenant.http.get(base, params={"protocol": "udp"}))["port_forwardings"]] == [udp["id"]]
    # A floating IP forwards ports or maps a whole port, never both.
    fault(tenant.http.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}}), 409,
          "FipInUseByPortForwarding")

    changed = ok(tenant.http.put(f"{base}/{made['id']}", json={"port_forwarding": {"external_port": 2222,
                                                                                   "description": "ssh"}}))
    assert changed["port_forwarding"]["external_port"] == 2222
    assert ok(tenant.http.get(f"{base}/{made['id']}"))["port_forwarding"]["description"] == "ssh"
    ok(tenant.http.delete(f"{base}/{made['id']}"), 204)
    ok(tenant.http.delete(f"{base}/{udp['id']}"), 204)
    fault(tenant.http.get(f"{base}/{made['id']}"), 404, "PortForwardingNotFound")
    assert ok(tenant.http.get(f"/floatingips/{fip['id']}"))["floatingip"]["router_id"] is None


def test_port_forwarding_checks(cloud, admin, tenant, ext, routed):
    port = tenant.port(routed["subnet"]["network_id"])
    fip = allocate(tenant, ext)
    base = f"/floatingips/{fip['id']}/port_forwardings"
    wrong_ip = forwarding(port, 80)
    wrong_ip["port_forwarding"]["internal_ip_address"] = "10.255.255.9"
    fault(tenant.http.post(base, json=wrong_ip), 400)
    for bad in ({"port_forwarding": {}}, {"port_forwarding": {**forwarding(port, 0)["port_forwarding"]}},
                {"port_forwarding": {**forwarding(port, 80)["port_forwarding"], "protocol": "icmp"}}, {"x": 1}):
        fault(tenant.http.post(base, json=bad), 400)
    lonely = tenant.port(tenant.private_subnet()["network_id"])
    fault(tenant.http.post(base, json=forwarding(lonely, 80)), 404, "ExternalGatewayForFloatingIPNotFound")
    mapped = allocate(tenant, ext, port_id=tenant.port(routed["subnet"]["network_id"])["id"])
    fault(tenant.http.post(f"/floatingips/{mapped['id']}/port_forwardings", json=forwarding(port, 80)), 400)
    # Another project sees neither the floating IP nor its forwardings.
    other = Persona(cloud, admin)
    fault(other.http.get(base), 404, "FloatingIPNotFound")
    fault(other.http.post(base, json=forwarding(port, 80)), 404, "FloatingIPNotFound")
    assert "floating-ip-port-forwarding" in {e["alias"] for e in ok(tenant.http.get("/extensions"))["extensions"]}
