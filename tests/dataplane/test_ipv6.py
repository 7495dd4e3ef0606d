"""IPv6 on this host's real kernel, in each of Neutron's subnet modes: router advertisements from the
router's namespace (radvd) give SLAAC guests their ports' fixed addresses and a default route, the
network's dnsmasq gives DHCPv6 leases (``dhcpv6-stateful``) or options only (``dhcpv6-stateless``),
routers route IPv6 between subnets and to the outside without NAT.

Guests are namespaces of the test's own whose ``eth0`` carries their port's MAC; the DHCPv6 client is
tests/dataplane/dhcpv6.py (busybox has none).
"""

from __future__ import annotations

import ipaddress
import json
import random
import sys
import uuid
from pathlib import Path

import pytest

from onestack.drivers.netns import converge, dnsmasq, radvd
from onestack.services.network.service.ipam import eui64
from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import Namespace, require_dataplane, sh
from tests.dataplane.test_dataplane import create, dhcp_port, port_status

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]
CLIENT = Path(__file__).with_name("dhcpv6.py")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    require_dataplane()
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)  # clouds sharing the machine must not share a VXLAN device
    c = Cloud(tmp_path_factory.mktemp("ipv6"), settings={"network": {
        "dataplane": True, "physical_networks": {"public": f"brx{tag}"}, "vni_ranges": [[vni, vni + 99]]}})
    c.start()
    c.ext_bridge = f"brx{tag}"
    yield c
    owner = (c.data_dir / "dataplane" / "owner").read_text().strip()
    c.purge()
    assert converge.owned_objects(owner, c.data_dir / "dataplane") == {
        "namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}


def v6_network(neutron, name: str, cidr: str, mode: str | None, **extra) -> tuple[dict, dict]:
    net = create(neutron, "networks", name=name)
    modes = {"ipv6_ra_mode": mode, "ipv6_address_mode": mode} if mode else {}
    subnet = create(neutron, "subnets", network_id=net["id"], cidr=cidr, ip_version=6, **modes, **extra)
    return net, subnet


def routed(cloud, neutron, *subnets: dict, **body) -> dict:
    """A router with an interface on each of ``subnets``, once its advertisements are being sent."""
    router = create(neutron, "routers", name="v6-router", **body)
    for subnet in subnets:
        ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    folder = cloud.data_dir / "dataplane" / "radvd" / router["id"]
    if any(s["ipv6_ra_mode"] for s in subnets):
        wait(lambda: radvd.pid(folder, f"qrouter-{router['id']}"), 30, "radvd in the router's namespace")
    return router


def interface_mac(neutron, router_id: str, subnet_id: str) -> str:
    ports = ok(neutron.get("/ports", params={"device_id": router_id, "device_owner": "network:router_interface"}))
    return next(p["mac_address"] for p in ports["ports"] if p["fixed_ips"][0]["subnet_id"] == subnet_id)


def guest(scratch, net: dict, port: dict) -> Namespace:
    """A namespace on the network with the port's MAC, its link brought up again: a link coming up solicits
    a router advertisement, so the guest does not wait for the next unsolicited one."""
    ns = scratch(f"brq{net['id'][:11]}", port["mac_address"])
    ns.run("ip", "link", "set", "eth0", "down")
    ns.run("ip", "link", "set", "eth0", "up")
    return ns


def global_addresses(ns: Namespace) -> set[str]:
    shown = json.loads(ns.run("ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global").stdout)
    return {a["local"] for item in shown for a in item.get("addr_info", []) if "local" in a and "tentative" not in a}


def default_route(ns: Namespace) -> str:
    return ns.run("ip", "-6", "route", "show", "default").stdout


def pings6(ns: Namespace, address: str) -> bool:
    return ns.run("busybox", "ping6", "-c", "1", "-W", "1", address, check=False).returncode == 0


def dhcpv6(ns: Namespace, mac: str, mode: str) -> dict:
    return json.loads(ns.run(sys.executable, str(CLIENT), "eth0", mac, mode, timeout=60).stdout)


def fixed(port: dict) -> str:
    return port["fixed_ips"][0]["ip_address"]


def test_a_slaac_guest_takes_its_ports_address_and_default_route_from_the_routers_advertisements(
        cloud, neutron, scratch):
    net, subnet = v6_network(neutron, "v6-slaac", "2001:db8:a1::/64", "slaac")
    router = routed(cloud, neutron, subnet)
    port = create(neutron, "ports", network_id=net["id"], name="guest")
    assert fixed(port) == eui64(subnet["cidr"], port["mac_address"])
    g = guest(scratch, net, port)

    wait(lambda: fixed(port) in global_addresses(g), 30, "the guest's SLAAC address")
    router_link_local = eui64("fe80::/64", interface_mac(neutron, router["id"], subnet["id"]))
    assert f"default via {router_link_local} dev eth0" in default_route(g)
    assert wait(lambda: pings6(g, subnet["gateway_ip"]), 30, "the router's address on the subnet")

    # SLAAC alone: no DHCPv6 server, though the DHCP port has its address in the network's namespace
    dhcp = dhcp_port(neutron, net["id"])
    wait(lambda: port_status(neutron, dhcp["id"]) == "ACTIVE", 30, "the DHCP port to be ACTIVE")
    assert dnsmasq.pid(cloud.data_dir / "dataplane" / "dhcp" / net["id"]) is None
    shown = sh("ip", "-n", f"qdhcp-{net['id']}", "-6", "addr", "show", "dev", f"ns-{dhcp['id'][:11]}").stdout
    assert f"{fixed(dhcp)}/64" in shown


def test_a_dhcpv6_stateful_guest_leases_its_ports_address_from_dnsmasq_and_autoconfigures_none(
        cloud, neutron, scratch):
    net, subnet = v6_network(neutron, "v6-stateful", "2001:db8:a2::/64", "dhcpv6-stateful",
                             dns_nameservers=["2001:db8::53"])
    router = routed(cloud, neutron, subnet)
    port = create(neutron, "ports", network_id=net["id"], name="guest")
    dhcp = dhcp_port(neutron, net["id"])
    wait(lambda: dnsmasq.pid(cloud.data_dir / "dataplane" / "dhcp" / net["id"], f"qdhcp-{net['id']}"), 30,
         "the network's dnsmasq")
    g = guest(scratch, net, port)

    lease = dhcpv6(g, port["mac_address"], "address")
    assert lease["addresses"] == [fixed(port)], lease
    assert lease["dns"] == ["2001:db8::53"]
    # the advertisement's M flag and no A flag: a default route, but no address of the guest's own making
    router_link_local = eui64("fe80::/64", interface_mac(neutron, router["id"], subnet["id"]))
    wait(lambda: router_link_local in default_route(g), 30, "the default route from the advertisement")
    assert global_addresses(g) == set()
    g.run("ip", "addr", "add", f"{lease['addresses'][0]}/64", "dev", "eth0", "nodad")
    assert wait(lambda: pings6(g, fixed(dhcp)), 30, "the DHCP port's address")
    assert pings6(g, subnet["gateway_ip"])

    # a port of another MAC is given nothing of this one's
    stranger = guest(scratch, net, {"mac_address": "fa:16:3e:00:be:ef"})
    assert dhcpv6(stranger, "fa:16:3e:00:be:ef", "address")["addresses"] == []


def test_a_dhcpv6_stateless_guest_autoconfigures_its_address_and_asks_dnsmasq_only_for_options(
        cloud, neutron, scratch):
    net, subnet = v6_network(neutron, "v6-stateless", "2001:db8:a3::/64", "dhcpv6-stateless",
                             dns_nameservers=["2001:db8::53", "2001:db8::54"])
    routed(cloud, neutron, subnet)
    port = create(neutron, "ports", network_id=net["id"], name="guest")
    wait(lambda: dnsmasq.pid(cloud.data_dir / "dataplane" / "dhcp" / net["id"], f"qdhcp-{net['id']}"), 30,
         "the network's dnsmasq")
    g = guest(scratch, net, port)

    wait(lambda: fixed(port) in global_addresses(g), 30, "the guest's SLAAC address")
    assert dhcpv6(g, port["mac_address"], "info")["dns"] == ["2001:db8::53", "2001:db8::54"]
    assert dhcpv6(g, port["mac_address"], "address")["addresses"] == [], "no address leases on a stateless subnet"


def test_guests_on_two_ipv6_subnets_reach_each_other_through_their_router(cloud, neutron, scratch):
    net_a, sub_a = v6_network(neutron, "v6-left", "2001:db8:b1::/64", "slaac")
    net_b, sub_b = v6_network(neutron, "v6-right", "2001:db8:b2::/64", "slaac")
    routed(cloud, neutron, sub_a, sub_b)
    port_a = create(neutron, "ports", network_id=net_a["id"], name="left")
    port_b = create(neutron, "ports", network_id=net_b["id"], name="right")
    left, right = guest(scratch, net_a, port_a), guest(scratch, net_b, port_b)
    for g, p in ((left, port_a), (right, port_b)):
        wait(lambda g=g, p=p: fixed(p) in global_addresses(g), 30, "the guests' SLAAC addresses")
    assert wait(lambda: pings6(left, fixed(port_b)), 30, "the right guest from the left")
    assert pings6(right, fixed(port_a))


def test_ipv6_is_routed_to_the_outside_and_back_without_translation(cloud, neutron, scratch):
    ext = create(neutron, "networks", name="v6-ext", **{"router:external": True, "provider:network_type": "flat",
                                                         "provider:physical_network": "public"})
    create(neutron, "subnets", network_id=ext["id"], cidr="2001:db8:ff::/64", ip_version=6, enable_dhcp=False,
           gateway_ip="2001:db8:ff::1")
    net, subnet = v6_network(neutron, "v6-inside", "2001:db8:c1::/64", "slaac")
    router = routed(cloud, neutron, subnet, external_gateway_info={"network_id": ext["id"]})
    qg = ok(neutron.get(f"/routers/{router['id']}"))["router"]["external_gateway_info"]["external_fixed_ips"]
    qg_address = next(a["ip_address"] for a in qg if ipaddress.ip_address(a["ip_address"]).version == 6)
    ns = f"qrouter-{router['id']}"
    wait(lambda: "default via 2001:db8:ff::1" in sh("ip", "-n", ns, "-6", "route", "show", "default").stdout, 30,
         "the router's IPv6 default route through the external subnet's gateway")

    outside = scratch(cloud.ext_bridge)
    outside.run("ip", "addr", "add", "2001:db8:ff::1/64", "dev", "eth0", "nodad")
    # the outside knows the inside prefix only through the router: no NAT stands in between
    outside.run("ip", "-6", "route", "add", subnet["cidr"], "via", qg_address)
    port = create(neutron, "ports", network_id=net["id"], name="guest")
    g = guest(scratch, net, port)
    wait(lambda: fixed(port) in global_addresses(g), 30, "the guest's SLAAC address")
    assert wait(lambda: pings6(g, "2001:db8:ff::1"), 30, "the outside from the guest")
    assert pings6(outside, fixed(port)), "the outside reaches the guest's own address"
