"""Row locks that serialise writers on PostgreSQL (SQLite has one writer at a time anyway)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def lock_or_create(session: Session, model, ident, **values) -> None:
    """Hold the row ``ident`` of ``model`` (``FOR UPDATE``) until the transaction ends, making it with
    ``values`` the first time.  Two transactions that both find it missing both end up holding the one row:
    the second's insert waits for the first's commit, fails as a duplicate, and locks the row made."""
    if session.get(model, ident, with_for_update=True) is not None:
        return
    try:
        with session.begin_nested():
            session.add(model(**values))
            session.flush()
    except IntegrityError:
        session.get(model, ident, with_for_update=True, populate_existing=True)
