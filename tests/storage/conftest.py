"""Storage tests run twice: on SQLite in a temp dir and on the PostgreSQL server `make test` starts."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from onestack.db.engine import Database

PG_SERVER = os.environ.get("ONESTACK_TEST_POSTGRES")


def _postgres_database():
    if not PG_SERVER:
        pytest.skip("ONESTACK_TEST_POSTGRES is not set (make test starts PostgreSQL and sets it)")
    name = f"onestack_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onestack.db'}"
        return
    admin, name = _postgres_database()
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()
