"""Explicit shares (Neutron's RBAC policies): who besides the owner may use a network, subnet pool,
address scope or security group, and as what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import Conflict
from onestack.services.network.models import RBACPolicy
from onestack.services.network.service.collection import Collection, new_uuid

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"
EVERYONE = "*"


def reachable(object_type: str, project_id: str | None, actions: tuple[str, ...] = (SHARED, EXTERNAL)):
    """A subquery of the object ids shared with ``project_id`` (or with everyone)."""
    targets = (EVERYONE, project_id) if project_id else (EVERYONE,)
    return select(RBACPolicy.object_id).where(RBACPolicy.object_type == object_type,
                                              RBACPolicy.action.in_(actions),
                                              RBACPolicy.target_project.in_(targets))


def owned_or_shared(model, object_type: str, project_id: str | None):
    """The SQL condition for rows of ``model`` a project owns or that are shared with it."""
    return or_(model.project_id == project_id, model.id.in_(reachable(object_type, project_id, (SHARED,))))


def shared_with(session: Session, object_type: str, row, project_id: str | None) -> bool:
    """Neutron's ``shared`` as one project sees it: shared with everyone, or with it by name."""
    return row.shared or (row.project_id != project_id and granted(session, object_type, row.id, project_id, SHARED))


def share(session: Session, object_type: str, row, shared: bool) -> None:
    """Keep a resource's ``shared`` flag and its wildcard ``access_as_shared`` grant in step."""
    if shared:
        grant(session, row.project_id, object_type, row.id, SHARED)
    else:
        revoke(session, object_type, row.id, SHARED)
    row.shared = shared


def granted(session: Session, object_type: str, object_id: str, project_id: str | None, action: str) -> bool:
    targets = (EVERYONE, project_id) if project_id else (EVERYONE,)
    return session.scalar(select(RBACPolicy.id).where(
        RBACPolicy.object_type == object_type, RBACPolicy.object_id == object_id, RBACPolicy.action == action,
        RBACPolicy.target_project.in_(targets)).limit(1)) is not None


def grant(session: Session, owner: str, object_type: str, object_id: str, action: str,
          target: str = EVERYONE) -> RBACPolicy:
    found = session.scalar(select(RBACPolicy).where(
        RBACPolicy.object_type == object_type, RBACPolicy.object_id == object_id, RBACPolicy.action == action,
        RBACPolicy.target_project == target))
    if found is None:
        found = RBACPolicy(id=new_uuid(), project_id=owner, object_type=object_type, object_id=object_id,
                           action=action, target_project=target)
        session.add(found)
    return found


def revoke(session: Session, object_type: str, object_id: str, action: str | None = None,
           target: str | None = EVERYONE) -> None:
    """Remove grants on an object: one action's wildcard by default, every grant with ``action=None,
    target=None`` (when the object goes)."""
    stmt = delete(RBACPolicy).where(RBACPolicy.object_type == object_type, RBACPolicy.object_id == object_id)
    if action is not None:
        stmt = stmt.where(RBACPolicy.action == action)
    if target is not None:
        stmt = stmt.where(RBACPolicy.target_project == target)
    session.execute(stmt)


class Shareable(Collection):
    """A resource shared only through its ``shared`` flag and RBAC grants (subnet pools, address scopes): a
    project sees what it owns or what is shared with it, and the grants go with the row.  ``shown_as(row,
    shared=...)`` renders one.  ``in_use`` keeps one that other rows refer to: the column of those rows that
    holds its id, and the text (with ``{id}``) and type of the 409 its deletion then gets."""

    shown_as: Callable[..., dict]
    in_use: tuple[Any, str, str]

    def project_scope(self, session: Session, ctx: Context):
        return owned_or_shared(self.model, self.singular, ctx.project_id)

    def render(self, session: Session, ctx: Context, row) -> dict:
        return self.shown_as(row, shared=shared_with(session, self.singular, row, ctx.project_id))

    def insert(self, session: Session, row, shared: bool):
        """Store a new row, shared with everyone when asked."""
        session.add(row)
        session.flush()
        if shared:
            share(session, self.singular, row, True)
        return row

    def delete(self, session: Session, ctx: Context, row) -> None:
        column, text, kind = self.in_use
        if session.scalar(select(column).where(column == row.id).limit(1)) is not None:
            raise Conflict(text.format(id=row.id), kind=kind)
        revoke(session, self.singular, row.id, target=None)
        session.delete(row)
