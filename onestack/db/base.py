"""Declarative base shared by every service's tables."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import JSON, TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSON, list: JSON}


class UTCDateTime(TypeDecorator):
    """Naive UTC in the database, aware UTC in Python (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=datetime.UTC)
        return value


def new_id() -> str:
    """Keystone-style id: 32 hex characters."""
    return uuid.uuid4().hex


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def seeded(table: Table, rows: Callable[[], list[dict]]) -> None:
    """``rows()`` go into ``table`` when ``create_all`` makes it, as a new database is made at head
    (``db.migrate``).  The migration that made the table wrote the same rows in its day; a database built by
    the migrations and one built at head are held equal, rows too, by tests/storage/test_schema_at_head.py."""
    event.listen(table, "after_create", lambda target, connection, **_: connection.execute(target.insert(), rows()))
