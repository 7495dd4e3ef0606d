"""What every identity resource does with its rows: find one or 404, refuse a duplicate, keep the
attributes a client sent that the resource does not define (Keystone stores and returns them)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.times import parse_time

if TYPE_CHECKING:
    from onestack.services.identity.service.transactions import Transactions

ALWAYS_RESERVED = ("id", "links")


def get(session: Session, model, key, kind: str):
    row = session.get(model, key) if key is not None else None
    if row is None:
        raise NotFound(f"Could not find {kind}: {key}.")
    return row


def one(transactions: Transactions, model, key, kind: str):
    """``get`` in a read transaction of its own."""
    with transactions.read() as session:
        return get(session, model, key, kind)


def listed(transactions: Transactions, stmt) -> list:
    """The rows ``stmt`` selects, in a read transaction of its own."""
    with transactions.read() as session:
        return list(session.scalars(stmt))


def updated(transactions: Transactions, model, key, kind: str, body: dict, fields) -> object:
    """The usual update of a row: each of ``fields`` the body carries replaces the row's value and whatever
    else it carries is kept as an extra attribute."""
    with transactions.write() as session:
        row = get(session, model, key, kind)
        assign(row, body, fields)
        merge_extra(row, body, fields)
    return row


def deleted(transactions: Transactions, model, key, kind: str) -> None:
    """Delete one row, or 404, in a write transaction of its own."""
    with transactions.write() as session:
        session.delete(get(session, model, key, kind))


def owned(session: Session, model, key: str, user_id: str, kind: str, owner: str = "user_id"):
    """A row that belongs to ``user_id``; someone else's is as not found as a missing one."""
    row = session.get(model, key)
    if row is None or getattr(row, owner) != user_id:
        raise NotFound(f"Could not find {kind}: {key}.")
    return row


def refuse_taken_name(session: Session, model, domain_id: str, name: str, kind: str) -> None:
    """Users, groups and roles are unique by name within their domain."""
    if session.scalars(select(model.id).where(model.domain_id == domain_id, model.name == name)).first():
        raise conflict(kind, "name", name)


def keep_domain_and_unique_name(session: Session, model, row, body: dict, kind: str) -> None:
    """An update may rename a user or group within its domain, never move it to another."""
    if "domain_id" in body and body["domain_id"] != row.domain_id:
        raise BadRequest(f"A {kind} cannot move to another domain.")
    if "name" in body and body["name"] != row.name:
        refuse_taken_name(session, model, row.domain_id, body["name"], kind)


def merged_options(current: dict | None, changes: dict) -> dict:
    """Options after an update: a null value removes the option, any other sets it."""
    options = dict(current or {})
    for key, value in changes.items():
        if value is None:
            options.pop(key, None)
        else:
            options[key] = value
    return options


def conflict(kind: str, field: str, value) -> Conflict:
    return Conflict(f"Conflict occurred attempting to store {kind} - Duplicate entry found with {field} {value}.")


def assign(row, body: dict, fields) -> None:
    """An update: each of ``fields`` the body carries replaces the row's value."""
    for key in fields:
        if key in body:
            setattr(row, key, body[key])


def extra_attributes(body: dict, known, reserved=ALWAYS_RESERVED) -> dict:
    return {k: v for k, v in body.items() if k not in known and k not in reserved}


def merge_extra(row, body: dict, known, reserved=ALWAYS_RESERVED) -> None:
    extra = extra_attributes(body, known, reserved)
    if extra:
        row.extra = {**(row.extra or {}), **extra}


def future_expiry(text: str | None) -> datetime.datetime | None:
    """An optional ``expires_at``, which must lie ahead."""
    if text is None:
        return None
    moment = parse_time(text)
    if moment <= utcnow():
        raise BadRequest("expires_at must be in the future.")
    return moment
