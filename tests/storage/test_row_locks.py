"""``lock_or_create`` on the database itself: writers that all find a lock row missing at once (PostgreSQL
runs them side by side) all end up holding the one row, none fails as a duplicate."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from onestack import registry
from onestack.db.locks import lock_or_create
from onestack.db.migrate import upgrade
from onestack.services.compute.models import QuotaLock


def test_concurrent_first_lockers_share_one_row(db):
    upgrade(db, registry.METADATA)
    scopes = [f"project-{uuid.uuid4().hex}" for _ in range(10)]
    start = threading.Barrier(6)

    def lock(scope: str) -> bool:
        with db.write() as session:
            lock_or_create(session, QuotaLock, scope, scope=scope)
        return True

    def racer(_) -> list[bool]:
        start.wait()
        return [lock(scope) for scope in scopes]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(racer, range(6)))
    assert all(all(r) for r in results)
    with db.read() as session:
        counts = session.execute(select(QuotaLock.scope, func.count()).where(QuotaLock.scope.in_(scopes))
                                 .group_by(QuotaLock.scope)).all()
    assert sorted(counts) == sorted((scope, 1) for scope in scopes)
