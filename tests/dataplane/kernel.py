"""What data-plane tests need of the kernel: their own namespaces acting as guests or as the outside
world, each plugged into a bridge of the cloud by a veth the test makes and removes."""

from __future__ import annotations

import ipaddress
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid

import pytest

from onestack.drivers.netns import availability


def require_dataplane() -> None:
    usable, reason = availability.choose("auto")
    if not usable:
        pytest.skip(f"the kernel data plane cannot run here: {reason}")


def sh(*cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {done.stderr or done.stdout}")
    return done


def link_index(name: str, netns: str | None = None) -> int | None:
    path = f"/sys/class/net/{name}/ifindex"
    if netns is None:
        return int(open(path).read()) if os.path.exists(path) else None
    done = sh("ip", "netns", "exec", netns, "cat", path, check=False)
    return int(done.stdout) if done.returncode == 0 else None


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of the benchmarking range (RFC 2544) that no address or route of the root namespace
    overlaps: a test's underlay must never shadow a network this machine really uses."""
    used = []
    for cmd in (["ip", "-j", "-4", "route", "show", "table", "all"], ["ip", "-j", "-4", "addr", "show"]):
        for item in json.loads(sh(*cmd).stdout or "[]"):
            if "dst" in item and item["dst"] not in ("default", "broadcast"):
                used.append(ipaddress.ip_network(item["dst"], strict=False))
            for info in item.get("addr_info", []):
                used.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False))
    free = [candidate for candidate in ipaddress.ip_network("198.18.0.0/15").subnets(new_prefix=24)
            if not any(candidate.overlaps(u) for u in used)]
    if not free:
        raise AssertionError("no free /24 in 198.18.0.0/15 for a test underlay")
    # at random, not the first: two tests on two workers asking at once must not both get the same one
    return random.choice(free)


# Run inside a namespace: a thread per try, one every 50 ms; prints the monotonic time of the first answer
# that holds the expected text and exits 0, or exits 1 after the given seconds.
_HTTP_PROBE = """
import socket, sys, threading, time
address, expect, seconds = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
done = threading.Event()
first = []
def attempt():
    try:
        with socket.create_connection((address, 80), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\\r\\nHost: " + address.encode() + b"\\r\\n\\r\\n")
            body = b""
            while chunk := s.recv(65536):
                body += chunk
        if expect in body and not done.is_set():
            first.append(time.monotonic())
            done.set()
    except OSError:
        pass
deadline = time.monotonic() + seconds
while not done.is_set() and time.monotonic() < deadline:
    threading.Thread(target=attempt, daemon=True).start()
    done.wait(0.05)
if first:
    print(min(first))
sys.exit(0 if first else 1)
"""

LEASE_FIELDS = ("ip", "mask", "router", "dns", "mtu", "staticroutes", "domain", "hostname", "serverid")


class Namespace:
    """A namespace of the test's own with one interface ``eth0`` whose peer sits in ``bridge``."""

    def __init__(self, bridge: str, mac: str | None = None):
        tag = uuid.uuid4().hex[:8]
        self.name, self.outer = f"ostest-{tag}", f"ost{tag}"
        sh("ip", "netns", "add", self.name)
        try:
            sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", "eth0", "netns", self.name)
            sh("ip", "link", "set", self.outer, "master", bridge, "up")
            if mac:
                sh("ip", "-n", self.name, "link", "set", "eth0", "address", mac)
            sh("ip", "-n", self.name, "link", "set", "eth0", "up")
            sh("ip", "-n", self.name, "link", "set", "lo", "up")
        except AssertionError:
            self.close()
            raise

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.name, *cmd, check=check, timeout=timeout)

    def dhcp(self) -> dict[str, str]:
        """A DHCP lease through busybox udhcpc; the options it got, as its script sees them."""
        script = f"/tmp/{self.name}.script"
        out = f"/tmp/{self.name}.lease"
        with open(script, "w") as f:
            f.write("#!/bin/sh\n[ \"$1\" = bound ] || exit 0\n"
                    + "".join(f'echo "{v}=${v}" >> {out}\n' for v in LEASE_FIELDS))
        os.chmod(script, 0o755)
        try:
            self.run("busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "2", "-s", script,
                     "-O", "staticroutes", "-O", "mtu", timeout=60)
            lines = open(out).read().splitlines()
            return dict(line.split("=", 1) for line in lines if "=" in line)
        finally:
            for path in (script, out):
                if os.path.exists(path):
                    os.unlink(path)

    def address(self, cidr: str, gateway: str | None = None) -> None:
        self.run("ip", "addr", "replace", cidr, "dev", "eth0")
        if gateway:
            self.run("ip", "route", "replace", "default", "via", gateway)

    def pings(self, address: str, count: int = 1) -> bool:
        return self.run("busybox", "ping", "-c", str(count), "-W", "1", address, check=False).returncode == 0

    def first_reply(self, address: str, act, seconds: float = 30) -> float:
        """Pings ``address`` every 50 ms, calls ``act()``, and returns the seconds from the call to the first
        reply (AssertionError if a reply comes before the call, or none within ``seconds`` of it)."""
        ping = subprocess.Popen(["ip", "netns", "exec", self.name, "busybox", "ping", "-i", "0.05", "-w",
                                 str(int(seconds)), address], stdout=subprocess.PIPE, text=True)
        replied = []

        def read():
            for line in ping.stdout:
                if " bytes from " in line:
                    replied.append(time.monotonic())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            acted = time.monotonic()
            act()
            reader.join(seconds)
            assert replied, f"no reply from {address} within {seconds}s"
            assert replied[0] >= acted, f"{address} answered before the change took effect"
            return replied[0] - acted
        finally:
            ping.kill()
            ping.wait()

    def first_http_answer(self, address: str, expect: str, seconds: float = 60) -> subprocess.Popen:
        """Starts asking ``http://address/`` from the namespace every 50 ms, each try on a new connection of
        its own (a SYN lost to a port not yet plugged waits out its own timeout, not the next try's), and
        returns the probe.  ``answered(probe)`` gives the monotonic time of the first answer holding
        ``expect``.  CLOCK_MONOTONIC is the machine's: the probe's clock and
        the caller's agree."""
        return subprocess.Popen(["ip", "netns", "exec", self.name, sys.executable, "-c", _HTTP_PROBE, address,
                                 expect, str(seconds)], stdout=subprocess.PIPE, text=True)

    @staticmethod
    def answered(probe: subprocess.Popen, seconds: float = 60) -> float:
        try:
            out, _ = probe.communicate(timeout=seconds + 5)
        finally:
            probe.kill()
            probe.wait()
        assert probe.returncode == 0 and out.strip(), "no HTTP answer within the time"
        return float(out.strip())

    def close(self) -> None:
        sh("ip", "link", "del", self.outer, check=False)
        sh("ip", "netns", "del", self.name, check=False)
