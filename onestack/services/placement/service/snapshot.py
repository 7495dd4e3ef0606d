"""A consistent in-memory view of providers for the searches (provider lists, allocation candidates).

A private cloud has at most a few thousand providers: reading them with four queries and matching in
Python is fast and keeps every rule (capacity, traits, aggregates, trees) written once.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.services.placement.models import (
    Allocation,
    Inventory,
    Provider,
    ProviderAggregate,
    ProviderTrait,
)

MAX_INT = 2147483647


def capacity(inv) -> float:
    """Placement's rule: what may be allocated is (total - reserved) * allocation_ratio."""
    return (inv.total - inv.reserved) * inv.allocation_ratio


def amount_fits_units(inv, amount: int) -> bool:
    return inv.min_unit <= amount <= inv.max_unit and amount % inv.step_size == 0


@dataclasses.dataclass
class Node:
    id: int
    uuid: str
    name: str
    generation: int
    parent_id: int | None
    root_id: int
    inventories: dict[str, Inventory] = dataclasses.field(default_factory=dict)
    used: dict[str, int] = dataclasses.field(default_factory=dict)
    traits: set[str] = dataclasses.field(default_factory=set)
    aggregates: set[str] = dataclasses.field(default_factory=set)

    def capacity(self, rc: str) -> float:
        return capacity(self.inventories[rc])

    def can_take(self, rc: str, amount: int, already: int = 0) -> bool:
        """Whether ``amount`` more of ``rc`` (on top of ``already`` planned here) fits this provider."""
        inv = self.inventories.get(rc)
        if inv is None or not amount_fits_units(inv, amount):
            return False
        return capacity(inv) >= self.used.get(rc, 0) + already + amount


class Snapshot:
    def __init__(self, session: Session):
        self.nodes: dict[int, Node] = {}
        for row in session.execute(select(Provider.id, Provider.uuid, Provider.name, Provider.generation,
                                          Provider.parent_id, Provider.root_id).order_by(Provider.id)):
            self.nodes[row.id] = Node(row.id, row.uuid, row.name, row.generation, row.parent_id, row.root_id)
        # Rows, not ORM objects: a search reads every inventory, and plain rows cost a fraction as much.
        for inv in session.execute(select(Inventory.provider_id, Inventory.resource_class, Inventory.total,
                                          Inventory.reserved, Inventory.min_unit, Inventory.max_unit,
                                          Inventory.step_size, Inventory.allocation_ratio)):
            self.nodes[inv.provider_id].inventories[inv.resource_class] = inv
        for pid, rc, used in session.execute(select(Allocation.provider_id, Allocation.resource_class,
                                                    func.sum(Allocation.used))
                                             .group_by(Allocation.provider_id, Allocation.resource_class)):
            self.nodes[pid].used[rc] = int(used)
        for pid, trait in session.execute(select(ProviderTrait.provider_id, ProviderTrait.trait)):
            self.nodes[pid].traits.add(trait)
        for pid, agg in session.execute(select(ProviderAggregate.provider_id, ProviderAggregate.aggregate)):
            self.nodes[pid].aggregates.add(agg)
        self.by_uuid = {n.uuid: n for n in self.nodes.values()}
        self.trees: dict[int, list[Node]] = {}
        for node in self.nodes.values():
            self.trees.setdefault(node.root_id, []).append(node)

    def tree_of(self, node: Node) -> list[Node]:
        return self.trees[node.root_id]

    def root(self, node: Node) -> Node:
        return self.nodes[node.root_id]

    def is_ancestor_or_self(self, ancestor: Node, node: Node) -> bool:
        current: Node | None = node
        while current is not None:
            if current.id == ancestor.id:
                return True
            current = self.nodes.get(current.parent_id) if current.parent_id else None
        return False
