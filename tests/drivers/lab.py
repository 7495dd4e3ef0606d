"""Guests without QEMU for kernel networking tests: a network namespace behind a veth whose host end is
named like a guest's tap sends and receives exactly what a guest behind its tap would.  Each guest runs
a TCP echo server; helpers ping, connect, hold a connection open, forge ARP and read neighbour tables.
Callers give every object a name of their own (random suffixes) and destroy what they create."""

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


def skip_unless_able() -> None:
    """Skip the calling test module, with the reason, where these guests and the filter cannot run."""
    if os.geteuid() != 0:
        pytest.skip("bridges, namespaces and iptables need root", allow_module_level=True)
    if not (shutil.which("iptables-restore") and shutil.which("ip6tables-restore") and shutil.which("ip")
            and shutil.which("nft")):
        pytest.skip("iptables (iptables-restore, ip6tables-restore), nft and iproute2 are needed",
                    allow_module_level=True)
    if not (shutil.which("ping") or shutil.which("busybox")):
        pytest.skip("ping (or busybox) is needed", allow_module_level=True)
    if not os.path.exists(firewall.BR_NETFILTER[4]):
        pytest.skip("br_netfilter is not available: bridged traffic cannot be filtered", allow_module_level=True)


def random_net() -> tuple[str, str]:
    """An IPv4 /24 prefix ("10.x.y") and an IPv6 /64 prefix of their own: conntrack is shared by
    everything bridged on the machine, so parallel runs must not reuse each other's addresses."""
    return (f"10.{random.randint(100, 250)}.{random.randint(0, 255)}",
            f"fd{random.randint(0, 255):02x}:{random.randint(0, 65535):x}")


PING = ["ping"] if shutil.which("ping") else ["busybox", "ping"]
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
    """A port's stand-in: ``netns`` behind ``tap<port_id[:11]>`` (in ``host``'s namespace, or this one)."""

    def __init__(self, netns: str, ip: str, ip6: str, mac: str | None = None, port_id: str | None = None,
                 host: str | None = None):
        self.port_id = port_id or str(uuid.uuid4())
        self.device = f"tap{self.port_id[:11]}"
        self.netns, self.ip, self.ip6, self.host = netns, ip, ip6, host
        self.mac = mac or f"fa:16:3e:{random.randint(0, 255):02x}:{random.randint(0, 255):02x}:{random.randint(0, 255):02x}"
        self.server: subprocess.Popen | None = None

    def create(self, bridge: str) -> None:
        peer = f"g{uuid.uuid4().hex[:8]}"
        sh("ip", "netns", "add", self.netns)
        host_ip(self.host, "link", "add", self.device, "type", "veth", "peer", "name", peer, "netns", self.netns)
        sh("ip", "-n", self.netns, "link", "set", peer, "name", "eth0", "address", self.mac)
        sh("ip", "-n", self.netns, "addr", "add", f"{self.ip}/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "addr", "add", f"{self.ip6}/64", "dev", "eth0", "nodad")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        host_ip(self.host, "link", "set", self.device, "master", bridge, "up")
        self.server = subprocess.Popen(["ip", "netns", "exec", self.netns, sys.executable, "-c", SERVER, str(TCP_PORT)])
        self.wait_listening()

    def wait_listening(self, seconds: float = 15) -> None:
        """Until the echo server listens: a connect refused because it has not bound yet would pass for a
        filter's drop."""
        deadline = time.monotonic() + seconds
        while not sh("ip", "netns", "exec", self.netns, "ss", "-Hltn", f"sport = :{TCP_PORT}").stdout.strip():
            assert self.server.poll() is None, f"the echo server in {self.netns} exited ({self.server.returncode})"
            assert time.monotonic() < deadline, f"the echo server in {self.netns} did not listen in {seconds} s"
            time.sleep(0.02)

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


def prove_paths(guests: list[Guest]) -> None:
    """Before any filter: every guest pings every other and reaches its echo server, so a later refusal is
    the filter's doing, not a broken lab."""
    for source in guests:
        for target in guests:
            if source is not target:
                assert source.pings(target), f"{source.netns} cannot ping {target.netns} with no filter"
                assert source.connects(target), f"{source.netns} cannot reach {target.netns}'s server with no filter"


def scope_lines(scope: str) -> list[str]:
    """Every line of both filter tables that names the scope, and the scope's bridge table."""
    out = sh("iptables-save", "-t", "filter").stdout + sh("ip6tables-save", "-t", "filter").stdout
    bridge = sh("nft", "list", "table", "bridge", f"os-{scope}", check=False).stdout
    return [line for line in out.splitlines() if f"os-{scope}-" in line] + bridge.splitlines()
