"""The metadata proxy of one network: inside its ``qdhcp-`` namespace it listens on
169.254.169.254:80 and passes each guest's HTTP request to the cloud's metadata server on a Unix
socket, adding what identifies the guest as Neutron's proxy does: ``X-Forwarded-For`` (the guest's
address, as the namespace sees it) and ``X-Neutron-Network-ID``.  Headers of those names sent by
the guest are dropped, so a guest cannot claim to be another.

Run as ``python -m onestack.drivers.netns.metadata_proxy NETWORK_ID SOCKET PIDFILE``; ``ensure``
starts it in the namespace and finds it again by its pidfile.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from onestack.drivers.netns import daemons
from onestack.drivers.netns.ip import NetnsError
from onestack.drivers.netns.plan import METADATA_ADDRESS

PORT = 80
MAX_HEAD = 65536
IDENTITY_HEADERS = (b"x-forwarded-for", b"x-neutron-network-id", b"x-neutron-router-id", b"x-instance-id",
                    b"x-instance-id-signature", b"x-tenant-id", b"connection", b"keep-alive")


def rewrite_head(head: bytes, guest: str, network_id: str) -> bytes:
    """The request head as the metadata server must see it: one request per connection, the guest's
    identity headers replaced by the proxy's own."""
    lines = head.split(b"\r\n")
    kept = [line for line in lines[1:] if line and line.split(b":", 1)[0].strip().lower() not in IDENTITY_HEADERS]
    added = [f"X-Forwarded-For: {guest}".encode(), f"X-Neutron-Network-ID: {network_id}".encode(),
             b"Connection: close"]
    return b"\r\n".join([lines[0], *kept, *added]) + b"\r\n\r\n"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        writer.close()


async def _serve_one(network_id: str, socket_path: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
    guest = writer.get_extra_info("peername")[0]
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            raise ValueError("request head too large")
        up_reader, up_writer = await asyncio.open_unix_connection(socket_path)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        writer.close()
        return
    except OSError:
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        writer.close()
        return
    up_writer.write(rewrite_head(head, guest, network_id))
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)


async def serve(network_id: str, socket_path: str, ready: Callable[[], None], host: str = METADATA_ADDRESS,
                port: int = PORT) -> None:
    server = await asyncio.start_server(lambda r, w: _serve_one(network_id, socket_path, r, w), host, port,
                                        limit=MAX_HEAD)
    ready()
    async with server:
        await server.serve_forever()


def ensure(netns: str, network_id: str, socket_path: Path, folder: Path) -> int:
    """The proxy of ``network_id`` running in ``netns``; returns its pid."""
    pidfile = folder / "metadata-proxy.pid"
    marker = str(pidfile)
    pid = daemons.running(pidfile, marker, netns)
    if pid is not None:
        return pid
    folder.mkdir(parents=True, exist_ok=True)
    daemons.stop(pidfile, marker)
    log = open(folder / "metadata-proxy.log", "ab")
    subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-m", __name__, network_id, str(socket_path),
                      marker], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    pid = daemons.started(pidfile, marker, netns)
    if pid is None:
        raise NetnsError(f"the metadata proxy of {network_id} did not start (see {folder / 'metadata-proxy.log'})")
    return pid


def pid(folder: Path) -> int | None:
    pidfile = folder / "metadata-proxy.pid"
    return daemons.running(pidfile, str(pidfile))


def stop(folder: Path) -> None:
    pidfile = folder / "metadata-proxy.pid"
    daemons.stop(pidfile, str(pidfile))


def main() -> None:
    network_id, socket_path, pidfile = sys.argv[1:4]
    tmp = Path(pidfile + ".tmp")
    tmp.write_text(str(os.getpid()))
    # the pidfile appears once the proxy listens: a pid found is a proxy that serves
    asyncio.run(serve(network_id, socket_path, lambda: os.replace(tmp, pidfile)))


if __name__ == "__main__":
    main()
