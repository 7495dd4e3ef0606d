"""Allocations: what consumers hold, written atomically with capacity checks.

A write replaces every allocation of the consumers it names.  Capacity is checked against what other
consumers hold, then each provider that receives resources gets its generation compare-and-swapped in
the same transaction, so two writers that both saw room for the last unit cannot both commit.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.placement.models import Allocation, Consumer, Inventory, Provider
from onestack.services.placement.service import codes, providers
from onestack.services.placement.service.catalog import resource_class_exists
from onestack.services.placement.service.snapshot import amount_fits_units, capacity

UNCHECKED = object()  # before 1.28 a write names no consumer generation


@dataclasses.dataclass
class ConsumerWrite:
    consumer: str
    allocations: dict[str, dict[str, int]]  # provider uuid -> resource class -> amount
    project_id: str | None = None
    user_id: str | None = None
    generation: object = UNCHECKED  # None: the caller expects no consumer yet
    consumer_type: str | None = None


def consumer_allocations(session: Session, consumer: str) -> list[tuple[Allocation, Provider]]:
    return list(session.execute(select(Allocation, Provider).join(Provider, Provider.id == Allocation.provider_id)
                                .where(Allocation.consumer_id == consumer).order_by(Allocation.id)).all())


def provider_allocations(session: Session, provider: Provider) -> list[tuple[Allocation, Consumer]]:
    return list(session.execute(select(Allocation, Consumer).join(Consumer, Consumer.uuid == Allocation.consumer_id)
                                .where(Allocation.provider_id == provider.id).order_by(Allocation.id)).all())


def check_consumer(session: Session, write: ConsumerWrite) -> None:
    _check_consumer_generation(session.get(Consumer, write.consumer), write)


def _check_consumer_generation(row: Consumer | None, write: ConsumerWrite) -> None:
    if write.generation is UNCHECKED:
        return
    current = row.generation if row is not None else None
    if current != write.generation:
        raise Conflict(f"consumer generation conflict - expected {_show(write.generation)} but got {_show(current)}",
                       kind=codes.CONCURRENT_UPDATE)


def _show(generation) -> str:
    return "null" if generation is None else str(generation)


def _bump_consumer(session: Session, row: Consumer) -> None:
    done = session.execute(update(Consumer).where(Consumer.uuid == row.uuid, Consumer.generation == row.generation)
                           .values(generation=row.generation + 1).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise providers.GenerationRace("consumer")


def _resolve(session: Session, writes: list[ConsumerWrite]) -> dict[str, Provider]:
    wanted = {uuid for w in writes for uuid in w.allocations}
    found = {p.uuid: p for p in session.scalars(select(Provider).where(Provider.uuid.in_(wanted)))} if wanted else {}
    for uuid in sorted(wanted - set(found)):
        raise BadRequest(f"Allocation for resource provider '{uuid}' that does not exist.")
    for w in writes:
        for resources in w.allocations.values():
            for rc in resources:
                if not resource_class_exists(session, rc):
                    raise BadRequest(f"Unable to allocate inventory: No such resource class {rc}.")
    return found


def _check_capacity(session: Session, found: dict[str, Provider], totals: dict[tuple[str, str], int],
                    each: list[tuple[str, str, int]]) -> None:
    # The providers' inventories and what others hold on them, two reads for the whole write.
    ids = {found[uuid].id for uuid, _ in totals}
    inventories = {(inv.provider_id, inv.resource_class): inv for inv in session.execute(
        select(Inventory.provider_id, Inventory.resource_class, Inventory.total, Inventory.reserved,
               Inventory.min_unit, Inventory.max_unit, Inventory.step_size, Inventory.allocation_ratio)
        .where(Inventory.provider_id.in_(ids)))}
    held = {(pid, rc): int(used) for pid, rc, used in session.execute(
        select(Allocation.provider_id, Allocation.resource_class, func.sum(Allocation.used))
        .where(Allocation.provider_id.in_(ids)).group_by(Allocation.provider_id, Allocation.resource_class))}
    for uuid, rc, amount in each:
        inv = inventories.get((found[uuid].id, rc))
        if inv is None:
            raise Conflict(f"Unable to allocate inventory: Inventory for '{rc}' on resource provider '{uuid}' invalid.")
        if not amount_fits_units(inv, amount):
            raise Conflict(f"Unable to allocate inventory: Unable to allocate {amount} of '{rc}' on resource provider "
                           f"'{uuid}': the amount violates min_unit ({inv.min_unit}), max_unit ({inv.max_unit}) or "
                           f"step_size ({inv.step_size}).")
    for (uuid, rc), amount in totals.items():
        if capacity(inventories[(found[uuid].id, rc)]) < held.get((found[uuid].id, rc), 0) + amount:
            raise Conflict(f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource "
                           f"provider '{uuid}'. The requested amount would exceed the capacity.")


def replace(session: Session, writes: list[ConsumerWrite]) -> None:
    """Replace the allocations of every consumer in ``writes`` at once (an empty map releases).

    The writes are plain statements, not the ORM's unit of work: a claim is the one write Nova makes for
    every boot, and flushing objects cost as much as the rest of it."""
    rows = {w.consumer: session.get(Consumer, w.consumer) for w in writes}
    for w in writes:
        _check_consumer_generation(rows[w.consumer], w)
    found = _resolve(session, writes)
    if any(row is not None for row in rows.values()):
        # What these consumers held no longer counts against capacity (a consumer without a row holds nothing).
        session.execute(delete(Allocation).where(Allocation.consumer_id.in_([w.consumer for w in writes])))
    totals: dict[tuple[str, str], int] = {}
    each = []
    for w in writes:
        for uuid, resources in w.allocations.items():
            for rc, amount in resources.items():
                totals[(uuid, rc)] = totals.get((uuid, rc), 0) + amount
                each.append((uuid, rc, amount))
    _check_capacity(session, found, totals, each)
    now = utcnow()
    for w in writes:
        row = rows[w.consumer]
        if not w.allocations:
            if row is not None:
                _bump_consumer(session, row)  # a concurrent writer of this consumer loses
                session.execute(delete(Consumer).where(Consumer.uuid == row.uuid))
            continue
        if row is None:
            # Written at generation 1, where a first write leaves it; a concurrent writer creating the same
            # consumer collides on its key (IntegrityError: the claim starts again).
            session.execute(insert(Consumer).values(uuid=w.consumer, project_id=w.project_id, user_id=w.user_id,
                                                    generation=1, consumer_type=w.consumer_type,
                                                    created_at=now, updated_at=now))
        else:
            done = session.execute(
                update(Consumer).where(Consumer.uuid == row.uuid, Consumer.generation == row.generation)
                .values(generation=row.generation + 1, project_id=w.project_id or row.project_id,
                        user_id=w.user_id or row.user_id, consumer_type=w.consumer_type or row.consumer_type,
                        updated_at=now)
                .execution_options(synchronize_session=False))
            if done.rowcount != 1:
                raise providers.GenerationRace("consumer")
            session.expire(row)
        session.execute(insert(Allocation), [
            {"provider_id": found[uuid].id, "consumer_id": w.consumer, "resource_class": rc, "used": amount,
             "created_at": now}
            for uuid, resources in w.allocations.items() for rc, amount in resources.items()])
    for uuid in sorted({uuid for w in writes for uuid in w.allocations}):
        providers.bump(session, found[uuid])


def release(session: Session, consumer: str) -> None:
    """DELETE /allocations/{consumer}: unconditional, as in Placement."""
    row = session.get(Consumer, consumer)
    if row is None or not session.scalar(select(func.count()).where(Allocation.consumer_id == consumer)):
        raise NotFound(f"No allocations for consumer '{consumer}'")
    session.execute(delete(Allocation).where(Allocation.consumer_id == consumer))
    session.execute(delete(Consumer).where(Consumer.uuid == consumer))


def totals_for(session: Session, project_id: str, user_id: str | None, consumer_type: str | None,
               by_type: bool) -> dict:
    """GET /usages.  ``by_type`` (1.38): grouped by consumer type with a consumer count; ``all`` puts
    everything in one group and ``unknown`` means consumers written without a type."""
    stmt = (select(Consumer.consumer_type, Allocation.resource_class, func.sum(Allocation.used))
            .join(Consumer, Consumer.uuid == Allocation.consumer_id).where(Consumer.project_id == project_id)
            .group_by(Consumer.consumer_type, Allocation.resource_class))
    count = (select(Consumer.consumer_type, func.count(Consumer.uuid)).where(Consumer.project_id == project_id)
             .group_by(Consumer.consumer_type))
    if user_id is not None:
        stmt = stmt.where(Consumer.user_id == user_id)
        count = count.where(Consumer.user_id == user_id)
    if consumer_type not in (None, "all"):
        wanted = None if consumer_type == "unknown" else consumer_type
        condition = Consumer.consumer_type.is_(None) if wanted is None else Consumer.consumer_type == wanted
        stmt, count = stmt.where(condition), count.where(condition)
    if not by_type:
        flat: dict[str, int] = {}
        for _, rc, used in session.execute(stmt):
            flat[rc] = flat.get(rc, 0) + int(used)
        return flat

    def group(t: str | None) -> str:
        return "all" if consumer_type == "all" else (t or "unknown")

    grouped: dict[str, dict[str, int]] = {}
    for t, n in session.execute(count):
        entry = grouped.setdefault(group(t), {"consumer_count": 0})
        entry["consumer_count"] += n
    for t, rc, used in session.execute(stmt):
        entry = grouped.setdefault(group(t), {"consumer_count": 0})
        entry[rc] = entry.get(rc, 0) + int(used)
    return grouped
