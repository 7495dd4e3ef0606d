"""The data plane's desired state, computed from network rows without a database or a kernel, and the
files and rules it renders (dnsmasq's, the router's nftables table, the metadata proxy's haproxy configuration)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from onestack.drivers.netns import dnsmasq, metadata_proxy, nat, radvd
from onestack.drivers.netns.plan import FloatingIP, PortForward, Router, Segment, Veth
from onestack.services.network.models import IPAllocation, Network, Port, Subnet
from onestack.services.network.models import Router as RouterRow
from onestack.services.network.reconcile import desired

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
                  host_routes=extra.get("routes", []), ipv6_ra_mode=extra.get("mode"),
                  ipv6_address_mode=extra.get("mode"))


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


def test_the_metadata_proxy_config_drops_the_guests_identity_headers_then_sets_its_own(tmp_path):
    text = metadata_proxy.render(NET, Path("/data/metadata.sock"), tmp_path)
    lines = [line.strip() for line in text.splitlines()]
    assert "bind 169.254.169.254:80" in lines and "server metadata /data/metadata.sock" in lines
    assert f"pidfile {tmp_path / 'haproxy.pid'}" in lines
    dropped = {line.split()[-1].lower(): n for n, line in enumerate(lines) if "del-header" in line}
    assert set(dropped) == {"x-forwarded-for", "x-neutron-network-id", "x-neutron-router-id", "x-instance-id",
                            "x-instance-id-signature", "x-tenant-id"}
    set_at = lines.index("http-request set-header X-Forwarded-For %[src]")
    assert lines[set_at + 1] == f"http-request set-header X-Neutron-Network-ID {NET}"
    assert max(dropped.values()) < set_at, "haproxy applies its rules in order: drop first, then set"
    if shutil.which("haproxy"):  # installed with the data plane's packages (make install)
        (tmp_path / "haproxy.cfg").write_text(text)
        checked = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_other_hosts_tunnel_addresses_are_the_vxlan_devices_flooding_entries():
    seg = desired.segment(network(), facts(tunnel_ip="192.0.2.7", remotes=("192.0.2.8", "192.0.2.9")))
    assert seg.vxlan.remotes == ("192.0.2.8", "192.0.2.9")


def test_dnsmasq_serves_dhcpv6_leases_on_stateful_subnets_options_on_stateless_ones_and_nothing_on_slaac():
    net = network()
    net.subnets = [subnet("s4", "10.0.0.0/24", "10.0.0.1"),
                   subnet("full", "2001:db8:1::/64", "2001:db8:1::1", dns=["2001:db8::53"], mode="dhcpv6-stateful"),
                   subnet("less", "2001:db8:2::/64", "2001:db8:2::1", mode="dhcpv6-stateless"),
                   subnet("auto", "2001:db8:3::/64", "2001:db8:3::1", mode="slaac"),
                   subnet("bare", "2001:db8:4::/64", "2001:db8:4::1")]  # no IPv6 mode: DHCPv6 as stateful
    dhcp_port = port("d" * 36, "fa:16:3e:00:00:01", ("s4", "10.0.0.2"), ("full", "2001:db8:1::2"),
                     ("less", "2001:db8:2::f816:3eff:fe00:1"), ("auto", "2001:db8:3::f816:3eff:fe00:1"),
                     ("bare", "2001:db8:4::2"), owner="network:dhcp")
    guest = port("e" * 36, "fa:16:3e:00:00:02", ("s4", "10.0.0.5"), ("full", "2001:db8:1::5"),
                 ("less", "2001:db8:2::f816:3eff:fe00:2"), ("auto", "2001:db8:3::f816:3eff:fe00:2"))
    plan = desired.dhcp(net, dhcp_port, [dhcp_port, guest], "brqX", facts())
    # the DHCP port holds all its addresses, SLAAC ones too, and the metadata address (IPv4 guests ask it)
    assert "2001:db8:3::f816:3eff:fe00:1/64" in plan.veth.addresses and "169.254.169.254/32" in plan.veth.addresses
    assert [s.cidr for s in plan.server.subnets] == ["10.0.0.0/24", "2001:db8:1::/64", "2001:db8:2::/64",
                                                      "2001:db8:4::/64"]
    assert [h.ip for h in plan.server.hosts] == ["10.0.0.5", "2001:db8:1::5"]
    assert plan.server.hosts[1].hostname == "host-2001-db8-1--5"

    files = dnsmasq.render(plan.server, Path("/state/x"))
    conf = files["dnsmasq.conf"].splitlines()
    assert "dhcp-range=set:subnet1,2001:db8:1::,static,64,86400s" in conf
    assert "dhcp-range=set:subnet2,2001:db8:2::,static,64,86400s" in conf
    assert not any("2001:db8:3::" in line for line in conf)
    assert "fa:16:3e:00:00:02,host-2001-db8-1--5.openstacklocal,[2001:db8:1::5]" in files["hosts"].splitlines()
    opts = files["opts"].splitlines()
    assert "tag:subnet1,option6:dns-server,[2001:db8::53]" in opts
    assert "tag:subnet2,option6:dns-server" in opts  # none: dnsmasq must not offer itself
    assert not any(o.startswith("tag:subnet1,option:") for o in opts), "no DHCPv4 options on an IPv6 subnet"


def test_a_network_with_slaac_subnets_only_runs_no_dnsmasq_and_no_metadata_proxy():
    net = network()
    net.subnets = [subnet("auto", "2001:db8:3::/64", "2001:db8:3::1", mode="slaac")]
    dhcp_port = port("d" * 36, "fa:16:3e:00:00:01", ("auto", "2001:db8:3::f816:3eff:fe00:1"), owner="network:dhcp")
    plan = desired.dhcp(net, dhcp_port, [dhcp_port], "brqX", facts())
    assert plan.server is None and not plan.metadata
    assert plan.veth.addresses == ("2001:db8:3::f816:3eff:fe00:1/64",)


def test_router_advertisements_carry_the_flags_of_each_ra_mode():
    def flags(mode: str) -> tuple[str, str, str]:
        text = radvd.render((radvd.Advertised("qr-x", 1450, (radvd.Prefix("2001:db8::/64", mode),)),))
        pick = ("AdvManagedFlag", "AdvOtherConfigFlag", "AdvAutonomous")
        return tuple(next(line.split()[1].rstrip(";") for line in text.splitlines() if f in line) for f in pick)

    assert flags("slaac") == ("off", "off", "on")
    assert flags("dhcpv6-stateless") == ("off", "on", "on")
    assert flags("dhcpv6-stateful") == ("on", "off", "off")
    text = radvd.render((radvd.Advertised("qr-x", 1450, (radvd.Prefix("2001:db8::/64", "slaac"),),
                                          ("2001:db8::53",)),))
    assert "interface qr-x\n{\n    AdvSendAdvert on;" in text and "AdvLinkMTU 1450;" in text
    assert "prefix 2001:db8::/64" in text and "RDNSS 2001:db8::53" in text


def test_a_router_advertises_its_ra_subnets_routes_ipv6_by_the_external_gateway_and_snats_ipv4_only():
    inside, outside = network(), Network(id="f" * 36, network_type="flat", physical_network="public", mtu=1500,
                                         segmentation_id=None, dns_domain="")
    inside.subnets = [subnet("ra", "2001:db8:1::/64", "2001:db8:1::1", dns=["2001:db8::53"], mode="slaac"),
                      subnet("quiet", "2001:db8:2::/64", "2001:db8:2::1")]  # no RA mode: not advertised
    outside.subnets = [Subnet(id="x6", network_id=outside.id, cidr="2001:db8:ff::/64", gateway_ip="2001:db8:ff::1",
                              ip_version=6, enable_dhcp=False, dns_nameservers=[], host_routes=[]),
                       Subnet(id="x4", network_id=outside.id, cidr="172.24.4.0/24", gateway_ip="172.24.4.1",
                              ip_version=4, enable_dhcp=False, dns_nameservers=[], host_routes=[])]
    qr1 = port("1" * 36, "fa:16:3e:00:00:11", ("ra", "2001:db8:1::1"), owner="network:router_interface")
    qr2 = port("2" * 36, "fa:16:3e:00:00:12", ("quiet", "2001:db8:2::1"), owner="network:router_interface")
    qg = port("3" * 36, "fa:16:3e:00:00:13", ("x6", "2001:db8:ff::5"), ("x4", "172.24.4.5"),
              owner="network:router_gateway")
    for p in (qr1, qr2):
        p.device_id = "r"
    qg.network_id = outside.id
    row = RouterRow(id="r", gw_port_id=qg.id, routes=[{"destination": "2001:db8:9::/64", "nexthop": "2001:db8:1::9"}],
                    enable_snat=True)
    segments = {NET: Segment(NET, "brqX", 1450), outside.id: Segment(outside.id, "br-ex", 1500)}
    plan = desired.router(row, [qr1, qr2, qg], {NET: inside, outside.id: outside}, segments, [])
    assert plan.advertised == (radvd.Advertised("qr-11111111111", 1450, (radvd.Prefix("2001:db8:1::/64", "slaac"),),
                                                ("2001:db8::53",)),)
    assert (plan.default_route, plan.default_route6) == ("172.24.4.1", "2001:db8:ff::1")
    assert plan.routes == (("2001:db8:9::/64", "2001:db8:1::9"),)
    assert 'oifname "qg-33333333333" snat to 172.24.4.5' in nat.render(plan)
    assert "2001:db8" not in nat.render(plan)
