"""Host aggregates: the rules Nova keeps when hosts are grouped, and the availability zones that follow.

A host's availability zone is the ``availability_zone`` metadata of the aggregates it is in, or the
default zone ``nova``; it is written onto ``ComputeHost.availability_zone`` whenever membership or
metadata changes, so the scheduler's zone filter and ``/os-availability-zone`` read it directly.
Membership is mirrored into placement (the aggregate's uuid on the host's resource provider), as Nova's
report client does, so ``member_of`` requests see it.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.numbers import decimal
from onestack.services.compute.models import (
    Aggregate,
    AggregateHost,
    AggregateMetadata,
    ComputeHost,
    Instance,
)
from onestack.services.compute.service.placement_client import PlacementClient

DEFAULT_ZONE = "nova"
# Nova's internal_service_availability_zone: where non-compute services live; no aggregate may claim it.
INTERNAL_ZONE = "internal"
ZONE_KEY = "availability_zone"


# Ids beyond a database integer name nothing (and must not reach PostgreSQL as an out-of-range value).
MAX_ID = 2**31 - 1


def get(session: Session, aggregate_id: str) -> Aggregate:
    found, number = None, decimal(aggregate_id)
    if number is not None and number <= MAX_ID:
        found = session.get(Aggregate, number)
    if found is None:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.")
    return found


def listing(session: Session) -> list[Aggregate]:
    return list(session.scalars(select(Aggregate).order_by(Aggregate.id)))


def create(session: Session, name: str, zone: str | None) -> Aggregate:
    _check_name_free(session, name)
    _check_zone_name(zone)
    aggregate = Aggregate(uuid=str(uuid.uuid4()), name=name)
    if zone is not None:
        aggregate.items.append(AggregateMetadata(key=ZONE_KEY, value=zone))
    session.add(aggregate)
    session.flush()
    return aggregate


def update(session: Session, aggregate: Aggregate, name: str | None, zone: str | None, zone_given: bool) -> None:
    if name is not None and name != aggregate.name:
        _check_name_free(session, name)
        aggregate.name = name
    if zone_given:
        _change_metadata(session, aggregate, {ZONE_KEY: zone})
    aggregate.updated_at = utcnow()


def set_metadata(session: Session, aggregate: Aggregate, changes: dict[str, str | None]) -> None:
    """``None`` removes a key, as in Nova."""
    _change_metadata(session, aggregate, changes)
    aggregate.updated_at = utcnow()


def delete(session: Session, aggregate: Aggregate) -> None:
    if aggregate.members:
        raise BadRequest(f"Cannot remove aggregate {aggregate.id}. Reason: Host aggregate is not empty.")
    session.delete(aggregate)


def add_host(session: Session, aggregate: Aggregate, host_name: str) -> str:
    """Returns the host's resource provider, for the caller to mirror the membership into placement once
    this transaction is committed (placement writes in its own)."""
    host = _host(session, host_name)
    if host_name in aggregate.hosts:
        raise Conflict(f"Aggregate {aggregate.id} already has host {host_name}.")
    zone = aggregate.availability_zone
    if zone is not None:
        others = {z for z in _zones_of(session, host_name, excluding=aggregate.id) if z != zone}
        if others:
            raise Conflict(f"Cannot add host to aggregate {aggregate.id}. Reason: One or more hosts already in "
                           f"availability zone(s) {sorted(others)}.")
    aggregate.members.append(AggregateHost(host=host_name))
    aggregate.updated_at = utcnow()
    session.flush()
    _move_hosts(session, [host_name])
    return host.id


def remove_host(session: Session, aggregate: Aggregate, host_name: str) -> str:
    """Returns the host's resource provider (see ``add_host``)."""
    host = _host(session, host_name)
    member = next((m for m in aggregate.members if m.host == host_name), None)
    if member is None:
        raise NotFound(f"Cannot remove host {host_name} in aggregate {aggregate.id}: not found.")
    aggregate.members.remove(member)
    aggregate.updated_at = utcnow()
    session.flush()
    _move_hosts(session, [host_name])
    return host.id


# -- rules -------------------------------------------------------------------------------------------
def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(select(Aggregate.id).where(func.lower(Aggregate.name) == name.lower())) is not None:
        raise Conflict(f"Aggregate {name} already exists.")


def _check_zone_name(zone: str | None) -> None:
    if zone == INTERNAL_ZONE:
        raise BadRequest(f"Aggregates cannot have the availability zone '{INTERNAL_ZONE}': it is reserved for "
                         "internal services.")


def _host(session: Session, name: str) -> ComputeHost:
    host = session.scalar(select(ComputeHost).where(ComputeHost.host == name))
    if host is None:
        raise NotFound(f"Compute host {name} could not be found.")
    return host


def _zones_of(session: Session, host_name: str, excluding: int | None = None) -> set[str]:
    """The zones the aggregates holding ``host_name`` give it (more than one is what Nova forbids)."""
    stmt = (select(AggregateMetadata.value)
            .join(AggregateHost, AggregateHost.aggregate_id == AggregateMetadata.aggregate_id)
            .where(AggregateHost.host == host_name, AggregateMetadata.key == ZONE_KEY))
    if excluding is not None:
        stmt = stmt.where(AggregateHost.aggregate_id != excluding)
    return set(session.scalars(stmt))


def _change_metadata(session: Session, aggregate: Aggregate, changes: dict[str, str | None]) -> None:
    """Zone conflicts on update and set_metadata are Nova's 400s (on add_host they are 409s)."""
    # Renaming (or dropping) a zone under servers is refused; giving a zone the first time is not.
    renaming = ZONE_KEY in changes and aggregate.availability_zone not in (None, changes[ZONE_KEY])
    if ZONE_KEY in changes:
        zone = changes[ZONE_KEY]
        _check_zone_name(zone)
        for host_name in aggregate.hosts:
            others = {z for z in _zones_of(session, host_name, excluding=aggregate.id) if z != (zone or DEFAULT_ZONE)}
            if others and zone is not None:
                raise BadRequest(f"Cannot update aggregate {aggregate.id}. Reason: One or more hosts already in "
                                 f"availability zone(s) {sorted(others)}.")
    current = {item.key: item for item in aggregate.items}
    for key, value in changes.items():
        if value is None:
            if key in current:
                aggregate.items.remove(current[key])
        elif key in current:
            current[key].value = value
        else:
            aggregate.items.append(AggregateMetadata(key=key, value=value))
    session.flush()
    if ZONE_KEY in changes:
        refuse = (lambda reason: BadRequest(f"Cannot update aggregate {aggregate.id}. Reason: {reason}")) \
            if renaming else None
        _move_hosts(session, aggregate.hosts, refuse)


def _move_hosts(session: Session, host_names: list[str], refuse=None) -> None:
    """Write each host's zone from its aggregates.  Renaming a zone (``refuse`` given) may not move hosts
    running servers: they were placed by zone and would silently change it (Nova refuses the same).
    Adding or removing one host, or giving an aggregate its first zone, moves it; its servers keep the
    zone they were booted in."""
    for host in session.scalars(select(ComputeHost).where(ComputeHost.host.in_(host_names))):
        zones = _zones_of(session, host.host)
        zone = min(zones) if zones else DEFAULT_ZONE
        if zone == host.availability_zone:
            continue
        if refuse is not None and session.scalar(select(func.count()).select_from(Instance).where(
                Instance.host == host.host, Instance.deleted.is_(False))):
            raise refuse("One or more hosts contain instances in this zone.")
        host.availability_zone = zone


@dataclasses.dataclass(eq=False)
class Aggregates:
    """The aggregate API's transactions; membership is mirrored into placement after each is committed
    (placement writes in its own transaction: one writer at a time on SQLite)."""
    db: Database
    placement: PlacementClient

    def listing(self) -> list[Aggregate]:
        with self.db.read() as session:
            return listing(session)

    def get(self, aggregate_id: str) -> Aggregate:
        with self.db.read() as session:
            return get(session, aggregate_id)

    def create(self, name: str, zone: str | None) -> Aggregate:
        with self.db.write() as session:
            return _loaded(create(session, name, zone))

    def update(self, aggregate_id: str, name: str | None, zone: str | None, zone_given: bool) -> Aggregate:
        with self.db.write() as session:
            found = get(session, aggregate_id)
            update(session, found, name, zone, zone_given)
            session.flush()
            return _loaded(found)

    def delete(self, aggregate_id: str) -> None:
        with self.db.write() as session:
            delete(session, get(session, aggregate_id))

    def act(self, aggregate_id: str, action: str, args: dict) -> Aggregate:
        """``set_metadata``, ``add_host`` or ``remove_host``."""
        provider = None
        with self.db.write() as session:
            found = get(session, aggregate_id)
            if action == "set_metadata":
                set_metadata(session, found, args["metadata"])
            elif action == "add_host":
                provider = add_host(session, found, args["host"])
            else:
                provider = remove_host(session, found, args["host"])
            session.flush()
            _loaded(found)
        if action == "add_host":
            self.placement.add_to_aggregate(provider, found.uuid)
        elif action == "remove_host":
            self.placement.remove_from_aggregate(provider, found.uuid)
        return found


def _loaded(aggregate: Aggregate) -> Aggregate:
    """The aggregate with its hosts and metadata read, for a view made after its transaction."""
    _ = aggregate.members, aggregate.items
    return aggregate
