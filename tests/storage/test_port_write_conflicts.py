"""Two hosts changing one port at once (a joined host's compute settling the port's binding after a live
migration while the controller's API renames it), threads on one database, SQLite and PostgreSQL.

A port's ``revision_number`` is SQLAlchemy's version column: on PostgreSQL the loser's UPDATE matched no row
and raised ``StaleDataError`` (a joined host's log showed it in a Tempest run).  Each change is now one
read-modify-write run again whole on the conflict (``Database.write_retrying``): both land, no error.  On
PostgreSQL the test forces the race (both transactions read the port before either writes it)."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from onestack import registry
from onestack.config import Settings
from onestack.db.migrate import upgrade
from onestack.http.context import Context
from onestack.services.network.models import Network, Port, PortBinding
from onestack.services.network.service import NetworkService
from onestack.services.network.service.facade import NetworkFacade

ADMIN = Context(user_id="admin", user_domain_id="default", roles=frozenset({"admin", "member", "reader"}),
                project_id="admin-project")


def a_migrating_port(db) -> str:
    """A guest's port bound on compute1 with an inactive binding on compute2 (a live migration's destination)."""
    network_id, port_id = str(uuid.uuid4()), str(uuid.uuid4())
    with db.write() as session:
        session.add(Network(id=network_id, project_id="p", name="net", network_type="vxlan", segmentation_id=7))
        session.flush()
        session.add(Port(id=port_id, project_id="p", network_id=network_id, mac_address="fa:16:3e:00:00:01",
                         device_id="guest", device_owner="compute:nova", host_id="compute1", status="ACTIVE"))
        session.flush()
        session.add(PortBinding(port_id=port_id, host="compute2", vnic_type="normal", profile={"migrating_to": "x"}))
    return port_id


class RaceBothReadsFirst:
    """On PostgreSQL: hold each named thread's first flush (its first write, after it read the port) until
    the other one got there too, so both changes are decided on the same revision.  SQLite needs nothing
    held: its write transactions take the one write lock before their first read."""

    def __init__(self, db, names: set[str]):
        self.barrier = threading.Barrier(len(names))
        self.waiting = set(names) if not db.is_sqlite else set()
        db.listen("before_flush", self._before_flush)

    def _before_flush(self, _session, _context, _instances) -> None:
        name = threading.current_thread().name
        if name in self.waiting:
            self.waiting.discard(name)
            self.barrier.wait(timeout=30)


def run_both(*jobs) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - every error is what the test checks
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,), name=name) for name, job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), f"{thread.name} is stuck"
    return errors


def test_a_joined_host_and_the_controller_change_one_port_at_once(db, tmp_path, caplog):
    upgrade(db, registry.METADATA)
    net = NetworkService(db, Settings(data_dir=tmp_path))
    facade = NetworkFacade(net)
    port_id = a_migrating_port(db)
    RaceBothReadsFirst(db, {"joined-host", "controller"})

    with caplog.at_level(logging.INFO, logger="onestack.db"):
        errors = run_both(("joined-host", lambda: facade.settle_port_bindings([port_id], "compute2")),
                          ("controller", lambda: net.ports.update_one(ADMIN, port_id, {"name": "renamed"}, None)))
    assert errors == []
    retried = [r for r in caplog.records if "running the change again" in r.getMessage()]
    # on PostgreSQL the race was real and one of the two ran again; on SQLite they took turns
    assert len(retried) == (0 if db.is_sqlite else 1)
    with db.read() as session:
        port = session.get(Port, port_id)
        bindings = list(session.scalars(select(PortBinding).where(PortBinding.port_id == port_id)))
    # both changes are there: bound on compute2 with its binding's profile, no inactive binding left, the new name
    assert (port.host_id, port.profile, port.name) == ("compute2", {"migrating_to": "x"}, "renamed")
    assert bindings == []
    assert port.revision_number >= 2


def test_the_same_race_without_the_retry_loses_a_change(db, tmp_path):
    """What the retry mends, shown on the same forced race with plain transactions: one fails."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises write transactions: no such race")
    upgrade(db, registry.METADATA)
    port_id = a_migrating_port(db)
    RaceBothReadsFirst(db, {"joined-host", "controller"})

    def change(**values):
        def job() -> None:
            with db.write() as session:
                port = session.get(Port, port_id)
                for key, value in values.items():
                    setattr(port, key, value)
        return job

    errors = run_both(("joined-host", change(host_id="compute2")), ("controller", change(name="renamed")))
    assert len(errors) == 1 and isinstance(errors[0], StaleDataError), errors
