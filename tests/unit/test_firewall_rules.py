"""The packet filter's rule text, computed from ports and their rules (no kernel involved)."""

from __future__ import annotations

import pytest

from onestack.drivers.netns.firewall import PortRules, Rule, build, frames_text, restore_text

PORT = "3f2a9c1e-7b44-4d0e-9a51-0c6d2e8f1b77"
KEY = PORT[:11]
MAC = "fa:16:3e:12:34:56"
P = "os-t1-"


def port(*rules: Rule, **extra) -> PortRules:
    base = dict(port_id=PORT, device=f"tap{KEY}", mac=MAC, ips=("10.0.0.5", "fd00::5"), rules=rules)
    return PortRules(**{**base, **extra})


def chain(name: str, *ports: PortRules, version: int = 4) -> list[str]:
    return build("t1", ports, version)[P + name]


def ingress(*rules: Rule, version: int = 4) -> list[str]:
    """The rule lines of the port's ingress chain between the fixed head and the final DROP."""
    lines = chain(f"i{KEY}", port(*rules), version=version)
    assert lines[-1] == "-j DROP"
    head = 4 if version == 4 else 8
    return lines[head:-1]


def egress(*rules: Rule, version: int = 4) -> list[str]:
    lines = chain(f"o{KEY}", port(*rules), version=version)
    assert lines[-1] == "-j DROP"
    start = lines.index("-m conntrack --ctstate INVALID -j DROP") + 1
    return lines[start:-1]


def test_default_deny_ingress_is_stateful():
    lines = chain(f"i{KEY}", port())
    assert lines == ["-m conntrack --ctstate ESTABLISHED --ctdir REPLY -j ACCEPT",
                     "-m conntrack --ctstate RELATED -j ACCEPT",
                     "-m conntrack --ctstate INVALID -j DROP",
                     "-p udp -m udp --sport 67 --dport 68 -j ACCEPT",
                     "-j DROP"]


def test_tcp_port_range_and_single_port():
    assert ingress(Rule("ingress", "IPv4", "tcp", 22, 22), Rule("ingress", "IPv4", "udp", 1000, 2000)) == [
        "-p tcp -m multiport --dports 22 -j ACCEPT",
        "-p udp -m multiport --dports 1000:2000 -j ACCEPT"]


def test_protocol_without_ports_and_by_number():
    assert ingress(Rule("ingress", "IPv4", "tcp"), Rule("ingress", "IPv4", "47"),
                   Rule("ingress", "IPv4", "132", 5000, 5001)) == [
        "-p tcp -j ACCEPT", "-p 47 -j ACCEPT", "-p 132 -m multiport --dports 5000:5001 -j ACCEPT"]


def test_any_protocol_any_address():
    assert ingress(Rule("ingress", "IPv4")) == ["-j ACCEPT"]
    assert ingress(Rule("ingress", "IPv4", remote_prefixes=("0.0.0.0/0",))) == ["-j ACCEPT"]


@pytest.mark.parametrize(("low", "high", "match"), [
    (None, None, "-p icmp"),
    (8, None, "-p icmp -m icmp --icmp-type 8"),
    (3, 4, "-p icmp -m icmp --icmp-type 3/4"),
])
def test_icmp_type_and_code(low, high, match):
    assert ingress(Rule("ingress", "IPv4", "icmp", low, high)) == [f"{match} -j ACCEPT"]


def test_icmpv6_and_icmp_in_an_ipv6_rule():
    assert ingress(Rule("ingress", "IPv6", "ipv6-icmp", 128, 0), Rule("ingress", "IPv6", "icmp"), version=6) == [
        "-p ipv6-icmp -m icmp6 --icmpv6-type 128/0 -j ACCEPT", "-p ipv6-icmp -j ACCEPT"]


def test_ethertypes_go_to_their_own_table():
    rules = (Rule("ingress", "IPv4", "tcp", 80, 80), Rule("ingress", "IPv6", "tcp", 443, 443))
    assert ingress(*rules) == ["-p tcp -m multiport --dports 80 -j ACCEPT"]
    assert ingress(*rules, version=6) == ["-p tcp -m multiport --dports 443 -j ACCEPT"]


def test_remote_prefix_is_source_for_ingress_and_destination_for_egress():
    assert ingress(Rule("ingress", "IPv4", "tcp", 22, 22, ("192.0.2.0/24",))) == [
        "-s 192.0.2.0/24 -p tcp -m multiport --dports 22 -j ACCEPT"]
    assert egress(Rule("egress", "IPv4", None, None, None, ("198.51.100.7",))) == [
        f"-d 198.51.100.7/32 -j {P}pass"]


def test_remote_group_members_share_one_address_chain():
    members = ("10.0.0.7", "10.0.0.5", "fd00::7")
    first = port(Rule("ingress", "IPv4", "tcp", 22, 22, members))
    second = port(Rule("ingress", "IPv4", None, None, None, members),
                  port_id="a0b1c2d3-0000-4000-8000-000000000000", device="tapa0b1c2d3-00", mac="fa:16:3e:00:00:02")
    chains = build("t1", [first, second], 4)
    sets = [name for name in chains if name.startswith(f"{P}r")]
    assert len(sets) == 1
    # The IPv6 member cannot match an IPv4 rule and is left out.
    assert chains[sets[0]] == ["-s 10.0.0.5/32 -j ACCEPT", "-s 10.0.0.7/32 -j ACCEPT"]
    assert f"-p tcp -m multiport --dports 22 -j {sets[0]}" in chains[f"{P}i{KEY}"]
    assert f"-j {sets[0]}" in chains[f"{P}ia0b1c2d3-00"]


def test_egress_to_a_remote_group_passes_on_to_the_receiver_checks():
    lines = egress(Rule("egress", "IPv4", "udp", 53, 53, ("10.0.0.8", "10.0.0.9")))
    assert len(lines) == 1 and lines[0].startswith(f"-p udp -m multiport --dports 53 -j {P}r")
    target = lines[0].split("-j ")[1]
    assert chain(target[len(P):], port(Rule("egress", "IPv4", "udp", 53, 53, ("10.0.0.8", "10.0.0.9")))) == [
        f"-d 10.0.0.8/32 -j {P}pass", f"-d 10.0.0.9/32 -j {P}pass"]


def test_rule_whose_addresses_are_all_of_the_other_version_is_left_out():
    assert ingress(Rule("ingress", "IPv4", "tcp", 22, 22, ("fd00::1", "fd00::2"))) == []


def test_anti_spoofing_allows_fixed_ips_and_address_pairs_with_their_macs():
    pairs = (("10.0.0.100", None), ("10.9.0.0/16", "fa:16:3e:aa:bb:cc"))
    assert chain(f"s{KEY}", port(allowed_pairs=pairs)) == [
        f"-s 10.0.0.5/32 -m mac --mac-source {MAC} -j RETURN",
        f"-s 10.0.0.100/32 -m mac --mac-source {MAC} -j RETURN",
        "-s 10.9.0.0/16 -m mac --mac-source fa:16:3e:aa:bb:cc -j RETURN",
        "-j DROP"]


def test_anti_spoofing_ipv6_allows_the_link_local_address_of_each_mac():
    assert chain(f"s{KEY}", port(), version=6) == [
        f"-s fd00::5/128 -m mac --mac-source {MAC} -j RETURN",
        f"-s fe80::f816:3eff:fe12:3456/128 -m mac --mac-source {MAC} -j RETURN",
        "-j DROP"]


def test_egress_lets_dhcp_client_out_and_blocks_a_dhcp_server():
    lines = chain(f"o{KEY}", port())
    assert lines[0] == (f"-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 "
                        f"-m mac --mac-source {MAC} -j {P}pass")
    assert lines[1] == f"-j {P}s{KEY}"
    assert lines.index(f"-p udp -m udp --sport 68 --dport 67 -j {P}pass") < lines.index(
        "-p udp -m udp --sport 67 --dport 68 -j DROP")
    assert lines[-1] == "-j DROP"
    v6 = chain(f"o{KEY}", port(), version=6)
    assert "-p udp -m udp --sport 547 --dport 546 -j DROP" in v6
    assert "-p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP" in v6  # no router advertisements from guests


def test_port_security_off_is_not_filtered():
    chains = build("t1", [port(Rule("ingress", "IPv4", "tcp", 22, 22), port_security=False)], 4)
    assert not [name for name in chains if KEY in name]
    assert chains[f"{P}fwd"] == [f"-m physdev --physdev-in tap{KEY} --physdev-is-bridged -j {P}pass", f"-j {P}in"]
    assert chains[f"{P}in"] == [f"-m physdev --physdev-out tap{KEY} --physdev-is-bridged -j ACCEPT"]


def test_filtered_ports_are_matched_before_unfiltered_ones():
    filtered = port()
    open_port = port(port_id="b" * 36, device="tapbbbbbbbbbbb", mac="fa:16:3e:00:00:09", port_security=False)
    assert build("t1", [open_port, filtered], 4)[f"{P}fwd"] == [
        f"-m physdev --physdev-in tap{KEY} --physdev-is-bridged -j {P}o{KEY}",
        f"-m physdev --physdev-in tapbbbbbbbbbbb --physdev-is-bridged -j {P}pass",
        f"-j {P}in"]


def test_restore_text_hooks_once_and_drops_stale_chains():
    wanted = build("t1", [port()], 4)
    text = restore_text("t1", wanted, existing={f"{P}fwd", f"{P}iold", f"{P}oold"}, hooks=2).splitlines()
    assert text[0] == "*filter" and text[-1] == "COMMIT"
    assert text.count(f"-D FORWARD -j {P}fwd") == 1 and f"-I FORWARD -j {P}fwd" not in text
    assert f":{P}iold - [0:0]" in text and text[-3:-1] == [f"-X {P}iold", f"-X {P}oold"]
    fresh = restore_text("t1", wanted, existing=set(), hooks=0).splitlines()
    assert f"-I FORWARD -j {P}fwd" in fresh and not [line for line in fresh if line.startswith("-X")]


def test_restore_text_for_purge_unhooks_and_deletes_everything():
    text = restore_text("t1", {}, existing={f"{P}fwd", f"{P}in"}, hooks=1).splitlines()
    assert text == ["*filter", f":{P}fwd - [0:0]", f":{P}in - [0:0]", f"-D FORWARD -j {P}fwd",
                    f"-X {P}fwd", f"-X {P}in", "COMMIT"]


def test_every_line_names_only_chains_of_its_scope():
    text = restore_text("t1", build("t1", [port(Rule("ingress", "IPv4", None, None, None, ("10.0.0.1", "10.0.0.2")))], 4),
                        set(), 0)
    for word in text.split():
        if word.startswith("os-"):
            assert word.startswith(P)


@pytest.mark.parametrize("scope", ["", "UPPER", "has-dash", "ninechars"])
def test_scope_names_are_checked(scope):
    with pytest.raises(ValueError):
        build(scope, [], 4)


def test_frames_of_a_port_must_carry_its_macs_and_its_arp_its_addresses():
    pairs = (("10.9.0.0/16", "fa:16:3e:aa:bb:cc"),)
    text = frames_text("t1", [port(allowed_pairs=pairs), port(port_id="c" * 36, device="tapccccccccccc",
                                                              port_security=False)])
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:3] == ["table bridge os-t1 {}", "delete table bridge os-t1", "table bridge os-t1 {"]
    assert lines.count(f'iifname "tap{KEY}" jump s{KEY}') == 2  # forwarded frames and frames to the host
    assert "tapccccccccccc" not in text
    chain = lines[lines.index(f"chain s{KEY} {{") + 1:][:3]
    assert chain == [f"ether saddr != {{ {MAC}, fa:16:3e:aa:bb:cc }} drop",
                     f"arp saddr ether != {{ {MAC}, fa:16:3e:aa:bb:cc }} drop",
                     "arp saddr ip != { 0.0.0.0, 10.0.0.5/32, 10.9.0.0/16 } drop"]


def test_frames_without_filtered_ports_only_remove_the_table():
    assert frames_text("t1", []) == "table bridge os-t1 {}\ndelete table bridge os-t1\n"
