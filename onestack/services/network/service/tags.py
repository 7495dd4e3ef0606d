"""Tags (Neutron's standard-attr-tag): one table keyed by resource id, for every taggable resource."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from onestack.services.network.models import Tag

# The list filters on tags: every tag, any tag, not every tag, none of the tags.
FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")


def of(session: Session, ident: str) -> list[str]:
    return sorted(session.scalars(select(Tag.tag).where(Tag.resource_id == ident)))


def replace(session: Session, ident: str, tags: list[str]) -> None:
    current = set(session.scalars(select(Tag.tag).where(Tag.resource_id == ident)))
    wanted = set(tags)
    for tag in current - wanted:
        session.delete(session.get(Tag, (ident, tag)))
    for tag in wanted - current:
        session.add(Tag(resource_id=ident, tag=tag))


def by_id(session: Session, ids: list[str]) -> dict[str, list[str]]:
    """Each resource's tags, for a whole list in a few queries."""
    found: dict[str, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        for rid, tag in session.execute(select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(ids[start:start + 500]))):
            found[rid].append(tag)
    return {k: sorted(v) for k, v in found.items()}


def filtered(stmt: Select, model, wanted: list[tuple[str, list[str]]]) -> Select:
    """``stmt`` narrowed by tag filters, each a (filter, names) pair of ``FILTERS``."""
    def tagged(names):
        return select(Tag.resource_id).where(Tag.tag.in_(names))

    for key, names in wanted:
        if key in ("tags", "not-tags"):
            every = model.id.in_(tagged(names).group_by(Tag.resource_id)
                                 .having(func.count(func.distinct(Tag.tag)) == len(set(names))))
            stmt = stmt.where(every if key == "tags" else ~every)
        else:
            stmt = stmt.where(model.id.in_(tagged(names)) if key == "tags-any" else ~model.id.in_(tagged(names)))
    return stmt
