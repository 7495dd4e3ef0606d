"""Caches keyed by what requests bring (tokens above all): a bound on their size that is also a bound on memory.

A validated token costs some 15 kB kept (its ``TokenData`` and the validation body rendered from it, catalog
included; ``make load`` with ``--memstats``: +8.7 MB of heap for 618 tokens): the 20,000 tokens the identity
caches used to keep, expired or not, before clearing were 300 MB, reached on any cloud that signs in often
enough (each CLI command issues a token), and ``make load`` saw it as RSS growing with every token issued.  Callers hold their own lock around ``pruned`` and the insertion after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def pruned(entries: dict[K, V], limit: int, alive: Callable[[V], bool]) -> dict[K, V]:
    """``entries`` with room for one more: itself while under ``limit``, else a new dict without the entries
    no longer ``alive`` (expired) and, if that is not enough, without the older half (insertion order).  A new
    dict, not deletions in place: readers on other threads keep using the one they fetched."""
    if len(entries) < limit:
        return entries
    kept = {key: value for key, value in list(entries.items()) if alive(value)}
    if len(kept) >= limit:
        kept = dict(list(kept.items())[len(kept) - limit // 2:])
    return kept
