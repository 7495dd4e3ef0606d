"""Scratch databases on the PostgreSQL server that `make test` starts."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

PG_SERVER = os.environ.get("ONESTACK_TEST_POSTGRES")


@contextlib.contextmanager
def scratch_database(prefix: str = "onestack_test") -> Iterator[str]:
    """A new, empty database; yields its URL and drops it afterwards."""
    if not PG_SERVER:
        pytest.skip("ONESTACK_TEST_POSTGRES is not set (make test starts PostgreSQL and sets it)")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        # An autovacuum worker on the database (a superuser's process) makes FORCE fail for an
        # ordinary role; it finishes soon, so try again.
        for attempt in range(10):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except DBAPIError:
                if attempt == 9:
                    raise
                time.sleep(1)
        admin.dispose()
