"""What the compute service asks of placement, in compute's terms: register a host's inventory, find
hosts with room, claim an instance's resources, release them."""

from __future__ import annotations

import logging

from onestack.config import ComputeSettings
from onestack.http.errors import Conflict
from onestack.services.compute.models import ComputeHost
from onestack.services.placement.public import Placement, ProviderRoom

LOG = logging.getLogger("onestack.compute.placement")
COMPUTE_TRAIT = "COMPUTE_NODE"
# A host that runs container instances.  os-traits has no standard trait for it, hence a custom one.
CONTAINER_TRAIT = "CUSTOM_COMPUTE_CONTAINER"


class PlacementClient:
    def __init__(self, placement: Placement):
        self.placement = placement

    def register_host(self, host: ComputeHost, settings: ComputeSettings, extra_traits: tuple[str, ...] = ()) -> None:
        memory_reserved = settings.reserved_host_memory_mb if settings.reserved_host_memory_mb < host.memory_mb else 0
        inventories = {
            "VCPU": {"total": host.vcpus, "allocation_ratio": settings.cpu_allocation_ratio, "max_unit": host.vcpus},
            "MEMORY_MB": {"total": host.memory_mb, "reserved": memory_reserved,
                          "allocation_ratio": settings.ram_allocation_ratio, "max_unit": host.memory_mb},
            "DISK_GB": {"total": host.disk_gb, "allocation_ratio": settings.disk_allocation_ratio,
                        "max_unit": host.disk_gb},
        }
        self.placement.register_provider(host.host, host.id, inventories, [COMPUTE_TRAIT, *extra_traits])

    def candidates(self, wanted: dict[str, int], required: frozenset[str] = frozenset(),
                   forbidden: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
        """Hosts (provider uuids) that can take ``wanted`` and have the ``required`` traits and none of the
        ``forbidden`` ones, each with its free memory in MB."""
        # Only compute nodes, and only requests served by one provider: a host has no nested providers here.
        hosts = []
        for candidate in self.placement.candidates(wanted, required=(COMPUTE_TRAIT, *sorted(required)),
                                                   forbidden=tuple(sorted(forbidden))):
            if len(candidate.allocations) != 1:
                continue
            (provider,) = candidate.allocations
            hosts.append((provider, candidate.free[provider].get("MEMORY_MB", 0)))
        return hosts

    def providers(self) -> dict[str, ProviderRoom]:
        """Placement's providers as they are now (the scheduler's capacity view is made of it)."""
        return self.placement.capacity()

    def claim(self, consumer: str, provider: str, wanted: dict[str, int], project_id: str, user_id: str) -> bool:
        """True if ``consumer`` now holds ``wanted`` on ``provider``; False if another claim took the room."""
        try:
            self.placement.claim(consumer, {provider: wanted}, project_id, user_id)
            return True
        except Conflict as exc:
            if provider in self.placement.providers_of(consumer):  # an earlier, interrupted run claimed it
                return True
            LOG.info("claim for %s on %s refused: %s", consumer, provider, exc.message)
            return False

    def hand_over(self, writes: dict[str, dict[str, dict[str, int]]], project_id: str, user_id: str) -> bool:
        """Rewrite several consumers' allocations in one write (consumer -> provider -> resources; an empty
        map releases), as Nova moves an instance's allocation to its migration while it claims the new
        flavor.  Repeating it writes the same; False if a provider lacks the room."""
        try:
            self.placement.claim_together(writes, project_id, user_id)
            return True
        except Conflict as exc:
            LOG.info("allocation hand-over %s refused: %s", sorted(writes), exc.message)
            return False

    def release(self, consumer: str) -> None:
        self.placement.release(consumer)

    # Nova's report client mirrors host aggregates into placement aggregates of the host's provider.
    def add_to_aggregate(self, provider: str, aggregate: str) -> None:
        self.placement.change_aggregates(provider, add=(aggregate,))

    def remove_from_aggregate(self, provider: str, aggregate: str) -> None:
        self.placement.change_aggregates(provider, remove=(aggregate,))
