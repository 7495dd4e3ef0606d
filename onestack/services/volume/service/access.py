"""Tenants are walls: which rows a caller may see, and the one way every service module loads a row."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import NotFound
from onestack.services.volume.policies import ADMIN, SYSTEM_READER


def sees_every_project(ctx: Context) -> bool:
    return ADMIN(ctx) or SYSTEM_READER(ctx)


def scoped(stmt: Select, model, ctx: Context, all_projects: bool = False) -> Select:
    """``stmt`` cut to the caller's project, unless it may see every project and asks to."""
    if all_projects and sees_every_project(ctx):
        return stmt
    return stmt.where(model.project_id == ctx.project_id)


def load(session: Session, model, ident: str, ctx: Context, what: str, *, lock: bool = False):
    """The row ``ident`` of ``model`` if the caller may see it; Cinder's 404 otherwise (another project's
    row is as absent as one that never was)."""
    # FOR UPDATE of the row alone: PostgreSQL refuses to lock the outer-joined rows eager loading brings
    row = (session.get(model, ident, with_for_update={"of": model} if lock else None)
           if isinstance(ident, str) else None)
    if row is None or getattr(row, "hidden", False) or not (
            sees_every_project(ctx) or row.project_id == ctx.project_id):
        raise NotFound(f"{what} {ident} could not be found.")
    return row
