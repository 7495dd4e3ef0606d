"""Containers made at once in a new account, on both databases (PostgreSQL runs the writers side by side):
each first write finds the account missing, and two PUTs of one new name both find the container missing.
Swift answers every one 201 or 202; none may fail as a duplicate key (the 409 a two-worker cloud answered to
an orchestration stack making two signal containers at once)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from onestack import registry
from onestack.config import Settings
from onestack.db.migrate import upgrade
from onestack.services.object.public import Query
from onestack.services.object.service import ObjectService

WRITERS = 6


def test_first_containers_of_an_account_made_at_once(db, tmp_path):
    upgrade(db, registry.METADATA)
    svc = ObjectService(db, Settings(data_dir=tmp_path))
    accounts = [f"AUTH_race{n}" for n in range(5)]
    start = threading.Barrier(WRITERS)

    def racer(writer: int) -> list[bool]:
        start.wait()
        made = []
        for account in accounts:
            made.append(svc.put_container(account, "shared", {}))  # True: this writer made it
            made.append(svc.put_container(account, f"own-{writer}", {"X-Container-Meta-Writer": str(writer)}))
        return made

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(racer, range(WRITERS)))
    for index in range(len(accounts)):
        shared = [made[2 * index] for made in results]
        assert shared.count(True) == 1  # one writer made it, the others updated it
        assert all(made[2 * index + 1] for made in results)  # each writer's own container is new
    for account in accounts:
        found, containers = svc.list_containers(account, Query(limit=100))
        assert sorted(c.name for c in containers) == sorted(["shared"] + [f"own-{w}" for w in range(WRITERS)])
        assert found.container_count == WRITERS + 1
