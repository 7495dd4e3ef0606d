"""Inventories: what a provider offers of each resource class."""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.placement.models import Allocation, Inventory, Provider
from onestack.services.placement.service import codes, providers
from onestack.services.placement.service.catalog import resource_class_exists
from onestack.services.placement.service.snapshot import MAX_INT, capacity

LOG = logging.getLogger("onestack.placement")
DEFAULTS = {"reserved": 0, "min_unit": 1, "max_unit": MAX_INT, "step_size": 1, "allocation_ratio": 1.0}
FIELDS = ("total", *DEFAULTS)


def listed(session: Session, provider: Provider) -> dict[str, Inventory]:
    rows = session.scalars(select(Inventory).where(Inventory.provider_id == provider.id))
    return {inv.resource_class: inv for inv in rows}


def get_one(session: Session, provider: Provider, rc: str) -> Inventory:
    inv = session.get(Inventory, (provider.id, rc))
    if inv is None:
        raise NotFound(f"No inventory of class {rc} for {provider.uuid}")
    return inv


def usage(session: Session, provider: Provider) -> dict[str, int]:
    rows = session.execute(select(Allocation.resource_class, func.sum(Allocation.used))
                           .where(Allocation.provider_id == provider.id).group_by(Allocation.resource_class))
    return {rc: int(used) for rc, used in rows}


def _validated(session: Session, provider: Provider, rc: str, fields: dict, reserved_may_equal_total: bool) -> dict:
    if not resource_class_exists(session, rc):
        raise BadRequest(f"Unknown resource class in inventory for resource provider {provider.uuid}: {rc}")
    values = {**DEFAULTS, **{k: v for k, v in fields.items() if k in FIELDS}}
    too_much = values["reserved"] > values["total"] or (
        values["reserved"] == values["total"] and not reserved_may_equal_total)
    if too_much:
        raise BadRequest(f"Unable to update inventory for resource provider {provider.uuid}: Invalid inventory "
                         f"for '{rc}' on resource provider '{provider.uuid}'. The reserved value is greater than "
                         "or equal to total.")
    return values


def replace_all(session: Session, provider: Provider, generation: int, wanted: dict[str, dict],
                reserved_may_equal_total: bool) -> None:
    """Set exactly ``wanted``.  Removing a class that holds allocations is refused; lowering a class below
    what is allocated is accepted and logged, as Placement does (a host that lost memory must still be
    able to report it; new claims then simply do not fit)."""
    providers.check_generation(provider, generation)
    current = listed(session, provider)
    values = {rc: _validated(session, provider, rc, fields, reserved_may_equal_total) for rc, fields in wanted.items()}
    used = usage(session, provider)
    for rc in set(current) - set(values):
        if used.get(rc):
            raise Conflict(f"update conflict: Inventory for '{rc}' on resource provider '{provider.uuid}' in use.",
                           kind=codes.INVENTORY_INUSE)
        session.delete(current[rc])
    for rc, fields in values.items():
        inv = current.get(rc) or Inventory(provider_id=provider.id, resource_class=rc)
        for key, value in fields.items():
            setattr(inv, key, value)
        session.add(inv)
        if used.get(rc, 0) > capacity(inv):
            LOG.warning("inventory of %s on provider %s is now below its usage (%s allocated)", rc, provider.uuid,
                        used[rc])
    session.flush()
    providers.bump(session, provider)


def set_one(session: Session, provider: Provider, generation: int, rc: str, fields: dict,
            reserved_may_equal_total: bool) -> Inventory:
    current = {rc: {f: getattr(inv, f) for f in FIELDS} for rc, inv in listed(session, provider).items()}
    current[rc] = fields
    replace_all(session, provider, generation, current, reserved_may_equal_total)
    return get_one(session, provider, rc)


def add_one(session: Session, provider: Provider, generation: int, rc: str, fields: dict,
            reserved_may_equal_total: bool) -> Inventory:
    """POST /inventories: a new class only."""
    if session.get(Inventory, (provider.id, rc)) is not None:
        raise Conflict(f"Update conflict: Inventory for {rc} on resource provider {provider.uuid} already exists.")
    return set_one(session, provider, generation, rc, fields, reserved_may_equal_total)


def delete_one(session: Session, provider: Provider, rc: str, generation: int | None = None) -> None:
    inv = get_one(session, provider, rc)
    if generation is not None:
        providers.check_generation(provider, generation)
    if usage(session, provider).get(rc):
        raise Conflict(f"Unable to delete inventory of class {rc} for resource provider {provider.uuid}: "
                       f"Inventory for '{rc}' on resource provider '{provider.uuid}' in use.",
                       kind=codes.INVENTORY_INUSE)
    session.delete(inv)
    session.flush()
    providers.bump(session, provider)


def delete_all(session: Session, provider: Provider) -> None:
    used = usage(session, provider)
    if any(used.values()):
        raise Conflict(f"Unable to delete inventory for resource provider {provider.uuid} because the inventory "
                       "is in use.", kind=codes.INVENTORY_INUSE)
    session.execute(delete(Inventory).where(Inventory.provider_id == provider.id))
    providers.bump(session, provider)
