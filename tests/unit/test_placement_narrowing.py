"""Which trees a search of allocation candidates narrows to (``candidates.roots_in``, from the kept trees'
``Index``): a superset of the trees that answer, so narrowing changes the cost of a search, never its answer."""

from __future__ import annotations

from onestack.services.placement.service.candidates import Group, Request, Search, roots_in
from onestack.services.placement.service.kept import Index
from onestack.services.placement.service.queries import AggregateClause, Traits
from onestack.services.placement.service.snapshot import Node, Snapshot, Stock

AGG = "5c0f1d6e-9f4b-4a51-8d7e-6d1b7c3f0a01"


def _cloud() -> Snapshot:
    """Root 1 (fast, in AGG) with child 2 (an FPGA); root 3 (fast); root 4 (plain, in AGG)."""
    def node(pid, root, parent=None, traits=(), aggregates=(), **stocks):
        return Node(pid, f"rp-{pid}", f"rp-{pid}", 1, parent, root,
                    {rc: Stock(total, 0, 1, total, 1, 1.0) for rc, total in stocks.items()}, {},
                    frozenset(traits), frozenset(aggregates))

    return Snapshot.of({1: node(1, 1, traits={"CUSTOM_FAST"}, aggregates={AGG}, VCPU=8),
                        2: node(2, 1, parent=1, CUSTOM_FPGA=1),
                        3: node(3, 3, traits={"CUSTOM_FAST"}, VCPU=8),
                        4: node(4, 4, aggregates={AGG}, VCPU=8)})


def _narrowed(snap: Snapshot, *groups: Group, policy: str | None = None) -> set[int] | None:
    request = Request(list(groups), policy)
    roots = roots_in(Index(snap.nodes.values()), snap, request)
    # the narrowed search answers as the whole one does
    assert ([c.allocations for c in Search(snap, request, roots).run()]
            == [c.allocations for c in Search(snap, request).run()])
    return roots


def test_a_request_narrows_to_the_trees_holding_each_part():
    snap = _cloud()
    assert _narrowed(snap, Group("", {"VCPU": 1})) == {1, 3, 4}
    assert _narrowed(snap, Group("", {"VCPU": 1}, Traits([frozenset({"CUSTOM_FAST"})]))) == {1, 3}
    assert _narrowed(snap, Group("", {"VCPU": 1}, member_of=[AggregateClause(frozenset({AGG}))])) == {1, 4}
    assert _narrowed(snap, Group("", {"VCPU": 1}), Group("1", {"CUSTOM_FPGA": 1}), policy="none") == {1}
    assert _narrowed(snap, Group("", {"VCPU": 1}, in_tree="rp-2")) == {1}


def test_what_cannot_narrow_does_not():
    snap = _cloud()
    # forbidden traits and aggregates say nothing about which trees hold something: every tree is searched
    assert _narrowed(snap, Group("", {"VCPU": 1}, Traits(forbidden={"CUSTOM_FAST"}))) == {1, 3, 4}
    assert _narrowed(snap, Group("", {"VCPU": 1}, member_of=[AggregateClause(frozenset({AGG}), True)])) == {1, 3, 4}
    # a class, trait, aggregate or anchor no tree has: nothing to search
    assert _narrowed(snap, Group("", {"CUSTOM_GPU": 1})) == set()
    assert _narrowed(snap, Group("", {"VCPU": 1}, Traits([frozenset({"CUSTOM_NONE"})]))) == set()
    assert _narrowed(snap, Group("", {"VCPU": 1}, in_tree="rp-9")) == set()
