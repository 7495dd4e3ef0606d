"""Grants: a role given to a user or group on a project, a domain or the system, directly or (OS-INHERIT)
to every project below a domain or project."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.errors import Forbidden, NotFound
from onestack.services.identity.models import Assignment, Group, Project, Role, User
from onestack.services.identity.policies import Check
from onestack.services.identity.service.held_roles import SYSTEM
from onestack.services.identity.service.rows import get
from onestack.services.identity.service.transactions import Transactions

_ACTORS = {"users": (User, "user", "User"), "groups": (Group, "group", "Group")}


@dataclasses.dataclass(frozen=True)
class Grant:
    """What a grant's path names: ``kind`` projects, domains or system; ``actors`` users or groups."""

    kind: str
    actors: str
    inherited: bool
    actor_id: str
    target_id: str = SYSTEM
    role_id: str | None = None


def _target(session: Session, grant: Grant) -> dict:
    if grant.kind == "system":
        return {}
    row = session.get(Project, grant.target_id)
    if row is None or row.is_domain != (grant.kind == "domains"):
        raise NotFound(f"Could not find {'domain' if grant.kind == 'domains' else 'project'}: {grant.target_id}.")
    return {"domain_id": row.id if row.is_domain else row.domain_id, "project_id": row.id}


def _resolve(session: Session, grant: Grant, check: Check) -> Assignment:
    """The assignment the grant means (not yet stored), once its parts exist and ``check`` allows it."""
    model, label, prefix = _ACTORS[grant.actors]
    target = _target(session, grant)
    get(session, model, grant.actor_id, label)
    role = get(session, Role, grant.role_id, "role") if grant.role_id is not None else None
    if role is not None and role.domain_id and grant.kind != "system":
        if role.domain_id != target.get("domain_id"):
            raise Forbidden(f"Domain-specific role {role.id} can only be granted inside its own domain.")
    if role is not None:
        target["role_name"] = role.name
    check(target)
    suffix = "System" if grant.kind == "system" else ("Domain" if grant.kind == "domains" else "Project")
    return Assignment(type=prefix + suffix, actor_id=grant.actor_id, target_id=grant.target_id,
                      role_id=role.id if role else "", inherited=grant.inherited)


def _key(a: Assignment) -> tuple:
    return (a.type, a.actor_id, a.target_id, a.role_id, a.inherited)


class Grants:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def give(self, grant: Grant, check: Check) -> None:
        with self.transactions.write() as session:
            a = _resolve(session, grant, check)
            if session.get(Assignment, _key(a)) is None:
                session.add(a)

    def exists(self, grant: Grant, check: Check) -> None:
        with self.transactions.read() as session:
            a = _resolve(session, grant, check)
            if session.get(Assignment, _key(a)) is None:
                raise NotFound(f"Could not find role assignment with role: {a.role_id}.")

    def take(self, grant: Grant, check: Check) -> None:
        with self.transactions.write() as session:
            a = _resolve(session, grant, check)
            row = session.get(Assignment, _key(a))
            if row is None:
                raise NotFound(f"Could not find role assignment with role: {a.role_id}.")
            session.delete(row)

    def roles(self, grant: Grant, check: Check) -> list[Role]:
        """The roles given to the actor on the target (``grant.role_id`` unset)."""
        with self.transactions.read() as session:
            a = _resolve(session, grant, check)
            role_ids = session.scalars(select(Assignment.role_id).where(
                Assignment.type == a.type, Assignment.actor_id == a.actor_id,
                Assignment.target_id == a.target_id, Assignment.inherited == grant.inherited))
            return [session.get(Role, r) for r in role_ids]
