"""Changes to network resources made as the caller, the way the network API's own routes make them: the
attribute table checks the body, the collection applies its rules, policy and quotas, and a create that
lost a race for an address is tried again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from onestack.http.context import Context
from onestack.services.network.collection import Collection

# As many attempts as the network API gives a create whose address a racing transaction took.
CREATE_ATTEMPTS = 5


def create(coll: Collection, ctx: Context, body: dict, shape: Callable[[Any, Any], Any]) -> Any:
    """Create one resource from ``body``; ``shape(session, row)`` says what to return, read in the same
    transaction."""
    checked = coll.table.check(body, creating=True, is_admin=ctx.is_admin)
    for attempt in range(CREATE_ATTEMPTS):
        try:
            with coll.net.db.write() as session:
                row = coll.create(session, ctx, dict(checked))
                session.flush()
                return shape(session, row)
        except IntegrityError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def update(coll: Collection, ctx: Context, ident: str, changes: dict, shape: Callable[[Any, Any], Any]) -> Any:
    checked = coll.table.check(changes, creating=False, is_admin=ctx.is_admin)
    with coll.net.db.write() as session:
        row = coll.get(session, ctx, ident)
        apply_update(coll, session, ctx, row, checked)
        return shape(session, row)


def apply_update(coll: Collection, session, ctx: Context, row, checked: dict) -> None:
    """An already checked change to a row the caller can see, inside the caller's transaction."""
    coll.authorize(ctx, "update", coll.target(row))
    coll.update(session, ctx, row, checked)
    session.flush()


def delete(coll: Collection, ctx: Context, ident: str) -> None:
    with coll.net.db.write() as session:
        row = coll.get(session, ctx, ident)
        coll.authorize(ctx, "delete", coll.target(row))
        coll.set_tags(session, row.id, [])  # tags live in their own table, as the network API's delete knows
        coll.delete(session, ctx, row)
