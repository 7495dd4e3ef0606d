"""Role assignments as /v3/role_assignments reports them (stored, or ``effective``: groups become their
users, inheritance reaches projects, implied roles appear), and what a user may scope a token to."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.services.identity.models import Assignment, Group, ImpliedRole, Membership, Project, Role, User
from onestack.services.identity.service import held_roles
from onestack.services.identity.service.held_roles import SYSTEM
from onestack.services.identity.service.hierarchy import subtree
from onestack.services.identity.service.transactions import Transactions
from onestack.services.identity.views import AssignmentLine, Named


@dataclasses.dataclass(frozen=True)
class Wanted:
    """The filters of a role assignment listing."""

    user_id: str | None = None
    group_id: str | None = None
    role_id: str | None = None
    project_id: str | None = None
    include_subtree: bool = False
    domain_id: str | None = None
    system: bool = False
    inherited_only: bool = False
    # A domain-scoped reader's view (Keystone's default): only what is on that domain or on its projects.
    within_domain: str | None = None


def _stored(a: Assignment) -> AssignmentLine:
    actor = "user" if a.type.startswith("User") else "group"
    return AssignmentLine(actor, a.actor_id, a.type[len(actor):].lower(), a.target_id, a.role_id, a.inherited, a)


def _expand(session: Session, lines: list[AssignmentLine]) -> list[AssignmentLine]:
    """The effective view: groups become their users, inheritance reaches projects, implied roles appear."""
    out: list[AssignmentLine] = []
    for r in lines:
        actors: list[tuple[str, str, str | None]] = [(r.actor_kind, r.actor_id, None)]
        if r.actor_kind == "group":
            users = session.scalars(select(Membership.user_id).where(Membership.group_id == r.actor_id))
            actors = [("user", u, r.actor_id) for u in users]
        targets = [(r.target_kind, r.target_id)]
        if r.inherited:
            if r.target_kind == "domain":
                ids = session.scalars(select(Project.id).where(Project.domain_id == r.target_id,
                                                               Project.is_domain.is_(False)))
            else:
                ids = [p.id for p in subtree(session, r.target_id)]
            targets = [("project", pid) for pid in ids]
        for kind, actor_id, via_group in actors:
            for tkind, tid in targets:
                out.append(AssignmentLine(kind, actor_id, tkind, tid, r.role_id, False, r.origin, via_group))
    edges: dict[str, list[str]] = {}
    for e in session.scalars(select(ImpliedRole)):
        edges.setdefault(e.prior_role_id, []).append(e.implied_role_id)
    implied: list[AssignmentLine] = []
    for r in out:
        todo, seen = [r.role_id], {r.role_id}
        while todo:
            prior = todo.pop()
            for role_id in edges.get(prior, ()):
                if role_id in seen:
                    continue
                seen.add(role_id)
                todo.append(role_id)
                implied.append(dataclasses.replace(r, role_id=role_id, inherited=False, prior_role=prior))
    # Domain-specific roles never reach a token, only the global roles they imply do.
    domain_roles = set(session.scalars(select(Role.id).where(Role.domain_id != "")))
    unique: dict = {}
    for r in out + implied:
        if r.role_id not in domain_roles:
            unique.setdefault(r.key(), r)
    return list(unique.values())


def _filter(session: Session, lines: list[AssignmentLine], wanted: Wanted) -> list[AssignmentLine]:
    if wanted.user_id is not None:
        lines = [r for r in lines if r.actor_kind == "user" and r.actor_id == wanted.user_id]
    if wanted.group_id is not None:
        lines = [r for r in lines if r.actor_kind == "group" and r.actor_id == wanted.group_id]
    if wanted.role_id is not None:
        lines = [r for r in lines if r.role_id == wanted.role_id]
    if wanted.project_id:
        ids = {wanted.project_id}
        if wanted.include_subtree:
            ids |= {p.id for p in subtree(session, wanted.project_id)}
        lines = [r for r in lines if r.target_kind == "project" and r.target_id in ids]
    if wanted.domain_id:
        lines = [r for r in lines if r.target_kind == "domain" and r.target_id == wanted.domain_id]
    if wanted.system:
        lines = [r for r in lines if r.target_kind == "system" and r.target_id == SYSTEM]
    if wanted.within_domain:
        lines = _within(session, lines, wanted.within_domain)
    return lines


def _within(session: Session, lines: list[AssignmentLine], domain_id: str) -> list[AssignmentLine]:
    """The lines on the domain itself or on a project of it; never the system's nor another domain's."""
    projects = set(session.scalars(select(Project.id).where(Project.domain_id == domain_id,
                                                           Project.is_domain.is_(False))))
    return [r for r in lines if (r.target_kind == "domain" and r.target_id == domain_id)
            or (r.target_kind == "project" and r.target_id in projects)]


def _named(session: Session, model, rid: str) -> Named:
    row = session.get(model, rid)
    if row is None:
        return Named(rid)
    if model is Project and row.is_domain:
        return Named(rid, row.name)
    domain = session.get(Project, row.domain_id)
    return Named(rid, row.name, (row.domain_id, domain.name if domain else None))


def _role_named(session: Session, rid: str) -> Named:
    role = session.get(Role, rid)
    if role is None:
        return Named(rid)
    if not role.domain_id:
        return Named(rid, role.name)
    domain = session.get(Project, role.domain_id)
    return Named(rid, role.name, (role.domain_id, domain.name if domain else None))


def _names(session: Session, lines: list[AssignmentLine]) -> dict[tuple[str, str], Named]:
    names: dict[tuple[str, str], Named] = {}
    for r in lines:
        names[(r.actor_kind, r.actor_id)] = _named(session, User if r.actor_kind == "user" else Group, r.actor_id)
        names[("role", r.role_id)] = _role_named(session, r.role_id)
        if r.target_kind != "system":
            names[("project", r.target_id)] = _named(session, Project, r.target_id)
    return names


class Assignments:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def list(self, wanted: Wanted, *, effective: bool,
             names: bool) -> tuple[list[AssignmentLine], dict[tuple[str, str], Named] | None]:
        """The lines, and with ``names`` the names of what they mention."""
        with self.transactions.read() as session:
            stmt = select(Assignment)
            if wanted.role_id is not None and not effective:
                stmt = stmt.where(Assignment.role_id == wanted.role_id)
            if wanted.inherited_only:
                stmt = stmt.where(Assignment.inherited.is_(True))
            lines = [_stored(a) for a in session.scalars(stmt)]
            if effective:
                lines = _expand(session, lines)
            lines = _filter(session, lines, wanted)
            return lines, _names(session, lines) if names else None

    # -- what a token may be scoped to ---------------------------------------------------
    def projects_of(self, user_id: str) -> list[Project]:
        """The enabled projects the user holds a role on."""
        with self.transactions.read() as session:
            return self._enabled(session, False, held_roles.projects_with_roles(session, user_id))

    def domains_of(self, user_id: str) -> list[Project]:
        """The enabled domains the user, or a group of theirs, holds a role on."""
        with self.transactions.read() as session:
            groups = held_roles.group_ids(session, user_id)
            ids = set(session.scalars(select(Assignment.target_id).where(
                Assignment.actor_id.in_([user_id, *groups]), Assignment.type.in_(("UserDomain", "GroupDomain")),
                Assignment.inherited.is_(False))))
            return self._enabled(session, True, ids)

    def has_system_roles(self, user_id: str) -> bool:
        with self.transactions.read() as session:
            return bool(held_roles.system_role_ids(session, user_id))

    @staticmethod
    def _enabled(session: Session, domains: bool, ids: set[str]) -> list[Project]:
        return list(session.scalars(select(Project).where(Project.enabled, Project.is_domain == domains,
                                                          Project.id.in_(ids)).order_by(Project.name)))
