"""What other services may ask of placement: the typed facade and the plain values it answers with.

Compute is its one user: each compute host is a resource provider with inventories and traits, a boot
or a resize claims room as allocations of a consumer (an instance, or a migration holding the old
flavor's room), and the scheduler reads every provider's room at once.  Claims that do not fit raise
placement's ``Conflict``; every call is its own transaction.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

# consumer -> provider uuid -> resource class -> amount (an empty map releases the consumer)
Allocations = dict[str, dict[str, int]]


@dataclasses.dataclass
class ProviderRoom:
    """One provider as last read: what may be allocated of each resource class, the units it is handed out
    in, and what is used.  ``used`` belongs to the reader, who may count its own claims into it."""

    uuid: str
    traits: frozenset[str]
    capacity: dict[str, float]  # (total - reserved) * allocation_ratio
    units: dict[str, tuple[int, int, int]]  # min_unit, max_unit, step_size
    used: dict[str, int]

    def can_take(self, resource_class: str, amount: int) -> bool:
        if resource_class not in self.capacity:
            return False
        low, high, step = self.units[resource_class]
        if not (low <= amount <= high and amount % step == 0):
            return False
        return self.capacity[resource_class] >= self.used.get(resource_class, 0) + amount


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One way to satisfy a request: the allocations to claim, and the room left on the providers named."""

    allocations: Allocations
    free: dict[str, dict[str, int]]  # provider uuid -> resource class -> capacity - used


class Placement(Protocol):
    def register_provider(self, name: str, uuid: str, inventories: dict[str, dict], traits: list[str]) -> None:
        """The provider made if missing, its inventories and traits set to exactly these."""

    def candidates(self, wanted: dict[str, int], required: tuple[str, ...] = (),
                   forbidden: tuple[str, ...] = ()) -> list[Candidate]:
        """Providers (one tree each) that can take ``wanted``, have the ``required`` traits and lack the
        ``forbidden`` ones."""

    def capacity(self) -> dict[str, ProviderRoom]:
        """Every provider's room by uuid, from one consistent read."""

    def claim(self, consumer: str, allocations: Allocations, project_id: str, user_id: str) -> None:
        """``consumer``'s allocations replaced by these; placement's ``Conflict`` if they do not fit."""

    def claim_together(self, writes: dict[str, Allocations], project_id: str, user_id: str) -> None:
        """Several consumers' allocations replaced in one write (an empty map releases its consumer)."""

    def providers_of(self, consumer: str) -> set[str]:
        ...

    def release(self, consumer: str) -> None:
        ...

    def change_aggregates(self, provider: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        """The provider's aggregates changed (nothing if it is not registered yet)."""
