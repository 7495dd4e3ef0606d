"""An ICMP echo every ``interval`` seconds to one address, from whatever namespace it runs in, until it is
told to stop (SIGTERM or SIGINT); then one JSON line: requests sent, replies received, and the largest gap
between two replies in a row (what a guest moving between hosts costs the network: its downtime as the
outside sees it).  A raw socket of its own (root), so its pace is ours, not a ping binary's floor.

    ip netns exec <ns> python -m tests.dataplane.pinger 203.0.113.12 --interval 0.01
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

ECHO_REQUEST, ECHO_REPLY = 8, 0


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def request(ident: int, seq: int) -> bytes:
    payload = struct.pack("!d", time.monotonic()) + b"onestack-pinger!"
    header = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ECHO_REQUEST, 0, checksum(header + payload), ident, seq) + payload


def run(address: str, interval: float, stop: threading.Event) -> dict:
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(0.2)
    replies: dict[int, float] = {}  # seq -> when its reply came

    def receive() -> None:
        while not stop.is_set():
            try:
                packet, (source, _) = sock.recvfrom(2048)
            except TimeoutError:
                continue
            header = packet[(packet[0] & 0x0F) * 4:][:8]
            kind, _, _, their_ident, seq = struct.unpack("!BBHHH", header)
            if kind == ECHO_REPLY and their_ident == ident and source == address:
                replies.setdefault(seq, time.monotonic())

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    sent, started = 0, time.monotonic()
    while not stop.is_set():
        try:
            sock.sendto(request(ident, sent & 0xFFFF), (address, 0))
        except OSError:  # no neighbour (a guest that stopped answering ARP): a request lost like any other
            pass
        sent += 1
        # paced against the start, so a late wake-up does not stretch the whole series
        time.sleep(max(0.0, started + sent * interval - time.monotonic()))
    time.sleep(0.5)  # the last requests' replies
    stop.set()
    receiver.join()
    sock.close()
    times = sorted(replies.values())
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return {"sent": sent, "received": len(replies), "lost": sent - len(replies),
            "largest_gap_seconds": round(max(gaps, default=0.0), 4), "seconds": round(time.monotonic() - started, 2),
            "first_reply_after": round(times[0] - started, 3) if times else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("address")
    parser.add_argument("--interval", type=float, default=0.01)
    args = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print("started", flush=True)
    print(json.dumps(run(args.address, args.interval, stop)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


class Pinging:
    """This module in namespace ``netns``, pinging ``address`` from construction until ``stop()``, which
    returns its summary."""

    def __init__(self, netns: str, address: str, interval: float = 0.01):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable, "-m", "tests.dataplane.pinger", address,
             "--interval", str(interval)], stdout=subprocess.PIPE, text=True, cwd=root)
        assert self.process.stdout.readline().strip() == "started", "the pinger did not start"

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
