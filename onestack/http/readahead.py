"""A streamed request body received on the event loop while the handler's worker thread consumes it.

Pulling each piece from the worker thread (a hop to the loop, a wait for the bytes, a hop back) leaves the
loop idle while the thread hashes and writes, and the thread idle while the loop receives: a large upload
runs at the speed of the two one after the other.  Here a task on the loop keeps receiving into a buffer
of at most ``LIMIT`` bytes (past that it stops asking, the server stops reading the socket and TCP holds
the client back) while the thread takes whatever has arrived, waiting on a condition rather than hopping
to the loop: both run at once, on two cores where the work releases the GIL (hashing, writing).
"""

from __future__ import annotations

import asyncio
import threading

from starlette.requests import ClientDisconnect

# bytes received ahead of the handler at most (per request)
LIMIT = 8 << 20
# the reader is woken once this much has arrived (or the body has ended), not for every piece: a wake-up
# (a thread switch, the GIL handed over) costs more than the piece is worth; what arrived less than that
# is still handed on within ``WAIT`` seconds, so a client that pauses is not held up
WAKE = 1 << 20
WAIT = 0.002


class ReadAhead:
    """Started on the event loop (``start``), read from one worker thread (``take``), stopped on the loop
    once the handler has returned (``stop``), whether or not it read the body to its end."""

    def __init__(self, receive):
        self._receive = receive
        self._ready = threading.Condition()
        self._chunks: list[bytes] = []
        self._held = 0
        self._ended = False
        self._error: BaseException | None = None
        self._room = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """On the event loop: begin receiving."""
        self._loop = asyncio.get_running_loop()
        self._room.set()
        self._task = self._loop.create_task(self._run())

    def stop(self) -> None:
        """On the event loop: receive no more (the handler is done with the body)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self) -> None:
        try:
            while True:
                await self._room.wait()
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                body = message.get("body", b"")
                more = message.get("more_body", False)
                with self._ready:
                    first = not self._chunks
                    if body:
                        self._chunks.append(body)
                        self._held += len(body)
                    if self._held >= LIMIT:
                        self._room.clear()
                    self._ended = not more
                    if first or self._held >= WAKE or self._ended:  # the first: the reader's ``WAIT`` begins
                        self._ready.notify()
                if not more:
                    return
        except BaseException as exc:  # a disconnect, or cancelled by ``stop``: the reader is told either way
            with self._ready:
                self._error = exc if isinstance(exc, ClientDisconnect) else ClientDisconnect()
                self._ready.notify()
            if not isinstance(exc, ClientDisconnect):
                raise

    def _make_room(self) -> None:
        with self._ready:
            if self._held < LIMIT:
                self._room.set()

    def take(self) -> tuple[list[bytes], bool]:
        """In the worker thread: every chunk received since the last call (at least one unless the body
        has ended), and whether more may follow.  ``ClientDisconnect`` if the client went away."""
        with self._ready:
            while self._held < WAKE and not self._ended and self._error is None:
                if not self._ready.wait(WAIT if self._chunks else None) and self._chunks:
                    break  # what has come within ``WAIT``
            if self._error is not None and not self._chunks:
                raise self._error
            chunks, self._chunks = self._chunks, []
            full = self._held >= LIMIT
            self._held = 0
            more = not self._ended
        if full:
            self._loop.call_soon_threadsafe(self._make_room)
        return chunks, more
