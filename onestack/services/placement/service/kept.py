"""The providers' trees kept in the serving process between allocation-candidate searches.

A search used to read every provider row, aggregate and usage of the trees it considered (eight statements,
half of a 1,000-provider answer's CPU).  Providers, their trees, inventories, traits, aggregates and the
custom classes and traits change rarely; usage changes with every claim.  So every write that changes the
former bumps one counter row (``placement_revision``) in its own transaction (``bump``), and a search reads
that counter and the usage (two statements): while the counter holds, the trees read at it still hold.
Allocation writes leave the counter alone, so concurrent claims never wait on its row.

The counter is in the database, not in the process: with several serving workers (or hosts) on PostgreSQL,
a change written through any of them moves it for all.  A search reads the counter before the trees (on
PostgreSQL each statement reads the latest commits), so trees kept at a revision include every change made
up to it; a change committed meanwhile may show early, and moves the counter for the next search.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.services.placement.models import Allocation, CustomResourceClass, CustomTrait, Revision
from onestack.services.placement.service import standard
from onestack.services.placement.service.snapshot import Node, Snapshot, Stocks

_READ = select(Revision.value).where(Revision.id == 1)
_USAGE = (select(Allocation.provider_id, Allocation.resource_class, func.sum(Allocation.used))
          .group_by(Allocation.provider_id, Allocation.resource_class))


def bump(session: Session) -> None:
    """Count a change of what searches keep (in the writing transaction).  The row is made by the first
    write of a new database; two first writers at once on PostgreSQL collide on its key, and the loser
    bumps the winner's row."""
    if session.execute(update(Revision).where(Revision.id == 1).values(value=Revision.value + 1)).rowcount:
        return
    try:
        with session.begin_nested():
            session.execute(insert(Revision).values(id=1, value=1))
    except IntegrityError:
        session.execute(update(Revision).where(Revision.id == 1).values(value=Revision.value + 1))


class Index:
    """Which trees (their roots) hold each resource class, trait and aggregate somewhere."""

    def __init__(self, nodes):
        self.by_class: dict[str, set[int]] = {}
        self.by_trait: dict[str, set[int]] = {}
        self.by_aggregate: dict[str, set[int]] = {}
        for node in nodes:
            for rc in node.inventories:
                self.by_class.setdefault(rc, set()).add(node.root_id)
            for trait in node.traits:
                self.by_trait.setdefault(trait, set()).add(node.root_id)
            for aggregate in node.aggregates:
                self.by_aggregate.setdefault(aggregate, set()).add(node.root_id)


class Trees:
    """Every provider with its inventories, traits and aggregates, the custom class and trait names, and
    their ``Index`` (to narrow a search in memory), read at ``revision``.
    Never changed after it is made: searches in several threads share it."""

    def __init__(self, revision: int, session: Session, stocks: Stocks):
        self.revision = revision
        self.custom_classes = frozenset(session.scalars(select(CustomResourceClass.name)))
        self.custom_traits = frozenset(session.scalars(select(CustomTrait.name)))
        snap = Snapshot(session, stocks=stocks)
        self._latest = (_usage_of(snap.nodes), snap)
        self._lock = threading.Lock()
        self.index = Index(snap.nodes.values())

    def known_class(self, name: str) -> bool:
        return name in standard.RESOURCE_CLASSES or name in self.custom_classes

    def known_trait(self, name: str) -> bool:
        return name in standard.TRAITS or name in self.custom_traits

    def with_usage(self, session: Session) -> Snapshot:
        """The trees with the usage read now: the last snapshot made if the usage is the same, else one whose
        changed providers are new nodes (the others shared)."""
        usage: dict[int, dict[str, int]] = {}
        for pid, rc, used in session.connection().execute(_USAGE):
            usage.setdefault(pid, {})[rc] = int(used)
        last_usage, last = self._latest
        if usage == last_usage:
            return last
        nodes = dict(last.nodes)
        for pid in usage.keys() | last_usage.keys():
            used = usage.get(pid, {})
            node = nodes.get(pid)
            # a provider made after these trees were read (its allocations seen by this later statement) is
            # not part of them: the revision it moved makes the next search read it
            if node is None or used == node.used:
                continue
            nodes[pid] = Node(node.id, node.uuid, node.name, node.generation, node.parent_id, node.root_id,
                              node.inventories, used, node.traits, node.aggregates)
        snap = Snapshot.of(nodes)
        with self._lock:
            self._latest = (usage, snap)
        return snap


def _usage_of(nodes: dict[int, Node]) -> dict[int, dict[str, int]]:
    return {pid: node.used for pid, node in nodes.items() if node.used}


class Kept:
    """The process's ``Trees``, read again when the revision moved."""

    def __init__(self, stocks: Stocks):
        self.stocks = stocks
        self._trees: Trees | None = None
        self._lock = threading.Lock()

    def trees(self, session: Session) -> Trees:
        revision = session.connection().execute(_READ).scalar() or 0
        kept = self._trees
        if kept is not None and kept.revision == revision:
            return kept
        fresh = Trees(revision, session, self.stocks)
        with self._lock:
            # a search that read an older revision does not replace trees read at a newer one
            if self._trees is None or self._trees.revision <= revision:
                self._trees = fresh
        return fresh
