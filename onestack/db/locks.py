"""Row locks that serialise writers on PostgreSQL (SQLite has one writer at a time anyway)."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
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


def serialise(session: Session, name: str) -> None:
    """Let one transaction at a time past this point for ``name`` until it ends (commit or rollback).

    For what is picked from the rows already there and then inserted — the next instance number, the first
    free VNI — two PostgreSQL transactions would otherwise both read the same free value (neither sees the
    other's uncommitted row) and one would fail on the unique key.  A transaction-scoped advisory lock holds
    the second at this point until the first has committed; it then reads (READ COMMITTED: a fresh snapshot
    per statement) the value the first took.  SQLite needs nothing: it has one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
