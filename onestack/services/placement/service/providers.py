"""Resource providers: identity, trees, and the generation every change of a provider goes through."""

from __future__ import annotations

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from onestack.db.base import utcnow
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.placement.models import Allocation, Provider
from onestack.services.placement.service import codes


class GenerationRace(Conflict):
    """Another transaction changed a provider or consumer between our read and our write.  Claims retry
    on it (see service.PlacementService.claim); other writes answer 409 as Placement does."""

    def __init__(self, what: str):
        super().__init__(f"{what} generation conflict: another process changed it concurrently; "
                         "please refresh and retry.", kind=codes.CONCURRENT_UPDATE)


def get(session: Session, uuid: str) -> Provider:
    provider = session.scalars(select(Provider).where(Provider.uuid == uuid)).one_or_none()
    if provider is None:
        raise NotFound(f"No resource provider with uuid {uuid} found")
    return provider


def find(session: Session, uuid: str) -> Provider | None:
    return session.scalars(select(Provider).where(Provider.uuid == uuid)).one_or_none()


def check_generation(provider: Provider, generation: int) -> None:
    """The caller's view of the provider must be current (Placement's optimistic concurrency)."""
    if generation != provider.generation:
        raise Conflict(f"resource provider generation conflict: expected {provider.generation}, "
                       f"got {generation}", kind=codes.CONCURRENT_UPDATE)


def bump(session: Session, provider: Provider) -> None:
    """Compare-and-swap the generation: a concurrent writer that read the same generation loses here,
    inside its transaction, whatever the database (PostgreSQL re-checks the WHERE after the winner
    commits; SQLite has one writer at a time)."""
    done = session.execute(
        update(Provider).where(Provider.id == provider.id, Provider.generation == provider.generation)
        .values(generation=provider.generation + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise GenerationRace("resource provider")
    set_committed_value(provider, "generation", provider.generation + 1)


def _check_name_free(session: Session, name: str, but: int | None = None) -> None:
    stmt = select(Provider.id).where(Provider.name == name)
    if but is not None:
        stmt = stmt.where(Provider.id != but)
    if session.scalars(stmt).first() is not None:
        raise Conflict(f"Conflicting resource provider name: {name} already exists.", kind=codes.DUPLICATE_NAME)


def _parent(session: Session, uuid: str) -> Provider:
    parent = find(session, uuid)
    if parent is None:
        raise BadRequest(f"parent provider UUID {uuid} does not exist.", kind=codes.PROVIDER_NOT_FOUND)
    return parent


def create(session: Session, uuid: str, name: str, parent_uuid: str | None = None) -> Provider:
    _check_name_free(session, name)
    if find(session, uuid) is not None:
        raise Conflict(f"Conflicting resource provider uuid: {uuid} already exists.", kind=codes.DUPLICATE_NAME)
    parent = _parent(session, parent_uuid) if parent_uuid else None
    provider = Provider(uuid=uuid, name=name, generation=0, parent_id=parent.id if parent else None)
    session.add(provider)
    session.flush()
    provider.root_id = parent.root_id if parent else provider.id
    session.flush()
    return provider


def subtree_ids(session: Session, provider: Provider) -> set[int]:
    """The provider and every descendant."""
    rows = session.execute(select(Provider.id, Provider.parent_id).where(Provider.root_id == provider.root_id)).all()
    children: dict[int, list[int]] = {}
    for pid, parent_id in rows:
        children.setdefault(parent_id, []).append(pid)
    found, todo = set(), [provider.id]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def update_provider(session: Session, provider: Provider, name: str, parent_uuid: str | None,
                    parent_given: bool, may_reparent: bool) -> None:
    """``may_reparent``: microversion 1.37 lets a provider move to another parent or become a root;
    before it, only a root may gain its first parent."""
    _check_name_free(session, name, but=provider.id)
    provider.name = name
    if not parent_given:
        return
    current = session.get(Provider, provider.parent_id) if provider.parent_id else None
    if (current.uuid if current else None) == parent_uuid:
        return
    if not may_reparent and (current is not None or parent_uuid is None):
        raise BadRequest("re-parenting a provider is not currently allowed.")
    moving = subtree_ids(session, provider)
    parent = _parent(session, parent_uuid) if parent_uuid else None
    if parent is not None and parent.id in moving:
        raise BadRequest("creating loop in the provider tree is not allowed.")
    provider.parent_id = parent.id if parent else None
    new_root = parent.root_id if parent else provider.id
    session.execute(update(Provider).where(Provider.id.in_(moving)).values(root_id=new_root)
                    .execution_options(synchronize_session=False))
    set_committed_value(provider, "root_id", new_root)


def delete_provider(session: Session, provider: Provider) -> None:
    if session.scalar(select(exists().where(Allocation.provider_id == provider.id))):
        raise Conflict(f"Unable to delete resource provider {provider.uuid}: Resource provider has allocations.",
                       kind=codes.PROVIDER_IN_USE)
    if session.scalar(select(exists().where(Provider.parent_id == provider.id))):
        raise Conflict(f"Unable to delete parent resource provider {provider.uuid}: It has child resource "
                       "providers.", kind=codes.PROVIDER_CANNOT_DELETE_PARENT)
    # Inventories, traits and aggregates go with it (ON DELETE CASCADE).
    session.execute(delete(Provider).where(Provider.id == provider.id))


def uuids_by_id(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Provider.id, Provider.uuid).where(Provider.id.in_(wanted))).all())
