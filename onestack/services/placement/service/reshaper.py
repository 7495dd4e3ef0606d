"""POST /reshaper (1.30): move inventory and the allocations against it in one transaction, e.g. when
a host's VGPUs move from the root provider to new child providers."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest
from onestack.services.placement.models import Allocation
from onestack.services.placement.service import allocations, codes, inventories, providers
from onestack.services.placement.service.allocations import ConsumerWrite


def reshape(session: Session, new_inventories: dict[str, dict], writes: list[ConsumerWrite],
            reserved_may_equal_total: bool) -> None:
    """The named consumers' allocations are set aside first, so inventory they held may move; the
    inventories are replaced (with their generations checked); then the allocations are written
    against the new inventories with the usual capacity checks."""
    for w in writes:
        allocations.check_consumer(session, w)
    session.execute(delete(Allocation).where(Allocation.consumer_id.in_([w.consumer for w in writes])))
    for uuid, entry in new_inventories.items():
        provider = providers.find(session, uuid)
        if provider is None:  # a part of the request body, not the path: Placement's 400, not 404
            raise BadRequest(f"Resource provider {uuid} in inventories not found.", kind=codes.PROVIDER_NOT_FOUND)
        inventories.replace_all(session, provider, entry["resource_provider_generation"], entry["inventories"],
                                reserved_may_equal_total)
    allocations.replace(session, writes)
