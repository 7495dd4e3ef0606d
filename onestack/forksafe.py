"""Connection pools a forked serving process must not share with its parent.

The supervisor of several workers (``onestack.workers``) keeps converging the cloud after it has
forked them, so its pools hold live connections when it forks a replacement for a worker that died.
A child that went on using an inherited connection would interleave its requests with the parent's on
one socket and both would read the other's answers; the child drops what it inherited instead.
"""

from __future__ import annotations

import os
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
