"""What every identity resource does with its rows: find one or 404, refuse a duplicate, keep the
attributes a client sent that the resource does not define (Keystone stores and returns them)."""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.times import parse_time

ALWAYS_RESERVED = ("id", "links")


def get(session: Session, model, key, kind: str):
    row = session.get(model, key) if key is not None else None
    if row is None:
        raise NotFound(f"Could not find {kind}: {key}.")
    return row


def conflict(kind: str, field: str, value) -> Conflict:
    return Conflict(f"Conflict occurred attempting to store {kind} - Duplicate entry found with {field} {value}.")


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
