"""The hosts against the database (Nova's power-state sync and orphan cleanup), at start and every
``SYNC_EVERY`` seconds: a guest whose process died is SHUTOFF; a guest the database does not know (a crash
between spawn and record, or a deleted row) is destroyed.  Guests that run are adopted, never restarted.
It is also the hosts' heartbeat."""

from __future__ import annotations

import logging

from sqlalchemy import Row, or_, select

from onestack.db.engine import Database
from onestack.drivers.compute import PowerState
from onestack.reconcile.loop import Loop
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.service.host_drivers import HostDrivers

LOG = logging.getLogger("onestack.compute.reconcile")
SYNC_KEY, SYNC_EVERY = "hosts", 10.0
# a migration's statuses once it is over: it keeps no guest anywhere but on the instance's host
SETTLED = ("confirmed", "reverted", "completed", "failed", "cancelled", "error", "done")


class PowerSync:
    def __init__(self, db: Database, hosts: HostDrivers):
        self.db = db
        self.hosts = hosts
        self.loop = Loop("compute-hosts", self.sync, lambda: [], workers=1, resync_every=60)

    def start(self) -> None:
        self.loop.start()
        self.loop.wake(SYNC_KEY)

    def stop(self) -> None:
        self.loop.stop()

    def sync(self, _key: str) -> float:
        self.hosts.heartbeat()
        names = self.hosts.names()
        # Guests first, records second: a guest spawned meanwhile had its record (and host) written before.
        guests = {host: self.hosts.driver(host).list_instances() for host in names}
        on_host: dict[str, dict[str, Row]] = {host: {} for host in names}
        with self.db.read() as session:
            # The columns the sync compares, for every host at once: this runs over every instance there is.
            for row in session.execute(select(Instance.id, Instance.host, Instance.vm_state, Instance.task_state,
                                              Instance.power_state).where(Instance.host.in_(names),
                                                                          Instance.deleted.is_(False))):
                on_host[row.host][row.id] = row
            moving = self._moving(session, names)
            unknown = {uuid for host, known in on_host.items() for uuid in guests[host] if uuid not in known}
            # an unknown guest whose instance lives on another host: a copy a move left here
            elsewhere = set(session.scalars(select(Instance.id).where(Instance.id.in_(unknown),
                                                                      Instance.deleted.is_(False)))) \
                if unknown else set()
        for host, known in on_host.items():
            driver = self.hosts.driver(host)
            for uuid in guests[host]:
                if uuid not in known and (host, uuid) not in moving:
                    LOG.warning("destroying guest %s on %s: no instance record wants it", uuid, host)
                    # storage every host reaches (a root disk in Ceph) stays when it is the guest's elsewhere
                    (driver.release if uuid in elsewhere else driver.destroy)(uuid)
            for instance in known.values():
                if instance.task_state is None and instance.vm_state in (st.ACTIVE, st.STOPPED, st.PAUSED,
                                                                         st.SUSPENDED):
                    self._sync_power(instance, driver.instance_info(instance.id).power_state)
        return SYNC_EVERY

    @staticmethod
    def _moving(session, names: list[str]) -> set[tuple[str, str]]:
        """(host, instance) of the guests a move not yet over keeps on a host the row does not name: a
        resize's or cold migration's source copy until confirmed, a live migration's destination."""
        rows = session.execute(select(Migration.source_compute, Migration.dest_compute, Migration.instance_uuid)
                               .join(Instance, Instance.id == Migration.instance_uuid)
                               .where(Instance.deleted.is_(False), Migration.status.not_in(SETTLED),
                                      or_(Migration.source_compute.in_(names), Migration.dest_compute.in_(names))))
        return {(host, row.instance_uuid) for row in rows for host in (row.source_compute, row.dest_compute)}

    def _sync_power(self, instance: Row, seen: PowerState) -> None:
        if seen == instance.power_state:
            return
        changes = {"power_state": int(seen)}
        if instance.vm_state == st.ACTIVE and seen in (PowerState.SHUTDOWN, PowerState.NOSTATE, PowerState.CRASHED):
            LOG.warning("instance %s stopped outside onestack: marked SHUTOFF", instance.id)
            changes["vm_state"] = st.STOPPED
        with self.db.write() as session:
            row = session.get(Instance, instance.id)
            if row is not None and row.task_state is None and row.vm_state == instance.vm_state:
                for key, value in changes.items():
                    setattr(row, key, value)
