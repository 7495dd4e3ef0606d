"""PostgreSQL connections are checked only after sitting idle in the pool (onestack.db.engine): a round trip
per transaction saved, and still a connection the server closed meanwhile is replaced, not lent."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from onestack.db import engine as engine_module
from onestack.db.engine import Database
from tests.pgtools import PG_SERVER, scratch_database

pytestmark = pytest.mark.postgres

BACKEND = text("SELECT pg_backend_pid()")


@pytest.fixture
def pg():
    with scratch_database() as url:
        database = Database(url)
        pings = []
        ping = database.engine.dialect.do_ping
        database.engine.dialect.do_ping = lambda conn: (pings.append(1), ping(conn))[1]
        yield database, pings
        database.dispose()


def _terminate(pid: int) -> None:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg):
    database, pings = pg
    pids = {database.read_one(BACKEND)[0] for _ in range(20)}
    with database.write() as session:
        session.execute(text("SELECT 1"))
    assert len(pids) == 1  # the same pooled connection each time
    assert pings == []


def test_a_connection_closed_while_idle_is_replaced_before_it_is_lent(pg, monkeypatch):
    database, pings = pg
    first = database.read_one(BACKEND)[0]
    _terminate(first)
    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING", 0.0)  # as if it had sat in the pool for long
    second = database.read_one(BACKEND)[0]
    assert second != first
    assert pings == [1]


def test_a_connection_closed_in_use_fails_once_then_the_pool_opens_new_ones(pg):
    database, pings = pg
    first = database.read_one(BACKEND)[0]
    _terminate(first)
    with pytest.raises(OperationalError) as failed:
        database.read_one(BACKEND)
    assert failed.value.connection_invalidated
    assert database.read_one(BACKEND)[0] != first
    assert pings == []
