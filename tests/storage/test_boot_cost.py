"""A regression guard as a count, not a time: the transactions and SQL statements one server costs from its
create to ACTIVE, on SQLite and on PostgreSQL.  The service code runs in this process on a fresh database
(fake driver, two hosts), the reconciler's steps one after the other, every statement counted: a change that
adds a query or a transaction to the boot path fails here on any machine, however loaded (the benchmark,
``make bench --only compute``, gives the rate and the CPU per server; docs/benchmarks.md)."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from onestack import bootstrap, registry
from onestack.config import ComputeSettings, NetworkSettings, Settings
from onestack.db.engine import Database
from onestack.db.migrate import upgrade
from onestack.http.context import Context
from onestack.runtime import Runtime
from onestack.services.compute.models import Instance

# What the create costs today, with the default quotas: the flavor (and its extra specs), the image once (its
# block-device mapping and its fit), then one write: the quota limits (class, project, user), the project's
# quota lock, what the project and the user have in use (servers with their cores and RAM, server groups, key
# pairs), the next instance number (on PostgreSQL behind an advisory lock: one statement more than on SQLite),
# the instance and its create action.
CREATE = {"transactions": 3, "statements": 16}
# The reconciler after it: the row read once (each step then starts from the row the one before wrote), the
# hosts, placement's claim (4 reads, the consumer, its allocation and the provider's generation), the three
# writes (scheduled, spawning, ACTIVE closing the create action), each one conditional UPDATE answering with the
# row, the guest's volumes twice (to connect, for its spec) and its ports.  Placement's view of the providers is
# read at most once a second by a busy scheduler; the test keeps it, so the count does not depend on the clock.
TO_ACTIVE = {"transactions": 9, "statements": 18}


@contextlib.contextmanager
def counted(db: Database):
    """Transactions begun and statements run on ``db`` inside the block (BEGIN, COMMIT, ROLLBACK and savepoints
    are not statements: they differ by database)."""
    seen = {"transactions": 0, "statements": 0}

    def begun(_conn):
        seen["transactions"] += 1

    def ran(_conn, _cursor, statement, *_):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen["statements"] += 1

    event.listen(db.engine, "begin", begun)
    event.listen(db.engine, "before_cursor_execute", ran)
    try:
        yield seen
    finally:
        event.remove(db.engine, "begin", begun)
        event.remove(db.engine, "before_cursor_execute", ran)


def test_a_server_costs_a_fixed_number_of_transactions_from_create_to_active(database_url, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", database=database_url, bcrypt_rounds=4,
                        network=NetworkSettings(dataplane=False), compute=ComputeSettings(driver="fake", fake_hosts=2))
    settings.data_dir.mkdir()
    runtime = Runtime(settings)
    try:
        upgrade(runtime.db, registry.METADATA)
        bootstrap.seed(runtime)
        runtime.compute.start()  # the fake hosts register, with their providers in placement
        runtime.compute.scheduler.view._max_age = 3600.0  # placement's view, read once a second, kept here
        ctx = Context(user_id="u", user_domain_id="default", project_id="p", project_domain_id="default",
                      roles=frozenset({"admin", "member", "reader"}))
        image = runtime.image.create_image(ctx, {"name": "cost", "disk_format": "raw", "container_format": "bare"})
        runtime.image.upload(ctx, image.id, [b"\0" * 512])
        server = {"name": "cost", "imageRef": image.id, "flavorRef": "1", "networks": "none"}
        runtime.compute.servers.create(ctx, dict(server), {}, "req-warm")  # caches filled, statements compiled
        with counted(runtime.db) as create:
            instance_id = runtime.compute.servers.create(ctx, dict(server), {}, "req-cost")[0].id
        for warm in runtime.compute.servers.create(ctx, dict(server), {}, "req-warm-2"):
            runtime.compute_reconciler.step(warm.id)
        with counted(runtime.db) as to_active:
            assert runtime.compute_reconciler.step(instance_id) is None
        with runtime.db.read() as session:
            instance = session.get(Instance, instance_id)
        assert (instance.vm_state, instance.task_state, instance.host) == ("active", None, instance.host)
        assert instance.host is not None
        assert create["transactions"] <= CREATE["transactions"] and create["statements"] <= CREATE["statements"], \
            create
        assert to_active["transactions"] <= TO_ACTIVE["transactions"], to_active
        assert to_active["statements"] <= TO_ACTIVE["statements"], to_active
    finally:
        runtime.compute.stop()
        runtime.close()
