"""A consistent in-memory view of providers for the searches (provider lists, allocation candidates).

A private cloud has at most a few thousand providers: reading them with five queries and matching in
Python is fast and keeps every rule (capacity, traits, aggregates, trees) written once.  Allocation
candidates do not read them per search: the serving process keeps them between searches (``kept``) and
narrows a search to the trees that could answer it in memory (``candidates.roots_in``).
"""

from __future__ import annotations

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from onestack.services.placement.models import (
    Allocation,
    CustomResourceClass,
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


class Node:
    """One provider as a search sees it.  ``inventories`` and ``traits`` may be shared with the process's
    ``Stocks`` (and with other searches): nothing writes to a node's collections after the read."""

    __slots__ = ("id", "uuid", "name", "generation", "parent_id", "root_id", "inventories", "used", "traits",
                 "aggregates", "summaries")

    def __init__(self, id: int, uuid: str, name: str, generation: int, parent_id: int | None, root_id: int,
                 inventories: dict[str, Stock] | None = None, used: dict[str, int] | None = None,
                 traits: frozenset[str] | set[str] = frozenset(), aggregates: frozenset[str] | set[str] = frozenset()):
        self.id, self.uuid, self.name, self.generation = id, uuid, name, generation
        self.parent_id, self.root_id = parent_id, root_id
        self.inventories = inventories if inventories is not None else {}
        self.used = used if used is not None else {}
        self.traits, self.aggregates = traits, aggregates
        # its allocation-candidates summary by shape, made once (``views.candidates``): a node never changes
        # after its snapshot is read, and a kept node is shown by every search until its usage moves
        self.summaries: dict[tuple[bool, bool], dict] = {}

    def capacity(self, rc: str) -> float:
        return self.inventories[rc].room

    def can_take(self, rc: str, amount: int, already: int = 0) -> bool:
        """Whether ``amount`` more of ``rc`` (on top of ``already`` planned here) fits this provider."""
        inv = self.inventories.get(rc)
        if inv is None or not (inv.min_unit <= amount <= inv.max_unit and amount % inv.step_size == 0):
            return False
        return inv.room >= self.used.get(rc, 0) + already + amount


class Stocks:
    """Each provider's inventories and traits, kept from one search to the next in this process.

    Every change of a provider's inventories or traits bumps its generation in the same transaction
    (``providers.bump``), so what was read at a generation holds until the generation moves; the key also
    holds the provider's uuid and creation time (a provider deleted and made again may get the same id and
    count its generations from 0 again) and the custom resource classes with their update times (renaming a
    class renames inventories without a bump).  Usage and aggregates are not kept: allocations released or
    moved away and aggregates set before microversion 1.19 change no generation.  A search then reads the
    providers' rows, their usage and aggregates, and the inventories and traits of changed providers only.
    Thread-safe by replacement: an entry is never changed, only replaced."""

    # Past this many changed providers one read of every row costs less than naming each in the query.
    FEW = 300

    def __init__(self):
        self._kept: dict[int, tuple[tuple, dict[str, Stock], frozenset[str]]] = {}
        self._classes: frozenset | None = None

    def __len__(self) -> int:
        return len(self._kept)

    def fill(self, run, providers: list[tuple]) -> dict[int, tuple[dict[str, Stock], frozenset[str]]]:
        """The inventories and traits of ``providers`` (rows of ``_PROVIDER_ROWS``: every provider there is),
        read for those whose key changed since kept; what is kept of providers deleted since goes.  ``run``
        executes a statement."""
        classes = frozenset(run(select(CustomResourceClass.name, _raw(CustomResourceClass.updated_at))))
        if classes != self._classes:
            self._kept, self._classes = {}, classes
        if len(self._kept) > len(providers):
            present = {row[0] for row in providers}
            # list(): another search may be adding to the dict meanwhile
            self._kept = {pid: entry for pid, entry in list(self._kept.items()) if pid in present}
        kept = self._kept
        stale = [row[0] for row in providers if (hit := kept.get(row[0])) is None or hit[0] != _key(row)]
        if stale:
            ids = set(stale)

            def only(stmt, column):
                return stmt.where(column.in_(stale)) if len(stale) <= self.FEW else stmt

            stocks: dict[int, dict[str, Stock]] = {i: {} for i in stale}
            traits: dict[int, set[str]] = {i: set() for i in stale}
            for pid, rc, *fields in run(only(_INVENTORY_ROWS, Inventory.provider_id)):
                if pid in ids:
                    stocks[pid][rc] = Stock(*fields)
            for pid, trait in run(only(_TRAIT_ROWS, ProviderTrait.provider_id)):
                if pid in ids:
                    traits[pid].add(trait)
            for row in providers:
                if row[0] in ids:
                    kept[row[0]] = (_key(row), stocks[row[0]], frozenset(traits[row[0]]))
        return {row[0]: kept[row[0]][1:] for row in providers}


def _raw(column):
    """A timestamp as the driver returns it (SQLite's text, psycopg's datetime), not parsed: a key to
    compare, read for every provider of a search."""
    return type_coerce(column, String)


def _key(row: tuple) -> tuple:
    """uuid, generation, creation time of a ``_PROVIDER_ROWS`` row."""
    return row[1], row[3], row[6]


_PROVIDER_ROWS = select(Provider.id, Provider.uuid, Provider.name, Provider.generation, Provider.parent_id,
                        Provider.root_id, _raw(Provider.created_at))
_INVENTORY_ROWS = select(Inventory.provider_id, Inventory.resource_class, Inventory.total, Inventory.reserved,
                         Inventory.min_unit, Inventory.max_unit, Inventory.step_size, Inventory.allocation_ratio)
_TRAIT_ROWS = select(ProviderTrait.provider_id, ProviderTrait.trait)


class Snapshot:
    """Every provider, with its inventories, usage, traits and aggregates, from one read transaction.
    ``stocks``: the process's kept inventories and traits (``Stocks``); None reads them all."""

    def __init__(self, session: Session, stocks: Stocks | None = None):
        self.nodes: dict[int, Node] = {}
        nodes = self.nodes
        connection = session.connection()

        def run(stmt) -> list[tuple]:
            # Core rows fetched at once: the ORM's row loading, or fetching row by row, costs several times more.
            return connection.execute(stmt).all()

        # Plain tuples, not ORM objects: a search reads every inventory of the trees it considers.
        rows = run(_PROVIDER_ROWS.order_by(Provider.id))
        # On PostgreSQL each statement reads its own snapshot (READ COMMITTED): a provider another process
        # registered after the first statement may already have inventories, usages or traits in the next
        # ones.  It is not part of this snapshot: its rows are skipped (a 500 otherwise).
        if stocks is not None:
            for (pid, uuid, name, generation, parent_id, root_id, _), (inventories, traits) in zip(
                    rows, stocks.fill(run, rows).values(), strict=True):
                nodes[pid] = Node(pid, uuid, name, generation, parent_id, root_id, inventories, {}, traits)
        else:
            for pid, uuid, name, generation, parent_id, root_id, _ in rows:
                nodes[pid] = Node(pid, uuid, name, generation, parent_id, root_id, {}, {}, set())
            for pid, rc, *fields in run(_INVENTORY_ROWS):
                if pid in nodes:
                    nodes[pid].inventories[rc] = Stock(*fields)
            for pid, trait in run(_TRAIT_ROWS):
                if pid in nodes:
                    nodes[pid].traits.add(trait)
        for pid, rc, used in run(select(Allocation.provider_id, Allocation.resource_class, func.sum(Allocation.used))
                                 .group_by(Allocation.provider_id, Allocation.resource_class)):
            if pid in nodes:
                nodes[pid].used[rc] = int(used)
        aggregates: dict[int, set[str]] = {}
        for pid, agg in run(select(ProviderAggregate.provider_id, ProviderAggregate.aggregate)):
            if pid in nodes:
                aggregates.setdefault(pid, set()).add(agg)
        for pid, names in aggregates.items():
            nodes[pid].aggregates = names
        self.by_uuid: dict[str, Node] = {}
        self.trees: dict[int, list[Node]] = {}
        self._index()

    @classmethod
    def of(cls, nodes: dict[int, Node]) -> Snapshot:
        """A snapshot of ``nodes`` already read (``kept.Trees``: shared between searches, never changed)."""
        snap = cls.__new__(cls)
        snap.nodes = nodes
        snap._index()
        return snap

    def _index(self) -> None:
        self.by_uuid = {n.uuid: n for n in self.nodes.values()}
        self.trees = {}
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
