"""Diagnostic watchers a serving process runs when an environment variable asks for them (memory statistics,
allocation tracing): the variable gives the seconds between readings, and each worker forked later runs its
own watcher, as each writes its own file."""

from __future__ import annotations

import os
from collections.abc import Callable


def watch_if_asked(variable: str, watch: Callable[[float], None], before: Callable[[], None] | None = None) -> None:
    every = os.environ.get(variable)
    if not every:
        return
    if before is not None:
        before()
    watch(float(every))
    os.register_at_fork(after_in_child=lambda: watch(float(every)))
