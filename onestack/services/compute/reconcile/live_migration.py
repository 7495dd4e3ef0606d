"""The live migration's steps, run by the source host's engine while the task is ``migrating``; the
migration row's status says which: accepted -> preparing -> running -> completed, or back to the source as
failed, cancelled or error.  ``service/live_migration.py`` says what a live migration is.

Every step may be repeated (after a crash, ``kill -9``, or a lost wake-up): the claim rewrites the same
allocations, the destination's guest is prepared once, the source's driver answers the migration it runs.
The source's driver knows no migration of the guest after a restart that lost it: if the destination's
guest runs, the migration completed, else it failed and the guest stays on the source.
"""

from __future__ import annotations

import logging

from onestack.db.engine import Database
from onestack.drivers.compute import DriverError, MigrationProgress, PowerState
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.moves import MoveSteps
from onestack.services.compute.reconcile.records import InstanceRecords
from onestack.services.compute.reconcile.specs import GuestSpecs
from onestack.services.compute.service import live_migration as live
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.scheduler import NoValidHost, Scheduler
from onestack.services.compute.service.volume_attachments import VolumeAttachments

LOG = logging.getLogger("onestack.compute.reconcile")
POLL_SECONDS = 0.25  # how often a running migration's progress is read and steered


class LiveMigrationSteps(MoveSteps):
    def __init__(self, db: Database, records: InstanceRecords, specs: GuestSpecs, hosts: HostDrivers,
                 scheduler: Scheduler, networking: InstanceNetworking, policy: live.Policy,
                 volumes: VolumeAttachments | None = None):
        super().__init__(db, records, specs, hosts, scheduler, networking, volumes)
        self.policy = policy

    def steps(self) -> dict:
        return {st.MIGRATING: self.step}

    def _set(self, instance: Instance, migration: dict, **changes) -> bool:
        return self._advance(instance, st.MIGRATING, migration, **changes)

    def step(self, instance: Instance) -> float | None:
        migration = self._migration(instance)
        try:
            if migration.status in ("accepted", "queued"):
                return self._schedule(instance, migration)
            if instance.task_args.get(live.ABORT):
                return self._abort(instance, migration)
            if migration.status == "preparing":
                return self._prepare(instance, migration)
            if migration.status == "running":
                return self._follow(instance, migration)
        except DriverError as exc:  # the guest still runs on the source: the migration alone failed
            LOG.info("live migration of %s failed: %s", instance.id, exc)
            self._roll_back(instance, migration, "error", str(exc))
            return None
        LOG.warning("instance %s: live migration %s in status %s", instance.id, migration.uuid, migration.status)
        self._roll_back(instance, migration, "error", f"unexpected status {migration.status}")
        return None

    def _schedule(self, instance: Instance, migration: Migration) -> None:
        """The destination: the scheduler's choice (or the admin's host), claimed as a cold migration is."""
        if instance.task_args.get(live.ABORT):
            self._roll_back(instance, migration, "cancelled", "")
            return None
        try:
            dest = self.scheduler.place_resize(instance, instance.flavor, migration.uuid, same_host=False)
        except NoValidHost as exc:
            self._roll_back(instance, migration, "error", str(exc), claimed=False)
            return None
        self._set(instance, {"status": "preparing", "dest_compute": dest, "dest_node": dest,
                             "dest_host": self.hosts.address(dest)})
        return None

    def _prepare(self, instance: Instance, migration: Migration) -> None:
        """The ports bound (INACTIVE) on the destination too, a guest waiting there, then the source starts
        sending."""
        self.networking.bind_also_on(instance, migration.dest_compute)
        dest = self.hosts.driver(migration.dest_compute)
        uri = dest.prepare_incoming(self.specs.spec(instance), migration.dest_host or "")
        self.hosts.driver(instance.host).live_migrate(instance.id, uri, self.policy.first_downtime_ms,
                                                      self.policy.bandwidth_mib)
        self._set(instance, {"status": "running"})
        return None

    def _follow(self, instance: Instance, migration: Migration) -> float | None:
        source = self.hosts.driver(instance.host)
        progress = source.migration_progress(instance.id)
        if instance.task_args.get(live.FORCE_COMPLETE) and progress.status == "active":
            source.steer_migration(instance.id, mode=live.forced_mode(progress))
            self._set(instance, {}, task_args=_without(instance.task_args, live.FORCE_COMPLETE))
            return 0.0
        if progress.status == "completed" or (progress.status == "none" and self._arrived(instance, migration)):
            self._switch_over(instance, migration, progress)
            return None
        if progress.status != "active":
            self._roll_back(instance, migration, "failed", progress.error or f"the migration is {progress.status}")
            return None
        downtime, mode = live.steer(progress, self.policy)
        if downtime is not None or mode is not None:
            source.steer_migration(instance.id, downtime, mode)
        self._set(instance, live.progress_columns(progress))
        return POLL_SECONDS

    def _arrived(self, instance: Instance, migration: Migration) -> bool:
        info = self.hosts.driver(migration.dest_compute).instance_info(instance.id)
        return info.power_state == PowerState.RUNNING

    def _switch_over(self, instance: Instance, migration: Migration, progress: MigrationProgress) -> None:
        """The guest runs on the destination from now: its ports' destination bindings activated (the
        source's dropped), the source's copy and the room the migration held let go, then the row says so."""
        dest = migration.dest_compute
        self.hosts.driver(dest).finish_incoming(instance.id)
        instance.host = dest
        self._bind(instance)
        self.scheduler.release_migration(migration.uuid)
        self.hosts.driver(migration.source_compute).release(instance.id)  # a root disk in Ceph runs on there
        done = {"status": "completed"}
        if progress.status == "completed":
            done.update(live.progress_columns(progress))
        power = self.hosts.driver(dest).instance_info(instance.id).power_state
        if self._set(instance, done, host=dest, task_state=None, power_state=int(power), task_args={}):
            self.records.event(instance.id, "live-migration", "compute_live_migration", "Success")

    def _abort(self, instance: Instance, migration: Migration) -> None:
        if migration.status == "running":
            source = self.hosts.driver(instance.host)
            source.abort_migration(instance.id)
            if source.migration_progress(instance.id).status == "completed":  # too late: it finished first
                self._set(instance, {}, task_args=_without(instance.task_args, live.ABORT))
                return
        self._roll_back(instance, migration, "cancelled", "")

    def _roll_back(self, instance: Instance, migration: Migration, status: str, reason: str, *,
                   claimed: bool = True) -> None:
        """The guest carries on on the source: the destination's copy and claim go, the ports stay (or are
        bound again) on the source with the destination's inactive bindings dropped, and the migration ends
        as ``status``."""
        if migration.dest_compute:
            try:
                self.hosts.driver(migration.dest_compute).abort_incoming(instance.id)
            except DriverError as exc:  # a destination gone: nothing of the guest runs there
                LOG.info("live migration of %s: destination %s: %s", instance.id, migration.dest_compute, exc)
        if claimed:
            self.scheduler.revert_resize(instance, migration.source_compute, instance.flavor, migration.uuid)
        self._bind(instance)
        power = self.hosts.driver(instance.host).instance_info(instance.id).power_state
        if self._set(instance, {"status": status}, task_state=None, power_state=int(power), task_args={}):
            result = "Success" if status == "cancelled" else "Error"
            self.records.event(instance.id, "live-migration", "compute_live_migration", result, reason)


def _without(args: dict, key: str) -> dict:
    return {k: v for k, v in (args or {}).items() if k != key}
