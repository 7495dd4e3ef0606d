"""A consistent in-memory view of providers for the searches (provider lists, allocation candidates).

A private cloud has at most a few thousand providers: reading them with five queries and matching in
Python is fast and keeps every rule (capacity, traits, aggregates, trees) written once.  A search first
narrows the read in SQL to the trees that could answer it (``candidates.roots_for``), so a request for a
trait, an aggregate or a resource class few providers have reads those few trees only.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import Select, func, select
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


class Stock:
    """One inventory as a search reads it, with what it can hold worked out once per read."""

    __slots__ = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio", "room")

    def __init__(self, total: int, reserved: int, min_unit: int, max_unit: int, step_size: int,
                 allocation_ratio: float):
        self.total, self.reserved, self.allocation_ratio = total, reserved, allocation_ratio
        self.min_unit, self.max_unit, self.step_size = min_unit, max_unit, step_size
        self.room = (total - reserved) * allocation_ratio


@dataclasses.dataclass(eq=False)
class Node:
    id: int
    uuid: str
    name: str
    generation: int
    parent_id: int | None
    root_id: int
    inventories: dict[str, Stock] = dataclasses.field(default_factory=dict)
    used: dict[str, int] = dataclasses.field(default_factory=dict)
    traits: set[str] = dataclasses.field(default_factory=set)
    aggregates: set[str] = dataclasses.field(default_factory=set)

    def capacity(self, rc: str) -> float:
        return self.inventories[rc].room

    def can_take(self, rc: str, amount: int, already: int = 0) -> bool:
        """Whether ``amount`` more of ``rc`` (on top of ``already`` planned here) fits this provider."""
        inv = self.inventories.get(rc)
        if inv is None or not (inv.min_unit <= amount <= inv.max_unit and amount % inv.step_size == 0):
            return False
        return inv.room >= self.used.get(rc, 0) + already + amount


class Snapshot:
    """``roots``: a select of root provider ids; only those trees are read (a search narrowed in SQL to the
    trees that could answer it).  None: every provider."""

    def __init__(self, session: Session, roots: Select | None = None):
        chosen = _few_roots(session, roots) if roots is not None else None

        def narrowed(stmt, provider_id):
            if chosen is None:
                return stmt
            return stmt.where(provider_id.in_(select(Provider.id).where(Provider.root_id.in_(chosen))))

        self.nodes: dict[int, Node] = {}
        nodes = self.nodes
        connection = session.connection()

        def run(stmt) -> list[tuple]:
            # Core rows fetched at once: the ORM's row loading, or fetching row by row, costs several times more.
            return connection.execute(stmt).tuples().all()

        # Plain tuples, not ORM objects: a search reads every inventory of the trees it considers.
        for pid, uuid, name, generation, parent_id, root_id in run(narrowed(
                select(Provider.id, Provider.uuid, Provider.name, Provider.generation, Provider.parent_id,
                       Provider.root_id), Provider.id).order_by(Provider.id)):
            nodes[pid] = Node(pid, uuid, name, generation, parent_id, root_id)
        # On PostgreSQL each statement reads its own snapshot (READ COMMITTED): a provider another process
        # registered after the first statement may already have inventories, usages or traits in the next
        # ones.  It is not part of this snapshot: its rows are skipped (a 500 otherwise).
        for pid, rc, *fields in run(narrowed(
                select(Inventory.provider_id, Inventory.resource_class, Inventory.total, Inventory.reserved,
                       Inventory.min_unit, Inventory.max_unit, Inventory.step_size, Inventory.allocation_ratio),
                Inventory.provider_id)):
            if pid in nodes:
                nodes[pid].inventories[rc] = Stock(*fields)
        for pid, rc, used in run(narrowed(
                select(Allocation.provider_id, Allocation.resource_class, func.sum(Allocation.used)),
                Allocation.provider_id).group_by(Allocation.provider_id, Allocation.resource_class)):
            if pid in nodes:
                nodes[pid].used[rc] = int(used)
        for pid, trait in run(narrowed(select(ProviderTrait.provider_id, ProviderTrait.trait),
                                                   ProviderTrait.provider_id)):
            if pid in nodes:
                nodes[pid].traits.add(trait)
        for pid, agg in run(narrowed(select(ProviderAggregate.provider_id, ProviderAggregate.aggregate),
                                                 ProviderAggregate.provider_id)):
            if pid in nodes:
                nodes[pid].aggregates.add(agg)
        self.by_uuid = {n.uuid: n for n in nodes.values()}
        self.trees: dict[int, list[Node]] = {}
        for node in nodes.values():
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


def _few_roots(session: Session, roots: Select) -> list[int] | None:
    """The root ids ``roots`` selects, or None when they are most of the trees (reading every provider then
    costs less than naming each tree in every read)."""
    chosen = list(session.scalars(roots))
    if len(chosen) * 2 < (session.scalar(select(func.count()).where(Provider.parent_id.is_(None))) or 0):
        return chosen
    return None
