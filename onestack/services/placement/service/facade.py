"""Placement as other services see it (``public.Placement``), over its service and its snapshot."""

from __future__ import annotations

from onestack.services.placement.public import Allocations, Candidate, ProviderRoom
from onestack.services.placement.service import PlacementService
from onestack.services.placement.service.allocations import ConsumerWrite
from onestack.services.placement.service.snapshot import capacity


class PlacementFacade:
    def __init__(self, placement: PlacementService):
        self.placement = placement

    def register_provider(self, name: str, uuid: str, inventories: dict[str, dict], traits: list[str]) -> None:
        self.placement.ensure_provider(name, uuid, inventories, traits)

    def candidates(self, wanted: dict[str, int], required: tuple[str, ...] = (),
                   forbidden: tuple[str, ...] = ()) -> list[Candidate]:
        found = self.placement.candidates(wanted, required=required, forbidden=forbidden)
        summaries = found["provider_summaries"]
        return [Candidate(allocations={p: dict(a["resources"]) for p, a in request["allocations"].items()},
                          free={p: {rc: r.get("capacity", 0) - r.get("used", 0)
                                    for rc, r in summaries[p]["resources"].items()}
                                for p in request["allocations"]})
                for request in found["allocation_requests"]]

    def capacity(self) -> dict[str, ProviderRoom]:
        snap = self.placement.snapshot()
        return {node.uuid: ProviderRoom(
            uuid=node.uuid, traits=frozenset(node.traits),
            capacity={rc: capacity(inv) for rc, inv in node.inventories.items()},
            units={rc: (inv.min_unit, inv.max_unit, inv.step_size) for rc, inv in node.inventories.items()},
            used=dict(node.used)) for node in snap.nodes.values()}

    def claim(self, consumer: str, allocations: Allocations, project_id: str, user_id: str) -> None:
        self.placement.claim(consumer, allocations, project_id, user_id)

    def claim_together(self, writes: dict[str, Allocations], project_id: str, user_id: str) -> None:
        self.placement.claim_many([ConsumerWrite(consumer, allocations, project_id, user_id)
                                   for consumer, allocations in writes.items()])

    def providers_of(self, consumer: str) -> set[str]:
        return self.placement.providers_of(consumer)

    def release(self, consumer: str) -> None:
        self.placement.release(consumer)

    def change_aggregates(self, provider: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        self.placement.change_provider_aggregates(provider, add=add, remove=remove)
