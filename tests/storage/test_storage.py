"""The storage layer behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from onestack import registry
from onestack.config import Settings
from onestack.db.migrate import is_current, upgrade
from onestack.runtime import Runtime
from onestack.services.identity.models import Project, Revision, Role, User
from onestack.services.identity.service import transactions as transactions_module
from onestack.services.identity.service.transactions import Transactions


def test_migrations_reach_head_and_are_idempotent(db):
    assert not is_current(db)
    upgrade(db)
    assert is_current(db)
    upgrade(db)
    tables = set(inspect(db.engine).get_table_names())
    assert {"identity_project", "identity_user", "identity_assignment", "alembic_version"} <= tables


def test_bootstrap_is_idempotent(database_url, tmp_path):
    from onestack import bootstrap

    settings = Settings(data_dir=tmp_path / "data", database=database_url, bcrypt_rounds=4)
    settings.data_dir.mkdir()
    for _ in range(2):
        runtime = Runtime(settings)
        upgrade(runtime.db, registry.METADATA)
        bootstrap.seed(runtime)
        with runtime.db.read() as s:
            # the two bootstrap users and orchestration's service user, each made once
            assert sorted(s.scalars(select(User.name))) == ["admin", "demo", "heat"]
            assert {r.name for r in s.scalars(select(Role))} >= {"admin", "member", "reader", "ResellerAdmin"}
        runtime.close()


def test_unique_names_are_enforced_by_the_database(db):
    upgrade(db, registry.METADATA)
    with db.write() as s:
        s.add(Project(id="d1", name="dom", domain_id="<<keystone.domain.root>>", is_domain=True, tags=[],
                      options={}, extra={}))
    with pytest.raises(IntegrityError):
        with db.write() as s:
            s.add(Project(id="d2", name="dom", domain_id="<<keystone.domain.root>>", is_domain=True, tags=[],
                          options={}, extra={}))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Project)) == 1


def test_failed_transaction_leaves_nothing(db):
    upgrade(db, registry.METADATA)
    with pytest.raises(RuntimeError):
        with db.write() as s:
            s.add(Project(id="p1", name="half", domain_id="default", tags=[], options={}, extra={}))
            s.flush()
            raise RuntimeError("crash mid-transaction")
    with db.read() as s:
        assert s.get(Project, "p1") is None


def test_concurrent_writers_lose_nothing(db):
    """Tempest writes from many threads at once; SQLite must serialise rather than fail with 'locked'."""
    upgrade(db, registry.METADATA)
    transactions = Transactions(db)
    with db.write() as s:
        s.add(Revision(id=1, value=0))
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            for i in range(20):
                with transactions.write() as s:
                    s.add(Project(id=f"p{n}-{i}", name=f"p{n}-{i}", domain_id="default", tags=[], options={},
                                  extra={}))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Project)) == 160
        assert s.get(Revision, 1).value == 160


def test_revision_is_seen_by_another_process_view(db):
    """A second transactions object on the same database (another API process) sees writes after its poll interval."""
    upgrade(db, registry.METADATA)
    with db.write() as s:
        s.add(Revision(id=1, value=0))
    writer, reader = Transactions(db), Transactions(db)
    before = reader.revision()
    with writer.write():
        pass
    reader._checked = -math.inf  # the poll interval has passed
    assert reader.revision() == before + 1


def test_a_process_sees_its_own_write_at_once_on_a_machine_just_booted(db, monkeypatch):
    """The revision is re-read after this process's own write however young the monotonic clock (it counts
    from boot): a token cache must not outlive a role change made through the same process."""
    upgrade(db, registry.METADATA)
    with db.write() as s:
        s.add(Revision(id=1, value=0))
    monkeypatch.setattr(transactions_module, "time", SimpleNamespace(monotonic=lambda: 5.0))
    transactions = Transactions(db, poll_seconds=3600.0)
    before = transactions.revision()
    assert transactions.fresh_revision() == before
    with transactions.write():
        pass
    assert transactions.fresh_revision() is None and transactions.revision() == before + 1


def test_an_acknowledged_commit_is_on_the_disk(db):
    """SQLite: WAL, fsynced at every commit (synchronous=FULL), so a write the API acknowledged survives a
    power cut. PostgreSQL keeps its defaults, which are already so (fsync and synchronous_commit on)."""
    with db.read() as session:
        if db.is_sqlite:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        else:
            assert session.execute(text("SHOW fsync")).scalar() == "on"
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
