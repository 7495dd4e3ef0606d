"""A transaction PostgreSQL gives up to break a real deadlock is answered 409 in the service's shape (it changed
nothing and may be sent again), not 500."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import anyio
import httpx
import pytest
from sqlalchemy import create_engine, text

from onestack.http.errors import nova_fault
from onestack.http.routing import Service, route
from tests.pgtools import scratch_database

pytestmark = pytest.mark.postgres


def deadlock(url: str) -> None:
    """Two transactions lock two rows in opposite orders; PostgreSQL rolls one back. Raises the loser's error."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS pair (id int PRIMARY KEY)"))
        conn.execute(text("INSERT INTO pair VALUES (1), (2) ON CONFLICT DO NOTHING"))
    both_locked, errors = threading.Barrier(2), []

    def take(first: int, second: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT id FROM pair WHERE id = :i FOR UPDATE"), {"i": first})
                both_locked.wait(timeout=10)
                conn.execute(text("SELECT id FROM pair WHERE id = :i FOR UPDATE"), {"i": second})
        except Exception as exc:  # noqa: BLE001 - the loser's error is what the test hands on
            errors.append(exc)

    threads = [threading.Thread(target=take, args=pair) for pair in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    engine.dispose()
    assert len(errors) == 1, errors
    raise errors[0]


def test_a_deadlocked_request_is_a_409_to_send_again():
    with scratch_database() as url:
        service = Service("compute", "/compute", nova_fault,
                          [route("/deadlock", "GET", lambda call: deadlock(url), public=True)], token_gate=None)
        app = service.asgi()

        async def served(scope, receive, send):  # what onestack's middleware gives every request
            await app({**scope, "onestack.runtime": SimpleNamespace()}, receive, send)

        async def ask() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://t") as client:
                return await client.get("/deadlock")

        reply = anyio.run(ask)
    assert reply.status_code == 409, reply.text
    assert "send it again" in reply.json()["conflictingRequest"]["message"]


def test_a_read_modify_write_that_kept_losing_is_a_409_to_send_again():
    """A versioned row changed under the request more often than ``Database.write_retrying`` tries again (or on
    a path without it): SQLAlchemy's StaleDataError, answered as the deadlock is, never a 500."""
    from sqlalchemy.orm.exc import StaleDataError

    def stale(call):
        raise StaleDataError("UPDATE statement on table 'network_port' expected to update 1 row(s); 0 were matched.")

    service = Service("network", "/network", nova_fault, [route("/stale", "GET", stale, public=True)], token_gate=None)
    app = service.asgi()

    async def served(scope, receive, send):
        await app({**scope, "onestack.runtime": SimpleNamespace()}, receive, send)

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://t") as client:
            return await client.get("/stale")

    reply = anyio.run(ask)
    assert reply.status_code == 409, reply.text
    assert "send it again" in reply.json()["conflictingRequest"]["message"]
