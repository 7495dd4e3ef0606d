"""The chaos run's firewall invariant (firewall_rules.py) can fail: a kernel holding the rules the API's ports
and security group rules call for compares equal; one rule deleted, one rule added to the kernel, a security
group rule the kernel lacks, or a frame rule missing from the bridge table is a difference naming its chain.

The "kernel" here is a scratch network namespace the rules are written into as the agent writes them
(``iptables-restore``, ``nft -f``), so nothing of a cloud or of the host's own tables is touched."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from onestack.drivers.netns import firewall
from tests.dataplane.kernel import require_dataplane
from tests.hardening import firewall_rules

SCOPE = "fwchk"
GROUP, OTHER = str(uuid.uuid4()), str(uuid.uuid4())


def _port(ip: str, groups: list[str], **extra) -> dict:
    return {"id": str(uuid.uuid4()), "device_owner": "compute:nova", "binding:host_id": "here",
            "admin_state_up": True, "mac_address": "FA:16:3E:00:00:" + ip.rsplit(".", 1)[1].zfill(2)[-2:],
            "fixed_ips": [{"ip_address": ip}], "port_security_enabled": True, "security_groups": groups,
            "allowed_address_pairs": [], **extra}


def _rule(group: str, direction: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "security_group_id": group, "direction": direction, "ethertype": "IPv4",
            "protocol": None, "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
            "remote_group_id": None, "created_at": "2026-12-06T00:00:00Z", **extra}


@pytest.fixture
def api_view() -> tuple[list[dict], list[dict]]:
    ports = [_port("10.0.0.11", [GROUP], allowed_address_pairs=[{"ip_address": "10.0.9.0/24"}]),
             _port("10.0.0.12", [GROUP, OTHER]), _port("10.0.0.13", [], port_security_enabled=False),
             # a DHCP port is not filtered, and an unbound guest port neither (no tap on this host)
             {**_port("10.0.0.2", []), "device_owner": "network:dhcp"},
             {**_port("10.0.0.14", [GROUP]), "binding:host_id": ""}]
    rules = [_rule(GROUP, "egress"), _rule(GROUP, "ingress", remote_group_id=GROUP),
             _rule(GROUP, "ingress", protocol="tcp", port_range_min=22, port_range_max=22,
                   remote_ip_prefix="192.0.2.0/24"),
             _rule(OTHER, "ingress", protocol="icmp"), _rule(OTHER, "egress", ethertype="IPv6")]
    return ports, rules


@pytest.fixture
def kernel():
    require_dataplane()
    with firewall_rules.scratch_netns() as ns:
        yield ns


def _write(ns: str, ports: list[firewall.PortRules]) -> None:
    """The rules into ``ns`` as the agent's converge writes them."""
    for version in (4, 6):
        subprocess.run(["ip", "netns", "exec", ns, firewall.TOOLS[version][1], "-w", "--noflush"], check=True,
                       input=firewall.restore_text(SCOPE, firewall.build(SCOPE, ports, version), set(), 0),
                       text=True, capture_output=True)
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=firewall.frames_text(SCOPE, ports),
                   check=True, text=True, capture_output=True)


def _differences(ns: str, ports: list[dict], rules: list[dict]) -> tuple[int, list[str]]:
    return firewall_rules.compare(firewall_rules.canonical(SCOPE, firewall_rules.wanted(ports, rules)),
                                  firewall_rules.live(SCOPE, ns))


def test_the_rules_the_api_calls_for_compare_equal(kernel, api_view):
    ports, rules = api_view
    wanted = firewall_rules.wanted(ports, rules)
    assert sorted(p.port_id for p in wanted) == sorted(p["id"] for p in ports[:3])
    _write(kernel, wanted)
    compared, found = _differences(kernel, ports, rules)
    assert found == []
    assert compared > 10


def test_a_rule_the_kernel_lost_or_gained_or_lacks_is_a_difference(kernel, api_view):
    ports, rules = api_view
    _write(kernel, firewall_rules.wanted(ports, rules))
    chain = f"{firewall.prefix(SCOPE)}i{ports[0]['id'][:11]}"
    subprocess.run(["ip", "netns", "exec", kernel, "iptables", "-I", chain, "-p", "udp", "-j", "ACCEPT"],
                   check=True)
    _, found = _differences(kernel, ports, rules)
    assert len(found) == 1 and found[0].startswith(f"IPv4 chain {chain}: missing [], extra ['-p udp -j ACCEPT']")
    subprocess.run(["ip", "netns", "exec", kernel, "iptables", "-D", chain, "1"], check=True)
    assert _differences(kernel, ports, rules)[1] == []
    # a security group rule the kernel does not hold (the port's egress chain lacks it)
    more = [*rules, _rule(GROUP, "egress", protocol="udp", port_range_min=53, port_range_max=53,
                          remote_ip_prefix="198.51.100.0/24")]
    _, found = _differences(kernel, ports, more)
    assert {f.split(":")[0] for f in found} == {f"IPv4 chain {firewall.prefix(SCOPE)}o{p['id'][:11]}"
                                                for p in ports[:2]}
    # a chain that no port wants any more (the kernel kept a deleted port's rules)
    _, found = _differences(kernel, ports[1:], rules)
    assert any(f"o{ports[0]['id'][:11]}: not wanted" in f for f in found)
    assert any(f.startswith("bridge table:") for f in found)
