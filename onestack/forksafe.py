"""Connection pools a forked serving process must not share with its parent.

The supervisor of several workers (``onestack.workers``) keeps converging the cloud after it has
forked them, so its pools hold live connections when it forks a replacement for a worker that died.
A child that went on using an inherited connection would interleave its requests with the parent's on
one socket and both would read the other's answers; the child drops what it inherited instead.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def renew_in_children(owner: T, renew: Callable[[T], None]) -> None:
    """Call ``renew(owner)`` in every child process forked while ``owner`` lives, before the child runs on."""
    ref = weakref.ref(owner)

    def after_fork() -> None:
        alive = ref()
        if alive is not None:
            renew(alive)

    os.register_at_fork(after_in_child=after_fork)


class LazyClient:
    """An ``httpx.Client`` made when first called through: its SSL context (the system's CA bundle read and
    parsed) cost each of the two the services hold some 40 ms of CPU at every start, for calls most clouds
    make later or never.  Attributes are the client's (``get``, ``request``, ``stream``, ``close``); an owner
    that renews its pools in a forked child makes a new ``LazyClient`` there."""

    def __init__(self, **options):
        self._options = options
        self._client = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        client = self._client
        if client is None:
            import httpx

            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(**self._options)
                client = self._client
        return getattr(client, name)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
