"""The project tree: domains at its roots, a project's parents up to its domain, everything below a project."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.errors import NotFound
from onestack.services.identity.models import Project


def require_domain(session: Session, domain_id: str) -> None:
    row = session.get(Project, domain_id)
    if row is None or not row.is_domain:
        raise NotFound(f"Could not find domain: {domain_id}.")


def ancestors(session: Session, project: Project) -> list[Project]:
    """Parents of a project up to and including its domain, nearest first."""
    chain, seen = [], {project.id}
    current = project
    while current.parent_id and current.parent_id not in seen:
        parent = session.get(Project, current.parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.id)
        current = parent
    return chain


def subtree(session: Session, root_id: str) -> list[Project]:
    """Every project below ``root_id`` (a project or a domain), one level at a time."""
    result, todo = [], [root_id]
    while todo:
        children = session.scalars(select(Project).where(Project.parent_id.in_(todo),
                                                         Project.is_domain.is_(False))).all()
        result.extend(children)
        todo = [c.id for c in children]
    return result
