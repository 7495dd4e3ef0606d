"""The packet filter on real kernel objects: a bridge with three "guests" (network namespaces, each
joined by a veth whose host end is named like a guest's tap), filtered by ``firewall.converge``.

No QEMU: a namespace behind a veth sends and receives exactly what a guest behind its tap would.
Every object carries a random suffix (bridge, namespaces, taps, firewall scopes, the guests' subnet),
so runs in parallel and other clouds on the machine never meet; everything is removed at the end.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from onestack.drivers.netns import firewall
from onestack.drivers.netns.firewall import PortRules, Rule
from tests.drivers import lab
from tests.drivers.lab import TCP_PORT, Guest, host_ip, random_net, scope_lines, sh, skip_unless_able

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("firewall")]
skip_unless_able()

SUFFIX = uuid.uuid4().hex[:6]
SCOPE, OTHER_SCOPE, BENCH_SCOPE, HOST_SCOPE = f"t{SUFFIX}", f"u{SUFFIX}", f"b{SUFFIX}", f"h{SUFFIX}"
BRIDGE = f"osfw{SUFFIX}"
NET, NET6 = random_net()


def make_guest(letter: str, index: int, host: str | None = None) -> Guest:
    return Guest(f"osfw-{SUFFIX}-{letter}", f"{NET}.{index}", f"{NET6}::{index}", host=host)


EGRESS = Rule("egress", "IPv4")
ICMP_IN = Rule("ingress", "IPv4", "icmp")


@pytest.fixture(scope="module")
def guests():
    made = [make_guest(letter, i + 1) for i, letter in enumerate("abc")]
    try:
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "link", "set", BRIDGE, "up")
        for guest in made:
            guest.create(BRIDGE)
        lab.prove_paths(made)
        yield made
    finally:
        for scope in (SCOPE, OTHER_SCOPE, BENCH_SCOPE):
            firewall.purge(scope)
        for guest in made:
            guest.destroy()
        sh("ip", "link", "del", BRIDGE, check=False)


def test_ingress_is_denied_by_default(guests):
    a, b, _ = guests
    # through the filter, the path works while b admits it...
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN, Rule("ingress", "IPv4", "tcp", TCP_PORT,
                                                                            TCP_PORT))])
    assert a.pings(b) and a.connects(b)
    # ...and without a rule admitting it, nothing comes in
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS)])
    assert not a.pings(b)
    assert not a.connects(b)


def test_an_icmp_rule_and_a_tcp_port_rule_admit_their_traffic_only(guests):
    a, b, _ = guests
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN)])
    assert a.pings(b)
    assert not a.connects(b)
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, Rule("ingress", "IPv4", "tcp", TCP_PORT, TCP_PORT))])
    assert a.connects(b)
    assert not a.pings(b)
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, Rule("ingress", "IPv4", "tcp", 1, TCP_PORT - 1))])
    assert not a.connects(b)


def test_established_return_traffic_passes_default_deny(guests):
    # a accepts nothing inbound, yet its connection to b gets b's answers; b cannot open one to a.
    a, b, _ = guests
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, Rule("ingress", "IPv4", "tcp", TCP_PORT, TCP_PORT))])
    assert a.connects(b)
    assert not b.connects(a)


def exchange(session: subprocess.Popen, text: str) -> str:
    session.stdin.write(text + "\n")
    session.stdin.flush()
    return session.stdout.readline().strip()


@pytest.mark.parametrize("side", ["ingress", "egress"])
def test_removing_a_rule_stops_the_connections_it_admitted(guests, side):
    a, b, _ = guests
    tcp_in, tcp_out = (Rule(direction, "IPv4", "tcp", TCP_PORT, TCP_PORT) for direction in ("ingress", "egress"))
    opened = [a.rules(EGRESS if side == "ingress" else tcp_out), b.rules(EGRESS, tcp_in)]
    firewall.converge(SCOPE, opened)
    session = a.session(b)
    try:
        assert exchange(session, "one") == "one"
        firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS)] if side == "ingress"
                          else [a.rules(), b.rules(EGRESS, tcp_in)])
        assert exchange(session, "two") == "timeout"
        firewall.converge(SCOPE, opened)
        assert exchange(session, "three") in ("two", "twothree")  # TCP retransmits what was held back
    finally:
        session.kill()
        session.wait()


def test_egress_rules_limit_what_a_port_sends(guests):
    a, b, _ = guests
    firewall.converge(SCOPE, [a.rules(Rule("egress", "IPv4", "tcp", TCP_PORT, TCP_PORT)),
                              b.rules(EGRESS, ICMP_IN, Rule("ingress", "IPv4", "tcp", TCP_PORT, TCP_PORT))])
    assert a.connects(b)
    assert not a.pings(b)


def test_remote_group_admits_its_members_only(guests):
    a, b, c = guests
    members = (a.ip, b.ip)  # the group of a and b, expanded as the network service does
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, Rule("ingress", "IPv4", None, None, None, members)),
                              c.rules(EGRESS)])
    assert a.pings(b)
    assert not c.pings(b)


def test_spoofed_source_ip_is_dropped_unless_an_allowed_address_pair(guests):
    a, b, _ = guests
    spoofed = f"{NET}.99"
    sh("ip", "-n", a.netns, "addr", "add", f"{spoofed}/24", "dev", "eth0")
    try:
        firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN)])
        assert a.pings(b)
        assert not a.pings(b, source=spoofed)
        firewall.converge(SCOPE, [a.rules(EGRESS, allowed_pairs=((spoofed, None),)), b.rules(EGRESS, ICMP_IN)])
        assert a.pings(b, source=spoofed)
        firewall.converge(SCOPE, [a.rules(EGRESS, allowed_pairs=((f"{NET}.96/29", None),)),
                                  b.rules(EGRESS, ICMP_IN)])
        assert a.pings(b, source=spoofed)
    finally:
        sh("ip", "-n", a.netns, "addr", "del", f"{spoofed}/24", "dev", "eth0")


def test_spoofed_mac_is_dropped_unless_an_allowed_address_pair(guests):
    a, b, _ = guests
    other_mac = "fa:16:3e:ee:ee:01"
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN)])
    assert a.pings(b)  # with its own MAC, a gets through
    sh("ip", "-n", a.netns, "link", "set", "eth0", "address", other_mac)
    try:
        b.forget_neighbours()
        firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN)])
        assert not a.pings(b)
        firewall.converge(SCOPE, [a.rules(EGRESS, allowed_pairs=((a.ip, other_mac),)), b.rules(EGRESS, ICMP_IN)])
        assert a.pings(b)
    finally:
        sh("ip", "-n", a.netns, "link", "set", "eth0", "address", a.mac)
        a.forget_neighbours()
        b.forget_neighbours()


def test_arp_spoofing_is_dropped(guests):
    a, b, c = guests
    # Let any ARP answer replace b's entries at once (the default locks them for a second).
    sh("ip", "netns", "exec", b.netns, "sysctl", "-qw", "net.ipv4.neigh.eth0.locktime=0")
    for protected in (True, False):
        firewall.converge(SCOPE, [a.rules(EGRESS, port_security=protected), b.rules(EGRESS, ICMP_IN),
                                  c.rules(EGRESS, ICMP_IN)])
        b.forget_neighbours()
        assert b.pings(c) and b.neighbour(c.ip) == c.mac
        a.claim(c.ip, to=b)
        # Unprotected, the lie lands: that is what shows the protected case proves something.
        assert b.neighbour(c.ip) == (c.mac if protected else a.mac)
    b.forget_neighbours()


def test_port_security_off_passes_everything_for_that_port_only(guests):
    a, b, c = guests
    spoofed = f"{NET}.98"
    sh("ip", "-n", c.netns, "addr", "add", f"{spoofed}/24", "dev", "eth0")
    try:
        firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN),
                                  c.rules(Rule("ingress", "IPv4", "tcp", 1, 2), port_security=False)])
        assert a.pings(c) and a.connects(c)  # c's own rules are not applied
        assert c.pings(b, source=spoofed)  # nor its anti-spoofing
        assert not c.connects(b)  # b is still filtered
    finally:
        sh("ip", "-n", c.netns, "addr", "del", f"{spoofed}/24", "dev", "eth0")


def test_ipv6_is_filtered_by_its_own_rules(guests):
    a, b, _ = guests
    egress6 = Rule("egress", "IPv6")
    firewall.converge(SCOPE, [a.rules(EGRESS, egress6), b.rules(EGRESS, egress6, ICMP_IN)])
    assert a.pings(b) and not a.pings(b, version=6)
    firewall.converge(SCOPE, [a.rules(EGRESS, egress6), b.rules(EGRESS, egress6, Rule("ingress", "IPv6", "ipv6-icmp"))])
    assert a.pings(b, version=6) and not a.pings(b)
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, Rule("ingress", "IPv6", "ipv6-icmp"))])
    assert not a.pings(b, version=6)  # a may not send IPv6 (neighbour discovery still works)


def test_removed_ports_lose_their_chains(guests):
    a, b, _ = guests
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS)])
    assert any(f"i{b.port_id[:11]}" in line for line in scope_lines(SCOPE))
    firewall.converge(SCOPE, [a.rules(EGRESS)])
    assert not any(b.port_id[:11] in line for line in scope_lines(SCOPE))
    assert a.pings(b)  # b is no port of this cloud any more: nothing filters it
    firewall.converge(SCOPE, [a.rules(EGRESS)])
    assert sum(1 for line in scope_lines(SCOPE) if line.startswith("-A FORWARD")) == 2  # one hook per table
    assert not any(b.device in line for line in scope_lines(SCOPE))


def test_two_scopes_keep_to_themselves_and_purge_leaves_nothing(guests):
    a, b, c = guests
    firewall.converge(OTHER_SCOPE, [c.rules(EGRESS)])
    other = scope_lines(OTHER_SCOPE)
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN)])
    firewall.converge(SCOPE, [a.rules(EGRESS)])
    assert scope_lines(OTHER_SCOPE) == other
    # the other scope's filter guards c (each scope ACCEPTs what its own ports may send, so this holds
    # while the other scope's FORWARD hook, inserted last, comes first: the message shows the order)
    assert not a.pings(c), forward_hooks()
    firewall.purge(SCOPE)
    assert scope_lines(SCOPE) == []
    assert scope_lines(OTHER_SCOPE) == other
    firewall.purge(SCOPE)  # idempotent
    firewall.purge(OTHER_SCOPE)
    assert scope_lines(OTHER_SCOPE) == []
    assert a.pings(c)


def forward_hooks() -> list[str]:
    return [line for line in sh("iptables-save", "-t", "filter").stdout.splitlines() if line.startswith("-A FORWARD")]


def test_in_a_host_namespace_the_filter_stays_there():
    # How a multi-host test runs an agent: the "host" is a namespace with its own bridge and filter table.
    host = f"osfw-{SUFFIX}-host"
    sh("ip", "netns", "add", host)
    made = [make_guest(letter, 10 + i, host=host) for i, letter in enumerate("xy")]
    try:
        host_ip(host, "link", "add", BRIDGE, "type", "bridge")
        host_ip(host, "link", "set", BRIDGE, "up")
        for guest in made:
            guest.create(BRIDGE)
        x, y = made
        lab.prove_paths(made)
        ports = repr([x.rules(EGRESS), y.rules(EGRESS)])
        sh("ip", "netns", "exec", host, sys.executable, "-c",
           f"from onestack.drivers.netns.firewall import PortRules, Rule, converge; converge({HOST_SCOPE!r}, {ports})")
        assert not x.pings(y)
        assert scope_lines(HOST_SCOPE) == []  # nothing in this namespace
        assert f"os-{HOST_SCOPE}-fwd" in sh("ip", "netns", "exec", host, "iptables-save", "-t", "filter").stdout
    finally:
        for guest in made:
            guest.destroy()
        sh("ip", "netns", "del", host, check=False)  # takes its bridge and filter tables with it


def test_a_rule_change_takes_effect_within_a_second(guests):
    a, b, _ = guests  # (the guests fixture proved the path works unfiltered)
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS)])
    assert not a.pings(b)
    start = time.monotonic()
    firewall.converge(SCOPE, [a.rules(EGRESS), b.rules(EGRESS, ICMP_IN)])
    assert a.pings(b)
    elapsed = time.monotonic() - start
    print(f"\nrule change to first ping reply: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0


def test_converge_of_a_hundred_ports_is_quick():
    def member(i: int) -> str:
        return f"10.1.{i // 250}.{i % 250 + 1}"

    group = tuple(member(i) for i in range(100))
    ports = [PortRules(port_id=f"{i:08x}-{SUFFIX}", device=f"tap{i:08x}-{SUFFIX[:2]}",
                       mac=f"fa:16:3e:00:{i // 256:02x}:{i % 256:02x}", ips=(member(i),),
                       rules=(EGRESS, Rule("egress", "IPv6"), Rule("ingress", "IPv4", None, None, None, group),
                              Rule("ingress", "IPv4", "tcp", 22, 22), Rule("ingress", "IPv4", "icmp", 8, None)))
             for i in range(100)]
    try:
        firewall.converge(BENCH_SCOPE, ports)
        timings = []
        for change in range(3):
            changed = [*ports[:-1], PortRules(**{**ports[-1].__dict__, "rules": ports[-1].rules[:change + 2]})]
            start = time.monotonic()
            firewall.converge(BENCH_SCOPE, changed)
            timings.append(time.monotonic() - start)
        print(f"\nconverge of 100 ports: {', '.join(f'{t * 1000:.0f} ms' for t in timings)}")
        assert min(timings) < 1.0
    finally:
        firewall.purge(BENCH_SCOPE)
    assert scope_lines(BENCH_SCOPE) == []
