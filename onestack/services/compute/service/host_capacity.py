"""What the scheduler believes each compute host has free, as Nova's host manager keeps host states.

Reading placement's whole picture (every provider, inventory and usage) for each server costs more than
the rest of a boot together, and grows with the cloud.  The view is placement's providers as last read,
minus what this scheduler claimed since; it is read again when it is older than ``MAX_AGE``, and the
scheduler reads it afresh before it ever says "no valid host".  Being stale costs nothing worse than a
claim that placement refuses (placement's claim stays the only arbiter of room), or a host weighed by
slightly old figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from onestack.services.compute.service.placement_client import COMPUTE_TRAIT
from onestack.services.placement.public import ProviderRoom

MAX_AGE = 1.0


class CapacityView:
    def __init__(self, read: Callable[[], dict[str, ProviderRoom]], max_age: float = MAX_AGE):
        """``read``: one consistent read of placement's providers, by uuid."""
        self._read = read
        self._max_age = max_age
        self._rooms: dict[str, ProviderRoom] | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def fitting(self, wanted: dict[str, int], fresh: bool = False, required: frozenset[str] = frozenset(),
                forbidden: frozenset[str] = frozenset()) -> tuple[dict[str, int], bool]:
        """Compute hosts (provider uuids) with room for ``wanted`` on the provider itself, the ``required``
        traits and none of the ``forbidden`` ones, each with its free memory in MB; and whether that answer
        comes from a read made just now."""
        with self._lock:
            renewed = fresh or self._rooms is None or time.monotonic() - self._read_at > self._max_age
            if renewed:
                self._rooms, self._read_at = self._read(), time.monotonic()
            required = required | {COMPUTE_TRAIT}
            found = {room.uuid: _free_memory(room) for room in self._rooms.values()
                     if required <= room.traits and not forbidden & room.traits
                     and all(room.can_take(rc, n) for rc, n in wanted.items())}
            return found, renewed

    def consumed(self, provider: str, wanted: dict[str, int]) -> None:
        """``wanted`` was claimed on ``provider``: it is no longer free until the next read says otherwise."""
        with self._lock:
            room = self._rooms.get(provider) if self._rooms is not None else None
            if room is not None:
                for rc, amount in wanted.items():
                    room.used[rc] = room.used.get(rc, 0) + amount


def _free_memory(room: ProviderRoom) -> int:
    memory = room.capacity.get("MEMORY_MB")
    return int(memory) - room.used.get("MEMORY_MB", 0) if memory is not None else 0
