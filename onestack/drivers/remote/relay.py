"""Bytes both ways between a client's websocket and a guest's console, wherever the console is: its
Unix socket on this host, or another host's link.  The console proxy and the link itself both relay."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

CHUNK = 65536


class UnixPeer:
    """A console socket of this host."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, path: str) -> UnixPeer:
        return cls(*await asyncio.open_unix_connection(path))

    async def receive(self) -> bytes:
        return await self.reader.read(CHUNK)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()


class LinkPeer:
    """A console of another host, through its link's websocket."""

    def __init__(self, connection: ClientConnection):
        self.connection = connection

    async def receive(self) -> bytes:
        try:
            data = await self.connection.recv()
        except ConnectionClosed:
            return b""
        return data if isinstance(data, bytes) else data.encode()

    async def send(self, data: bytes) -> None:
        await self.connection.send(data)

    async def close(self) -> None:
        await self.connection.close()


async def relay(ws: WebSocket, peer: UnixPeer | LinkPeer) -> None:
    """Until either side closes; then both are closed."""

    async def to_peer() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                await peer.send(message.get("bytes") or (message.get("text") or "").encode())

    async def to_client() -> None:
        while data := await peer.receive():
            await ws.send_bytes(data)

    tasks = {asyncio.ensure_future(to_peer()), asyncio.ensure_future(to_client())}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await peer.close()
        with contextlib.suppress(Exception):
            await ws.close()
