"""Which roles a user really holds on a project, a domain or the system.

Direct and group assignments, assignments inherited down the project tree
(OS-INHERIT) and implied roles (admin -> member -> reader) all count.
Domain-specific roles only lend the roles they imply, as in Keystone.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onestack.services.identity.models import Assignment, ImpliedRole, Membership, Project, Role
from onestack.services.identity.service.hierarchy import ancestors

SYSTEM = "system"


def group_ids(session: Session, user_id: str) -> list[str]:
    return list(session.scalars(select(Membership.group_id).where(Membership.user_id == user_id)))


def implied_closure(session: Session, role_ids: set[str]) -> set[str]:
    edges: dict[str, list[str]] = {}
    for prior, implied in session.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id)):
        edges.setdefault(prior, []).append(implied)
    result, todo = set(role_ids), list(role_ids)
    while todo:
        for implied in edges.get(todo.pop(), ()):
            if implied not in result:
                result.add(implied)
                todo.append(implied)
    return result


def _direct_roles(session: Session, actors: list[str], targets: list[str], types: tuple[str, ...],
                  inherited: bool | None) -> set[str]:
    stmt = select(Assignment.role_id).where(
        Assignment.actor_id.in_(actors), Assignment.target_id.in_(targets), Assignment.type.in_(types)
    )
    if inherited is not None:
        stmt = stmt.where(Assignment.inherited == inherited)
    return set(session.scalars(stmt))


def project_role_ids(session: Session, user_id: str, project: Project) -> set[str]:
    actors = [user_id, *group_ids(session, user_id)]
    types = ("UserProject", "GroupProject", "UserDomain", "GroupDomain")
    roles = _direct_roles(session, actors, [project.id], types[:2], inherited=False)
    parents = ancestors(session, project)
    if parents or project.domain_id:
        targets = [p.id for p in parents] + [project.domain_id]
        roles |= _direct_roles(session, actors, targets, types, inherited=True)
    return roles


def domain_role_ids(session: Session, user_id: str, domain_id: str) -> set[str]:
    actors = [user_id, *group_ids(session, user_id)]
    return _direct_roles(session, actors, [domain_id], ("UserDomain", "GroupDomain"), inherited=False)


def system_role_ids(session: Session, user_id: str) -> set[str]:
    actors = [user_id, *group_ids(session, user_id)]
    return _direct_roles(session, actors, [SYSTEM], ("UserSystem", "GroupSystem"), inherited=None)


def effective_roles(session: Session, role_ids: set[str]) -> list[Role]:
    """Roles for a token: implied ones added, domain-specific ones left out."""
    if not role_ids:
        return []
    ids = implied_closure(session, role_ids)
    rows = session.scalars(select(Role).where(Role.id.in_(ids), or_(Role.domain_id == "", Role.domain_id.is_(None))))
    return sorted(rows, key=lambda r: r.name)


def projects_with_roles(session: Session, user_id: str) -> set[str]:
    """Every project on which the user holds some role, directly, through a group or by inheritance.

    Two queries whatever the number of projects (the answer ``project_role_ids`` gives one at a time).
    """
    actors = [user_id, *group_ids(session, user_id)]
    rows = session.execute(select(Assignment.type, Assignment.target_id, Assignment.inherited).where(
        Assignment.actor_id.in_(actors), Assignment.type.in_(("UserProject", "GroupProject", "UserDomain",
                                                               "GroupDomain")))).all()
    children: dict[str, list[str]] = {}
    for pid, parent in session.execute(select(Project.id, Project.parent_id).where(Project.is_domain.is_(False))):
        children.setdefault(parent, []).append(pid)
    result: set[str] = set()
    for kind, target, inherited in rows:
        if not inherited:
            if kind.endswith("Project"):
                result.add(target)
            continue
        # Inherited: every project below the target (a domain's top projects have it as parent).
        todo = list(children.get(target, ()))
        while todo:
            pid = todo.pop()
            result.add(pid)
            todo.extend(children.get(pid, ()))
    return result
