"""Storage tests run twice: on SQLite in a temp dir and on the PostgreSQL server `make test` starts."""

from __future__ import annotations

import pytest

from onestack.db.engine import Database
from tests.pgtools import scratch_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onestack.db'}"
        return
    with scratch_database() as url:
        yield url


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()
