"""A small DHCPv6 client (RFC 8415) for test namespaces: busybox on this machine has no DHCPv6 client.

Run inside a namespace: ``python -m tests.dataplane.dhcpv6 DEVICE MAC (address|info)``.  ``address`` does
Solicit/Advertise/Request/Reply for one non-temporary address; ``info`` an Information-request.  It prints
one JSON object: the addresses leased, the DNS servers given, the server's status message if any.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import struct
import sys
import time

SOLICIT, ADVERTISE, REQUEST, REPLY, INFORMATION_REQUEST = 1, 2, 3, 7, 11
CLIENTID, SERVERID, IA_NA, IAADDR, ORO, ELAPSED, STATUS, DNS = 1, 2, 3, 5, 6, 8, 13, 23
IAID = 1


def option(code: int, data: bytes) -> bytes:
    return struct.pack("!HH", code, len(data)) + data


def options(data: bytes) -> list[tuple[int, bytes]]:
    found, at = [], 0
    while at + 4 <= len(data):
        code, length = struct.unpack_from("!HH", data, at)
        found.append((code, data[at + 4:at + 4 + length]))
        at += 4 + length
    return found


def client_id(mac: str) -> bytes:
    """DUID-LL (type 3) of the MAC over Ethernet (hardware type 1): how the server knows the port."""
    return option(CLIENTID, struct.pack("!HH", 3, 1) + bytes(int(x, 16) for x in mac.split(":")))


def message(kind: int, xid: bytes, *parts: bytes) -> bytes:
    return bytes([kind]) + xid + option(ELAPSED, b"\0\0") + option(ORO, struct.pack("!H", DNS)) + b"".join(parts)


def exchange(sock: socket.socket, target, out: bytes, wanted: int, seconds: float = 3) -> dict | None:
    """Send ``out`` and return the options of the first answer of kind ``wanted`` with its transaction id."""
    sock.sendto(out, target)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(4096)
        except TimeoutError:
            return None
        if data[0] == wanted and data[1:4] == out[1:4]:
            return {"raw": options(data[4:])}
    return None


def parse(found: list[tuple[int, bytes]]) -> dict:
    result = {"addresses": [], "dns": [], "status": ""}
    for code, data in found:
        if code == DNS:
            result["dns"] += [str(ipaddress.IPv6Address(data[i:i + 16])) for i in range(0, len(data), 16)]
        elif code == STATUS:
            result["status"] = data[2:].decode(errors="replace")
        elif code == IA_NA:
            for inner, body in options(data[12:]):
                if inner == IAADDR:
                    result["addresses"].append(str(ipaddress.IPv6Address(body[:16])))
                elif inner == STATUS:
                    result["status"] = body[2:].decode(errors="replace")
    return result


def run(device: str, mac: str, mode: str, tries: int = 10) -> dict:
    index = socket.if_nametoindex(device)
    target = ("ff02::1:2", 547, 0, index)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    sock.bind(("::", 546))
    me = client_id(mac)
    ia = option(IA_NA, struct.pack("!III", IAID, 0, 0))
    for _ in range(tries):  # the link-local address may still be tentative: sending fails until it is not
        xid = os.urandom(3)
        try:
            if mode == "info":
                got = exchange(sock, target, message(INFORMATION_REQUEST, xid, me), REPLY)
                if got:
                    return parse(got["raw"])
                continue
            offer = exchange(sock, target, message(SOLICIT, xid, me, ia), ADVERTISE)
            if offer is None:
                continue
            server = next(option(SERVERID, data) for code, data in offer["raw"] if code == SERVERID)
            asked = b"".join(option(IA_NA, data) for code, data in offer["raw"] if code == IA_NA) or ia
            got = exchange(sock, target, message(REQUEST, os.urandom(3), me, server, asked), REPLY)
            if got:
                return parse(got["raw"])
        except OSError:
            time.sleep(0.5)
    return {"addresses": [], "dns": [], "status": "no answer"}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2], sys.argv[3])))
