"""The packet filter on real kernel objects: a bridge with three "guests" (network namespaces, each
joined by a veth whose host end is named like a guest's tap), filtered by ``firewall.converge``.

No QEMU: a namespace behind a veth sends and receives exactly what a guest behind its tap would.
Every object carries a random suffix (bridge, namespaces, taps, firewall scopes, the guests' subnet),
so runs in parallel and other clouds on the machine never meet; everything is removed at the end.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from onestack.drivers.netns import firewall
from onestack.drivers.netns.firewall import PortRules, Rule

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("firewall")]

if os.geteuid() != 0:
    pytest.skip("bridges, namespaces and iptables need root", allow_module_level=True)
if not (shutil.which("iptables-restore") and shutil.which("ip6tables-restore") and shutil.which("ip")):
    pytest.skip("iptables (iptables-restore, ip6tables-restore) and iproute2 are needed", allow_module_level=True)
if not (shutil.which("ping") or shutil.which("busybox")):
    pytest.skip("ping (or busybox) is needed", allow_module_level=True)
if not os.path.exists(firewall.BR_NETFILTER[4]):
    pytest.skip("br_netfilter is not available: bridged traffic cannot be filtered", allow_module_level=True)

PING = ["ping"] if shutil.which("ping") else ["busybox", "ping"]
SUFFIX = uuid.uuid4().hex[:6]
SCOPE, OTHER_SCOPE, BENCH_SCOPE, HOST_SCOPE = f"t{SUFFIX}", f"u{SUFFIX}", f"b{SUFFIX}", f"h{SUFFIX}"
BRIDGE = f"osfw{SUFFIX}"
# A subnet of its own per run: conntrack is shared by everything bridged on the machine.
NET = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
NET6 = f"fd{random.randint(0, 255):02x}:{random.randint(0, 65535):x}"
TCP_PORT = 8022
# An echo server, and a client that sends what it reads from stdin and prints the answer (or "timeout").
SERVER = """
import contextlib, socket, sys, threading
def echo(c):
    with c, contextlib.suppress(OSError):
        while data := c.recv(64):
            c.sendall(data)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()
"""
SESSION = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5)
for line in sys.stdin:
    s.sendall(line.strip().encode())
    try:
        print(s.recv(64).decode(), flush=True)
    except TimeoutError:
        print("timeout", flush=True)
"""
CLIENT = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5)
s.sendall(b"ok")
sys.exit(0 if s.recv(2) == b"ok" else 1)
"""
# An ARP reply from this namespace's eth0 telling argv[3] (MAC) / argv[4] (IP) that argv[2] is at argv[1].
ARP_REPLY = """
import socket, sys
mac, claimed, to_mac, to_ip = (bytes.fromhex(sys.argv[1].replace(":", "")), socket.inet_aton(sys.argv[2]),
                               bytes.fromhex(sys.argv[3].replace(":", "")), socket.inet_aton(sys.argv[4]))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(to_mac + mac + b"\\x08\\x06" + b"\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x02" + mac + claimed + to_mac + to_ip)
"""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def host_ip(host: str | None, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``ip`` in the namespace standing for a host (None: this one)."""
    return sh("ip", *(["-n", host] if host else []), *args, check=check)


class Guest:
    def __init__(self, letter: str, index: int, host: str | None = None):
        self.port_id = str(uuid.uuid4())
        self.device = f"tap{self.port_id[:11]}"
        self.netns = f"osfw-{SUFFIX}-{letter}"
        self.host = host
        self.mac = f"fa:16:3e:{random.randint(0, 255):02x}:{random.randint(0, 255):02x}:{index:02x}"
        self.ip = f"{NET}.{index}"
        self.ip6 = f"{NET6}::{index}"
        self.server: subprocess.Popen | None = None

    def create(self, bridge: str) -> None:
        sh("ip", "netns", "add", self.netns)
        host_ip(self.host, "link", "add", self.device, "type", "veth", "peer", "name", f"g{SUFFIX}", "netns", self.netns)
        sh("ip", "-n", self.netns, "link", "set", f"g{SUFFIX}", "name", "eth0", "address", self.mac)
        sh("ip", "-n", self.netns, "addr", "add", f"{self.ip}/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "addr", "add", f"{self.ip6}/64", "dev", "eth0", "nodad")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        host_ip(self.host, "link", "set", self.device, "master", bridge, "up")
        self.server = subprocess.Popen(["ip", "netns", "exec", self.netns, sys.executable, "-c", SERVER, str(TCP_PORT)])

    def destroy(self) -> None:
        if self.server:
            self.server.kill()
            self.server.wait()
        host_ip(self.host, "link", "del", self.device, check=False)
        sh("ip", "netns", "del", self.netns, check=False)

    def rules(self, *rules: Rule, **extra) -> PortRules:
        return PortRules(port_id=self.port_id, device=self.device, mac=self.mac, ips=(self.ip, self.ip6),
                         rules=rules, **extra)

    def pings(self, target: Guest, source: str | None = None, version: int = 4) -> bool:
        extra = ["-I", source] if source else []
        address = target.ip if version == 4 else target.ip6
        done = sh("ip", "netns", "exec", self.netns, *PING, f"-{version}", "-c1", "-W1", *extra, address, check=False)
        return done.returncode == 0

    def connects(self, target: Guest) -> bool:
        done = sh("ip", "netns", "exec", self.netns, sys.executable, "-c", CLIENT, target.ip, str(TCP_PORT),
                  check=False)
        return done.returncode == 0

    def session(self, target: Guest) -> subprocess.Popen:
        """A TCP connection to ``target``'s echo server that stays open: write a line, read the echo."""
        return subprocess.Popen(["ip", "netns", "exec", self.netns, sys.executable, "-c", SESSION, target.ip,
                                 str(TCP_PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def claim(self, address: str, to: Guest) -> None:
        """Tell ``to`` by ARP that ``address`` is at this guest's MAC."""
        sh("ip", "netns", "exec", self.netns, sys.executable, "-c", ARP_REPLY, self.mac, address, to.mac, to.ip)

    def neighbour(self, address: str) -> str | None:
        entries = json.loads(sh("ip", "-j", "-n", self.netns, "neigh", "show", "to", address, "dev", "eth0").stdout)
        return entries[0].get("lladdr") if entries else None

    def forget_neighbours(self) -> None:
        sh("ip", "-n", self.netns, "neigh", "flush", "all")


EGRESS = Rule("egress", "IPv4")
ICMP_IN = Rule("ingress", "IPv4", "icmp")


def scope_lines(scope: str) -> list[str]:
    """Every line of both filter tables that names the scope, and the scope's bridge table."""
    out = sh("iptables-save", "-t", "filter").stdout + sh("ip6tables-save", "-t", "filter").stdout
    bridge = sh("nft", "list", "table", "bridge", f"os-{scope}", check=False).stdout
    return [line for line in out.splitlines() if f"os-{scope}-" in line] + bridge.splitlines()


@pytest.fixture(scope="module")
def guests():
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "link", "set", BRIDGE, "up")
    made = [Guest(letter, i + 1) for i, letter in enumerate("abc")]
    try:
        for guest in made:
            guest.create(BRIDGE)
        yield made
    finally:
        for scope in (SCOPE, OTHER_SCOPE, BENCH_SCOPE):
            firewall.purge(scope)
        for guest in made:
            guest.destroy()
        sh("ip", "link", "del", BRIDGE, check=False)


def test_ingress_is_denied_by_default(guests):
    a, b, _ = guests
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
    assert not a.pings(c)  # the other scope's filter guards c
    firewall.purge(SCOPE)
    assert scope_lines(SCOPE) == []
    assert scope_lines(OTHER_SCOPE) == other
    firewall.purge(SCOPE)  # idempotent
    firewall.purge(OTHER_SCOPE)
    assert scope_lines(OTHER_SCOPE) == []
    assert a.pings(c)


def test_in_a_host_namespace_the_filter_stays_there():
    # How a multi-host test runs an agent: the "host" is a namespace with its own bridge and filter table.
    host = f"osfw-{SUFFIX}-host"
    sh("ip", "netns", "add", host)
    made = [Guest(letter, 10 + i, host=host) for i, letter in enumerate("xy")]
    try:
        host_ip(host, "link", "add", BRIDGE, "type", "bridge")
        host_ip(host, "link", "set", BRIDGE, "up")
        for guest in made:
            guest.create(BRIDGE)
        x, y = made
        assert x.pings(y)
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
    a, b, _ = guests
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
