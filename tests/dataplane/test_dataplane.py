"""The network data plane on this host's real kernel, driven through the API: DHCP from the network's
``qdhcp-`` namespace, a router with SNAT and a floating IP, an agent restart that changes nothing,
and deleting everything (then purging) that leaves nothing of the cloud behind.

"Guests" and "the outside world" are namespaces of the test's own, plugged into the cloud's bridges
by veths; no packet leaves them and the cloud's own namespaces.
"""

from __future__ import annotations

import http.server
import json
import os
import random
import re
import signal
import socketserver
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from onestack.drivers.netns import availability, converge, dnsmasq, metadata_proxy
from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import link_index, require_dataplane, sh

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]


class EchoHeaders(http.server.BaseHTTPRequestHandler):
    """A stand-in metadata server: answers every GET with the request's headers as JSON."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    require_dataplane()
    tag = uuid.uuid4().hex[:6]
    vni = random.randrange(100000, 16000000)  # clouds sharing the machine must not share a VXLAN device
    data = tmp_path_factory.mktemp("dataplane")
    metadata = UnixHTTPServer(str(data / "echo.sock"), EchoHeaders)
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    # the QEMU driver makes this host's guests real, so the data plane plugs the taps of ports bound to it
    c = Cloud(data, settings={"compute": {"driver": "qemu", "host": f"dp-{tag}"}, "network": {
        "dataplane": True, "physical_networks": {"public": f"brx{tag}", "trunk": f"vt{tag}"},
        "vni_ranges": [[vni, vni + 99]],
        "metadata_socket": str(data / "echo.sock")}})
    c.start()
    c.ext_bridge, c.trunk, c.host = f"brx{tag}", f"vt{tag}", f"dp-{tag}"
    yield c
    owner = (c.data_dir / "dataplane" / "owner").read_text().strip()
    c.purge()
    metadata.shutdown()
    assert converge.owned_objects(owner, c.data_dir / "dataplane") == {
        "namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}
    assert f":os-{owner}-" not in sh("iptables-save").stdout  # nor a firewall chain


def owned(c: Cloud) -> dict[str, set[str]]:
    owner = (c.data_dir / "dataplane" / "owner").read_text().strip()
    return converge.owned_objects(owner, c.data_dir / "dataplane")


def create(http, plural: str, **body) -> dict:
    singular = plural[:-1]
    return ok(http.post(f"/{plural}", json={singular: body}), 201)[singular]


@pytest.fixture(scope="module")
def external(cloud):
    """The flat external network on physnet ``public`` (the cloud's own external bridge), gateway .1."""
    with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()},
                      timeout=60) as http:
        ext = create(http, "networks", name="dp-ext", **{"router:external": True, "provider:network_type": "flat",
                                                          "provider:physical_network": "public"})
        create(http, "subnets", network_id=ext["id"], cidr="203.0.113.0/24", ip_version=4, enable_dhcp=False,
               gateway_ip="203.0.113.1", allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.99"}])
    return ext


def port_status(http, port_id: str) -> str:
    return ok(http.get(f"/ports/{port_id}"))["port"]["status"]


def router_gateway_port(http, router_id: str) -> str:
    return ok(http.get("/ports", params={"device_id": router_id, "device_owner": "network:router_gateway"})
              )["ports"][0]["id"]


def router_interface(http, router_id: str) -> str:
    return ok(http.get("/ports", params={"device_id": router_id, "device_owner": "network:router_interface"})
              )["ports"][0]["id"]


def dhcp_port(http, network_id: str) -> dict:
    return ok(http.get("/ports", params={"network_id": network_id, "device_owner": "network:dhcp"}))["ports"][0]


def test_a_guest_gets_its_address_routes_and_dns_from_the_networks_dnsmasq(cloud, neutron, scratch):
    net = create(neutron, "networks", name="dp-l2")
    subnet = create(neutron, "subnets", network_id=net["id"], cidr="10.90.0.0/24", ip_version=4,
                    dns_nameservers=["192.0.2.53"],
                    host_routes=[{"destination": "192.0.2.0/24", "nexthop": "10.90.0.254"}])
    port = create(neutron, "ports", network_id=net["id"], name="guest")
    bridge = f"brq{net['id'][:11]}"
    wait(lambda: link_index(bridge), 30, "the network's bridge")
    wait(lambda: link_index(f"vxlan-{net['provider:segmentation_id']}"), 30, "the network's VXLAN device")
    dhcp = dhcp_port(neutron, net["id"])
    wait(lambda: port_status(neutron, dhcp["id"]) == "ACTIVE", 30, "the DHCP port to be ACTIVE")
    assert sh("ip", "link", "show", f"tap{dhcp['id'][:11]}").stdout.count(f"master {bridge}") == 1

    guest = scratch(bridge, port["mac_address"])
    lease = guest.dhcp()
    assert lease["ip"] == port["fixed_ips"][0]["ip_address"]
    assert lease["router"] == subnet["gateway_ip"]
    assert lease["dns"].split() == ["192.0.2.53"]
    assert lease["mtu"] == str(net["mtu"])
    dhcp_ip = dhcp["fixed_ips"][0]["ip_address"]
    routes = lease["staticroutes"].split()
    assert routes[:2] == ["192.0.2.0/24", "10.90.0.254"]
    assert ["169.254.169.254/32", dhcp_ip] == routes[2:4]

    guest.address(f"{lease['ip']}/24")
    assert guest.pings(dhcp_ip), "the guest reaches the DHCP namespace over the bridge"

    # metadata: through the route DHCP gave, to the proxy in the namespace, which says who is asking
    guest.run("ip", "route", "add", "169.254.169.254/32", "via", dhcp_ip)
    got = json.loads(wait(lambda: guest.run("busybox", "wget", "-q", "-O", "-", "--header", "X-Forwarded-For: 10.9.9.9",
                                            "http://169.254.169.254/openstack/latest/meta_data.json",
                                            check=False).stdout, 30, "the metadata proxy"))
    assert got["path"] == "/openstack/latest/meta_data.json"
    assert got["x-forwarded-for"] == lease["ip"], "the guest's own claim is replaced by its real address"
    assert got["x-neutron-network-id"] == net["id"]

    # a port created later is served after dnsmasq re-reads its hosts file (SIGHUP, same process)
    folder = cloud.data_dir / "dataplane" / "dhcp" / net["id"]
    before = dnsmasq.pid(folder)
    late = create(neutron, "ports", network_id=net["id"], name="late")
    wait(lambda: late["mac_address"] in (folder / "hosts").read_text(), 30, "the new port's lease")
    assert dnsmasq.pid(folder) == before
    second = scratch(bridge, late["mac_address"])
    assert second.dhcp()["ip"] == late["fixed_ips"][0]["ip_address"]


def test_a_router_gives_snat_to_the_outside_and_a_floating_ip_brings_the_outside_in(cloud, neutron, scratch,
                                                                                    external):
    ext = external
    net = create(neutron, "networks", name="dp-private")
    subnet = create(neutron, "subnets", network_id=net["id"], cidr="10.91.0.0/24", ip_version=4)
    router = create(neutron, "routers", name="dp-router", external_gateway_info={"network_id": ext["id"]})
    ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    port = create(neutron, "ports", network_id=net["id"], name="guest")
    gateway_address = ok(neutron.get(f"/routers/{router['id']}"))["router"]["external_gateway_info"][
        "external_fixed_ips"][0]["ip_address"]

    wait(lambda: link_index(cloud.ext_bridge), 30, "the external bridge")
    outside = scratch(cloud.ext_bridge)
    outside.address("203.0.113.1/24")  # the external subnet's gateway: the "internet" of this test
    guest = scratch(f"brq{net['id'][:11]}", port["mac_address"])
    wait(lambda: Path(f"/run/netns/qrouter-{router['id']}").exists(), 30, "the router's namespace")
    lease = guest.dhcp()
    guest.address(f"{lease['ip']}/24", lease["router"])

    assert wait(lambda: guest.pings(subnet["gateway_ip"]), 30, "the router's inside address to answer")
    # the outside has no route to 10.91.0.0/24: a reply can only come back to the router's address
    assert wait(lambda: guest.pings("203.0.113.1"), 30, "SNAT to the outside")
    seen = sh("ip", "netns", "exec", f"qrouter-{router['id']}", "conntrack", "-L", "-p", "icmp", check=False).stdout
    assert f"dst={gateway_address}" in seen, seen

    # the outside learns where a new floating address lives from the router's gratuitous ARP, unasked
    outside.run("sysctl", "-q", "-w", "net.ipv4.conf.eth0.arp_accept=1")
    fip = create(neutron, "floatingips", floating_network_id=ext["id"], port_id=port["id"])
    qg_mac = ok(neutron.get(f"/ports/{router_gateway_port(neutron, router['id'])}"))["port"]["mac_address"]
    wait(lambda: qg_mac in outside.run("ip", "neigh", "show", fip["floating_ip_address"]).stdout, 30,
         "the gratuitous ARP for the floating address")
    assert wait(lambda: outside.pings(fip["floating_ip_address"]), 30, "DNAT through the floating IP")
    wait(lambda: ok(neutron.get(f"/floatingips/{fip['id']}"))["floatingip"]["status"] == "ACTIVE", 30,
         "the floating IP to be ACTIVE")

    # extra routes land in the router's namespace
    route = {"destination": "192.0.2.0/24", "nexthop": "10.91.0.200"}
    ok(neutron.put(f"/routers/{router['id']}", json={"router": {"routes": [route]}}))
    wait(lambda: "via 10.91.0.200" in sh("ip", "-n", f"qrouter-{router['id']}", "route", "show",
                                          "192.0.2.0/24").stdout, 30, "the extra route")

    ok(neutron.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}}))
    wait(lambda: not outside.pings(fip["floating_ip_address"]), 30, "the floating IP to stop answering")

    # without SNAT the outside cannot answer the guest (it has no route back to the private subnet)
    ok(neutron.put(f"/routers/{router['id']}", json={"router": {"external_gateway_info": {
        "network_id": ext["id"], "enable_snat": False}}}))
    wait(lambda: not guest.pings("203.0.113.1"), 30, "egress to stop without SNAT")


def test_restarting_the_agent_changes_nothing_that_was_right(cloud, neutron, external, scratch):
    net = create(neutron, "networks", name="dp-restart")
    subnet = create(neutron, "subnets", network_id=net["id"], cidr="10.92.0.0/24", ip_version=4)
    router = create(neutron, "routers", name="dp-restart", external_gateway_info={"network_id": external["id"]})
    inside = ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    dhcp = dhcp_port(neutron, net["id"])
    gateway = router_gateway_port(neutron, router["id"])
    for port_id in (dhcp["id"], inside["port_id"], gateway):
        wait(lambda p=port_id: port_status(neutron, p) == "ACTIVE", 30, "the namespaces' ports to be ACTIVE")
    ns, qr = f"qdhcp-{net['id']}", f"qrouter-{router['id']}"
    folder = cloud.data_dir / "dataplane" / "dhcp" / net["id"]
    names = [(f"brq{net['id'][:11]}", None), (f"tap{dhcp['id'][:11]}", None), (f"ns-{dhcp['id'][:11]}", ns),
             (f"qr-{inside['port_id'][:11]}", qr), (f"qg-{gateway[:11]}", qr)]

    def state():
        table = json.loads(sh("ip", "netns", "exec", qr, "nft", "-j", "list", "table", "ip", "onestack-nat").stdout)
        handle = next(item["table"]["handle"] for item in table["nftables"] if "table" in item)
        return ([link_index(n, where) for n, where in names], dnsmasq.pid(folder, ns), metadata_proxy.pid(folder),
                [Path(f"/run/netns/{n}").stat().st_ino for n in (ns, qr)], handle)

    before = state()
    assert None not in before[0] and before[1] and before[2]
    # a guest pings the router's inside address ten times a second all through the restart
    guest = scratch(f"brq{net['id'][:11]}")
    guest.address("10.92.0.200/24")
    assert wait(lambda: guest.pings(subnet["gateway_ip"]), 30, "the router to answer")
    ping = subprocess.Popen(["ip", "netns", "exec", guest.name, "busybox", "ping", "-i", "0.1",
                             subnet["gateway_ip"]], stdout=subprocess.PIPE, text=True)
    try:
        cloud.stop()
        cloud.start()
        with httpx.Client(base_url=f"{cloud.url}/network/v2.0", headers={"X-Auth-Token": cloud.token()}) as http:
            # a port made after the restart shows the restarted agent has made its full passes
            late = create(http, "ports", network_id=net["id"], name="after-restart")
            wait(lambda: late["mac_address"] in (folder / "hosts").read_text(), 30, "a pass of the restarted agent")
            assert state() == before
    finally:
        ping.send_signal(signal.SIGINT)  # busybox prints its count on SIGINT
        out = ping.communicate(timeout=10)[0]
    sent, received = (int(n) for n in re.search(r"(\d+) packets transmitted, (\d+) packets received", out).groups())
    assert sent > 20 and received >= sent - 1, f"replies lost across the restart: {out[-300:]}"  # one in flight


def test_deleting_everything_leaves_nothing_of_it_behind(cloud, neutron, external):
    ext = external
    net = create(neutron, "networks", name="dp-gone")
    subnet = create(neutron, "subnets", network_id=net["id"], cidr="10.93.0.0/24", ip_version=4)
    router = create(neutron, "routers", name="dp-gone", external_gateway_info={"network_id": ext["id"]})
    ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    mine = {f"qdhcp-{net['id']}", f"qrouter-{router['id']}"}
    wait(lambda: mine <= owned(cloud)["namespaces"], 30, "the network's and router's namespaces")
    assert net["id"] in owned(cloud)["dnsmasq"]

    ok(neutron.put(f"/routers/{router['id']}/remove_router_interface", json={"subnet_id": subnet["id"]}))
    ok(neutron.delete(f"/routers/{router['id']}"), 204)
    ok(neutron.delete(f"/networks/{net['id']}"), 204)

    def gone() -> bool:
        # one pass removes them one after another: wait for the pass to finish, not its first step
        left = owned(cloud)
        return (not mine & left["namespaces"] and net["id"] not in left["dnsmasq"]
                and not {n for n in left["links"] if n.startswith(f"brq{net['id'][:11]}")}
                and not Path(cloud.data_dir / "dataplane" / "dhcp" / net["id"]).exists())

    wait(gone, 30, "the namespaces, dnsmasq, bridge and DHCP files to go")


def test_what_is_broken_behind_its_back_is_repaired_within_seconds(cloud, neutron, external):
    net = create(neutron, "networks", name="dp-repair")
    subnet = create(neutron, "subnets", network_id=net["id"], cidr="10.94.0.0/24", ip_version=4)
    router = create(neutron, "routers", name="dp-repair", external_gateway_info={"network_id": external["id"]})
    ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    folder = cloud.data_dir / "dataplane" / "dhcp" / net["id"]
    ns, qr = f"qdhcp-{net['id']}", f"qrouter-{router['id']}"
    first = wait(lambda: dnsmasq.pid(folder, ns), 30, "dnsmasq")
    wait(lambda: Path(f"/run/netns/{qr}").exists(), 30, "the router's namespace")

    os.kill(first, signal.SIGKILL)
    sh("ip", "netns", "del", qr)
    # SIGKILL lands asynchronously: until the victim is gone its pid still answers, so wait for another one
    def restarted() -> int | None:
        now = dnsmasq.pid(folder, ns)
        return now if now != first else None

    again = wait(restarted, 30, "dnsmasq to be started again")
    assert again != first
    wait(lambda: link_index(f"qr-{router_interface(neutron, router['id'])[:11]}", qr), 30,
         "the router's namespace to be made again")


def test_two_projects_networks_with_the_same_cidr_stay_apart(cloud, neutron, scratch):
    nets = [create(neutron, "networks", name=f"dp-same-{i}", tenant_id=uuid.uuid4().hex) for i in range(2)]
    for net in nets:
        create(neutron, "subnets", network_id=net["id"], cidr="10.95.0.0/24", ip_version=4, tenant_id=net["project_id"])
    dhcps = [dhcp_port(neutron, net["id"]) for net in nets]
    assert dhcps[0]["fixed_ips"][0]["ip_address"] == dhcps[1]["fixed_ips"][0]["ip_address"]
    address = dhcps[0]["fixed_ips"][0]["ip_address"]
    for net, dhcp in zip(nets, dhcps, strict=True):
        wait(lambda d=dhcp: port_status(neutron, d["id"]) == "ACTIVE", 30, "the DHCP port to be ACTIVE")
        guest = scratch(f"brq{net['id'][:11]}")
        guest.address("10.95.0.200/24")
        assert wait(lambda g=guest: g.pings(address), 30, "the network's own DHCP address")
        neighbour = guest.run("ip", "neigh", "show", address).stdout
        assert dhcp["mac_address"] in neighbour, "answered by its own network's namespace, never the other's"


def test_a_guests_tap_is_plugged_when_it_appears_and_its_port_follows_it_up_and_down(cloud, neutron):
    net = create(neutron, "networks", name="dp-tap")
    create(neutron, "subnets", network_id=net["id"], cidr="10.96.0.0/24", ip_version=4)
    port = create(neutron, "ports", network_id=net["id"], device_owner="compute:nova",
                  device_id=str(uuid.uuid4()), **{"binding:host_id": cloud.host})
    tap, bridge = f"tap{port['id'][:11]}", f"brq{net['id'][:11]}"
    wait(lambda: link_index(bridge), 30, "the network's bridge")
    assert port_status(neutron, port["id"]) == "DOWN"
    sh("ip", "tuntap", "add", "dev", tap, "mode", "tap")  # as the QEMU driver makes it, before QEMU starts
    try:
        wait(lambda: port_status(neutron, port["id"]) == "ACTIVE", 30, "the port to be ACTIVE once plugged")
        shown = sh("ip", "-d", "link", "show", tap).stdout
        assert f"master {bridge}" in shown and "mtu 1450" in shown
    finally:
        sh("ip", "link", "del", tap, check=False)
    wait(lambda: port_status(neutron, port["id"]) == "DOWN", 30, "the port to be DOWN once its tap is gone")


def test_a_vlan_network_carries_tagged_frames_on_its_physical_networks_interface(cloud, neutron, scratch):
    if not availability.vlan():
        pytest.skip("this kernel has no 802.1q (VLAN) support (no /proc/net/vlan, and it loads no modules): "
                    "VLAN networks are not wired here; their API is tested in tests/api")
    vlan_id = random.randrange(2, 4000)
    # the physical network's interface: a veth whose far end, in a namespace, holds the VLAN's other side
    far = f"ostest-{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", far)
    try:
        sh("ip", "link", "add", cloud.trunk, "type", "veth", "peer", "name", "eth0", "netns", far)
        sh("ip", "link", "set", cloud.trunk, "up")
        sh("ip", "-n", far, "link", "set", "eth0", "up")
        sh("ip", "-n", far, "link", "add", "link", "eth0", "name", "eth0.v", "type", "vlan", "id", str(vlan_id))
        sh("ip", "-n", far, "addr", "add", "10.97.0.1/24", "dev", "eth0.v")
        sh("ip", "-n", far, "link", "set", "eth0.v", "up")
        net = create(neutron, "networks", name="dp-vlan", **{"provider:network_type": "vlan",
                                                             "provider:physical_network": "trunk",
                                                             "provider:segmentation_id": vlan_id})
        create(neutron, "subnets", network_id=net["id"], cidr="10.97.0.0/24", ip_version=4, enable_dhcp=False)
        bridge, device = f"brq{net['id'][:11]}", f"{cloud.trunk}.{vlan_id}"
        wait(lambda: f"master {bridge}" in sh("ip", "link", "show", device, check=False).stdout, 30,
             "the VLAN device in the network's bridge")
        assert f"vlan protocol 802.1Q id {vlan_id}" in sh("ip", "-d", "link", "show", device).stdout
        guest = scratch(bridge)
        guest.address("10.97.0.10/24")
        assert wait(lambda: guest.pings("10.97.0.1"), 30, "the far end across the VLAN")
        ok(neutron.delete(f"/networks/{net['id']}"), 204)
        wait(lambda: link_index(device) is None, 30, "the VLAN device to go with its network")
    finally:
        sh("ip", "link", "del", cloud.trunk, check=False)
        sh("ip", "netns", "del", far, check=False)


def test_a_floating_ips_port_forwarding_brings_one_outside_port_to_one_guest_port(cloud, neutron, scratch,
                                                                                   external):
    net = create(neutron, "networks", name="dp-forward")
    subnet = create(neutron, "subnets", network_id=net["id"], cidr="10.98.0.0/24", ip_version=4)
    router = create(neutron, "routers", name="dp-forward", external_gateway_info={"network_id": external["id"]})
    ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    port = create(neutron, "ports", network_id=net["id"], name="served")
    inside = port["fixed_ips"][0]["ip_address"]
    fip = create(neutron, "floatingips", floating_network_id=external["id"])
    ok(neutron.post(f"/floatingips/{fip['id']}/port_forwardings", json={"port_forwarding": {
        "internal_port_id": port["id"], "internal_ip_address": inside, "internal_port": 8080,
        "external_port": 2222, "protocol": "tcp"}}), 201)

    wait(lambda: link_index(f"brq{net['id'][:11]}"), 30, "the network's bridge")
    guest = scratch(f"brq{net['id'][:11]}", port["mac_address"])
    guest.address(f"{inside}/24", subnet["gateway_ip"])
    # the guest's service answers each connection with the address it came from
    server = subprocess.Popen(["ip", "netns", "exec", guest.name, sys.executable, "-c",
                               "import socket\ns = socket.create_server(('0.0.0.0', 8080))\n"
                               "while True:\n    c, a = s.accept()\n    c.sendall(a[0].encode())\n    c.close()"])
    wait(lambda: link_index(cloud.ext_bridge), 30, "the external bridge")
    outside = scratch(cloud.ext_bridge)
    outside.address("203.0.113.1/24")
    try:
        wait(lambda: ok(neutron.get(f"/floatingips/{fip['id']}"))["floatingip"]["status"] == "ACTIVE", 30,
             "the forwarding floating IP to be ACTIVE")

        def fetch(port_number: int) -> str:
            code = (f"import socket; s = socket.create_connection(({fip['floating_ip_address']!r}, {port_number}), "
                    "timeout=2); print(s.recv(64).decode())")
            done = outside.run(sys.executable, "-c", code, check=False)
            return done.stdout.strip() if done.returncode == 0 else ""

        # the guest sees the outside's own address: a forwarding translates the destination only
        assert wait(lambda: fetch(2222), 30, "the forwarded port") == "203.0.113.1"
        assert fetch(8080) == "", "only the forwarded port is open on the floating address"
        ok(neutron.delete(f"/floatingips/{fip['id']}"), 204)
        wait(lambda: not fetch(2222), 30, "the forwarding to go with its floating IP")
    finally:
        server.kill()
        server.wait()
