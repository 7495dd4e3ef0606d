"""uvicorn's server as onestack runs it (the single process, each worker, the test cloud)."""

from __future__ import annotations

import asyncio

import uvicorn


class Server(uvicorn.Server):
    """uvicorn's server, which over TLS does not wait out its peers at shutdown.

    A TLS connection closed at shutdown waits for the peer's ``close_notify`` (asyncio gives it 30 s), and
    the cloud's own clients of its API (the dashboard, orchestration, volume backups), idle on a kept-alive
    connection in this very process, never read it: ``onestack down`` would wait for them.  A connection
    that has finished its work and is closing is dropped instead; one still answering a request is not."""

    async def shutdown(self, sockets=None) -> None:
        if not self.config.is_ssl:
            return await super().shutdown(sockets)
        dropper = asyncio.create_task(self._drop_closing())
        try:
            await super().shutdown(sockets)
        finally:
            dropper.cancel()

    async def _drop_closing(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                # closing with nothing left to send: only the peer's close_notify is awaited
                if transport is not None and transport.is_closing() and not transport.get_write_buffer_size():
                    transport.abort()
