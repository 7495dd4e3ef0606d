"""The data plane's desired state, computed from network rows without a database or a kernel, and the
files and rules it renders (dnsmasq's, the router's nftables table, the metadata proxy's request head)."""

from __future__ import annotations

from pathlib import Path

from onestack.drivers.netns import dnsmasq, metadata_proxy, nat
from onestack.drivers.netns.plan import FloatingIP, PortForward, Router, Veth
from onestack.services.network.dataplane import desired
from onestack.services.network.models import IPAllocation, Network, Port, Subnet

NET = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def facts(**over) -> desired.HostFacts:
    base = dict(owner="abc123", host="h1", guests=True, bridge_mappings={"public": "br-ex", "phys": "eth9"},
                interfaces={"br-ex": "bridge", "eth9": ""}, vlan_supported=False)
    return desired.HostFacts(**{**base, **over})


def network(kind="vxlan", physnet=None, seg=42, mtu=1450) -> Network:
    return Network(id=NET, network_type=kind, physical_network=physnet, segmentation_id=seg, mtu=mtu,
                   dns_domain="")


def test_a_vxlan_network_gets_its_brq_bridge_and_a_vxlan_device_named_by_its_vni():
    seg = desired.segment(network(), facts(tunnel_ip="192.0.2.7"))
    assert seg.bridge == "brq0a1b2c3d-4e" and seg.mtu == 1450 and not seg.skipped
    assert (seg.vxlan.name, seg.vxlan.vni, seg.vxlan.local, seg.vxlan.remotes) == ("vxlan-42", 42, "192.0.2.7", ())


def test_a_flat_network_mapped_to_a_bridge_is_that_bridge_and_one_mapped_to_an_interface_gets_it_as_uplink():
    assert desired.segment(network("flat", "public", None), facts()).bridge == "br-ex"
    on_nic = desired.segment(network("flat", "phys", None), facts())
    assert (on_nic.bridge, on_nic.uplink) == ("brq0a1b2c3d-4e", "eth9")
    # a mapped bridge that does not exist yet is made (and owned) by the data plane, with the host's address
    made = desired.segment(network("flat", "public", None), facts(interfaces={},
                                                                  bridge_addresses={"br-ex": ["172.24.4.1/24"]}))
    assert (made.bridge, made.host_addresses) == ("br-ex", ("172.24.4.1/24",))


def test_networks_this_host_cannot_carry_are_skipped_with_the_reason():
    assert "no bridge mapping" in desired.segment(network("flat", "nowhere", None), facts()).skipped
    assert "802.1q" in desired.segment(network("vlan", "public", 100), facts()).skipped


def test_a_vlan_network_where_the_kernel_has_802_1q_gets_a_tagged_device_of_its_mapped_interface():
    seg = desired.segment(network("vlan", "phys", 100, mtu=1500), facts(vlan_supported=True))
    assert not seg.skipped and seg.bridge == "brq0a1b2c3d-4e"
    assert (seg.vlan.name, seg.vlan.parent, seg.vlan.vlan_id) == ("eth9.100", "eth9", 100)
    # past 15 characters the name is cut, and a digest keeps two long interface names apart
    long_a, long_b = desired.vlan_device("enp0s31f6long1", 4094), desired.vlan_device("enp0s31f6long2", 4094)
    assert len(long_a.name) == 15 and long_a.name.endswith(".4094") and long_a.name != long_b.name


def port(pid: str, mac: str, *ips: tuple[str, str], owner="compute:nova", dns_name="") -> Port:
    row = Port(id=pid, network_id=NET, mac_address=mac, device_owner=owner, dns_name=dns_name, host_id="h1")
    row.fixed_ips = [IPAllocation(subnet_id=s, ip_address=a, port_id=pid, network_id=NET) for s, a in ips]
    return row


def subnet(sid: str, cidr: str, gateway: str | None, dhcp=True, **extra) -> Subnet:
    return Subnet(id=sid, network_id=NET, cidr=cidr, gateway_ip=gateway, enable_dhcp=dhcp,
                  ip_version=6 if ":" in cidr else 4, dns_nameservers=extra.get("dns", []),
                  host_routes=extra.get("routes", []))


def test_dhcp_serves_static_leases_of_every_port_on_dhcp_subnets_with_the_metadata_route():
    net = network()
    net.subnets = [subnet("s1", "10.0.0.0/24", "10.0.0.1", dns=["192.0.2.53"],
                          routes=[{"destination": "192.0.2.0/24", "nexthop": "10.0.0.254"}]),
                   subnet("s2", "10.1.0.0/24", "10.1.0.1", dhcp=False)]
    dhcp_port = port("d" * 36, "fa:16:3e:00:00:01", ("s1", "10.0.0.2"), owner="network:dhcp")
    guest = port("e" * 36, "fa:16:3e:00:00:02", ("s1", "10.0.0.5"), ("s2", "10.1.0.5"), dns_name="web")
    plan = desired.dhcp(net, dhcp_port, [dhcp_port, guest], "brqX", facts())
    assert plan.namespace == f"qdhcp-{NET}" and plan.metadata
    assert (plan.veth.outer, plan.veth.inner) == ("tapddddddddddd", "ns-ddddddddddd")
    assert plan.veth.addresses == ("10.0.0.2/24", "169.254.169.254/32")
    assert plan.server.hosts == (dnsmasq.DhcpHost("fa:16:3e:00:00:02", "10.0.0.5", "web"),)
    (only,) = plan.server.subnets
    assert only.host_routes == (("192.0.2.0/24", "10.0.0.254"), ("169.254.169.254/32", "10.0.0.2"))
    assert only.dns_servers == ("192.0.2.53",) and only.mtu == 1450


def test_dnsmasq_files_give_static_ranges_leases_and_options_with_the_default_route_inside_option_121():
    server = dnsmasq.DhcpServer(NET, "qdhcp-x", "ns-1", (dnsmasq.DhcpSubnet(
        "10.0.0.0/26", "10.0.0.1", ("192.0.2.53",), (("169.254.169.254/32", "10.0.0.2"),), 1450),),
        (dnsmasq.DhcpHost("fa:16:3e:00:00:02", "10.0.0.5", "host-10-0-0-5"),))
    files = dnsmasq.render(server, Path("/state/x"))
    assert "dhcp-range=set:subnet0,10.0.0.0,static,255.255.255.192,86400s" in files["dnsmasq.conf"]
    assert "interface=ns-1\n" in files["dnsmasq.conf"] and "port=0\n" in files["dnsmasq.conf"]
    assert files["hosts"] == "fa:16:3e:00:00:02,host-10-0-0-5.openstacklocal,10.0.0.5\n"
    opts = files["opts"].splitlines()
    assert "tag:subnet0,option:router,10.0.0.1" in opts
    assert "tag:subnet0,option:dns-server,192.0.2.53" in opts
    assert "tag:subnet0,option:classless-static-route,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1" in opts


def test_the_router_table_snats_egress_on_its_gateway_and_pairs_dnat_with_snat_per_floating_ip():
    gw = Veth("p", "tapp", "qg-p", "br-ex", "fa:16:3e:00:00:09", 1500, ("172.24.4.10/24", "172.24.4.50/32"))
    router = Router("r", "qrouter-r", (), gw, "172.24.4.1", snat=True,
                    floating_ips=(FloatingIP("172.24.4.50", "10.0.0.5"),))
    text = nat.render(router)
    assert "ip daddr 172.24.4.50 dnat to 10.0.0.5" in text
    assert 'oifname "qg-p" ip saddr 10.0.0.5 snat to 172.24.4.50' in text
    assert text.index("snat to 172.24.4.50") < text.index('oifname "qg-p" snat to 172.24.4.10')
    assert "snat to 172.24.4.10" not in nat.render(Router("r", "qrouter-r", (), gw, snat=False))


def test_a_port_forwarding_is_a_dnat_of_one_protocol_and_port_with_no_snat_of_its_own():
    gw = Veth("p", "tapp", "qg-p", "br-ex", "fa:16:3e:00:00:09", 1500, ("172.24.4.10/24", "172.24.4.60/32"))
    forward = PortForward("172.24.4.60", "udp", 5353, "10.0.0.7", 53)
    text = nat.render(Router("r", "qrouter-r", (), gw, "172.24.4.1", snat=False, port_forwards=(forward,)))
    assert text.count("ip daddr 172.24.4.60 udp dport 5353 dnat to 10.0.0.7:53") == 2  # prerouting and output
    assert "snat" not in text


def test_the_metadata_proxy_replaces_identity_headers_and_closes_each_connection():
    head = (b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\nX-Forwarded-For: 10.9.9.9\r\n"
            b"x-neutron-network-id: other\r\nConnection: keep-alive\r\n\r\n")
    out = metadata_proxy.rewrite_head(head, "10.0.0.5", NET).decode()
    assert out.startswith("GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n")
    assert "10.9.9.9" not in out and "other" not in out and "keep-alive" not in out
    assert out.endswith(f"X-Forwarded-For: 10.0.0.5\r\nX-Neutron-Network-ID: {NET}\r\nConnection: close\r\n\r\n")


def test_the_other_hosts_tunnel_addresses_are_the_vxlan_devices_flooding_entries():
    seg = desired.segment(network(), facts(tunnel_ip="192.0.2.7", remotes=("192.0.2.8", "192.0.2.9")))
    assert seg.vxlan.remotes == ("192.0.2.8", "192.0.2.9")
