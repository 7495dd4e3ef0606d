"""Which trees a search of allocation candidates narrows its read to (``candidates.roots_for``)."""

from __future__ import annotations

from onestack.services.placement.service.candidates import Group, Request, roots_for
from onestack.services.placement.service.queries import AggregateClause, Traits


def _sql(request: Request) -> str:
    return str(roots_for(request))


def test_every_hosts_classes_do_not_narrow():
    # what every compute node holds would name nearly every tree: the database is not asked
    assert roots_for(Request([Group("", {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1})])) is None


def test_an_aggregate_narrows_alone_beside_every_hosts_classes():
    group = Group("", {"VCPU": 1, "MEMORY_MB": 512}, member_of=[AggregateClause(frozenset({"a" * 32}))])
    sql = _sql(Request([group]))
    assert "placement_provider_aggregate" in sql and "placement_inventory" not in sql


def test_a_custom_class_and_a_trait_still_narrow():
    group = Group("", {"VCPU": 1, "CUSTOM_FPGA": 1}, Traits([frozenset({"CUSTOM_FAST"})]))
    sql = _sql(Request([group]))
    assert "placement_inventory" in sql and "placement_provider_trait" in sql and "INTERSECT" in sql
