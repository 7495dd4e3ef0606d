"""The resize steps: resize_prep (claim) -> resize_migrating (the source guest stops if it moves) ->
resize_migrated (the row switches host and flavor) -> resize_finish (the driver) -> VERIFY_RESIZE; then
resize_confirming or resize_reverting.  ``service/resize.py`` says what a resize is."""

from __future__ import annotations

from onestack.drivers.compute import DriverError, PowerState
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.moves import MoveSteps
from onestack.services.compute.reconcile.power_sync import SETTLED
from onestack.services.compute.service.resize import ACTION, OLD_VM_STATE, SAME_HOST, latest
from onestack.services.compute.service.scheduler import NoValidHost


class ResizeSteps(MoveSteps):
    def steps(self) -> dict:
        return {st.RESIZE_PREP: self.prep, st.RESIZE_MIGRATING: self.migrate, st.RESIZE_MIGRATED: self.migrated,
                st.RESIZE_FINISH: self.finish, st.RESIZE_CONFIRMING: self.confirm,
                st.RESIZE_REVERTING: self.revert}

    def prep(self, instance: Instance) -> None:
        """Claim the new flavor (moving the old allocation to the migration): a repeat rewrites the same."""
        migration = self._migration(instance)
        try:
            dest = self.scheduler.place_resize(instance, migration.new_flavor, migration.uuid,
                                               same_host=instance.task_args.get(SAME_HOST, True))
        except NoValidHost as exc:
            # As Nova's conductor: nothing moved, so the server is back as it was and the migration failed.
            if self._advance(instance, st.RESIZE_PREP, {"status": "error"}, task_state=None,
                         vm_state=_settled_state(instance)):
                self.records.event(instance.id, _action(instance), "conductor_migrate_server", "Error", str(exc))
            return
        self._advance(instance, st.RESIZE_PREP, {"status": "migrating", "dest_compute": dest, "dest_node": dest,
                                             "dest_host": self.hosts.address(dest)},
                  task_state=st.RESIZE_MIGRATING)

    def migrate(self, instance: Instance) -> None:
        migration = self._migration(instance)
        source = self.hosts.driver(migration.source_compute)
        if migration.dest_compute != migration.source_compute and _exists(source, instance.id):
            source.power_off(instance.id)  # (a guest its host lost has nothing to stop)
        self._advance(instance, st.RESIZE_MIGRATING, {"status": "post-migrating"}, task_state=st.RESIZE_MIGRATED)

    def migrated(self, instance: Instance) -> None:
        """The row now describes the guest on its destination with the new flavor; its ports follow it."""
        migration = self._migration(instance)
        self._bind(_moved(instance, migration.dest_compute))
        self._advance(instance, st.RESIZE_MIGRATED, {}, host=migration.dest_compute, flavor=migration.new_flavor,
                  task_state=st.RESIZE_FINISH)

    def finish(self, instance: Instance) -> None:
        migration = self._migration(instance)
        driver = self.hosts.driver(migration.dest_compute)
        spec = self.specs.spec(instance)
        if migration.dest_compute == migration.source_compute:
            _resized(driver, spec)
        else:
            self._copy_disks(instance, migration, spec)
            driver.spawn(spec)
        if instance.task_args.get(OLD_VM_STATE) == st.STOPPED:
            driver.power_off(instance.id)  # a stopped server stays stopped, as in Nova
        power = driver.instance_info(instance.id).power_state
        self._advance(instance, st.RESIZE_FINISH, {"status": "finished"}, vm_state=st.RESIZED, task_state=None,
                  power_state=int(power), progress=100)
        self.records.event(instance.id, _action(instance), "compute_finish_resize", "Success")

    def _copy_disks(self, instance: Instance, migration: Migration, spec) -> None:
        """The stopped source's disks served to the destination, copied there, no longer served."""
        if _exists(self.hosts.driver(migration.dest_compute), instance.id):
            return  # made there already: a repeated step
        source = self.hosts.driver(migration.source_compute)
        if not _exists(source, instance.id):
            return  # the source lost the guest and its disks: the destination makes it anew
        uri = source.export_disks(instance.id, self.hosts.address(migration.source_compute) or "127.0.0.1")
        try:
            self.hosts.driver(migration.dest_compute).import_disks(spec, uri)
        finally:
            source.end_export(instance.id)

    def confirm(self, instance: Instance) -> None:
        migration = self._migration(instance)
        if migration.dest_compute != migration.source_compute:
            # the source's copy goes; a root disk in Ceph is the one the guest runs on at the destination
            self.hosts.driver(migration.source_compute).release(instance.id)
        self.scheduler.release_migration(migration.uuid)
        self._advance(instance, st.RESIZE_CONFIRMING, {"status": "confirmed"}, task_state=None,
                  vm_state=_settled_state(instance))
        self.records.event(instance.id, "confirmResize", "compute_confirm_resize", "Success")

    def revert(self, instance: Instance) -> None:
        """Old allocation back to the instance, then the guest back to the old flavor on the source."""
        migration = self._migration(instance)
        source, dest = migration.source_compute, migration.dest_compute
        self.scheduler.revert_resize(instance, source, migration.old_flavor, migration.uuid)
        spec = self.specs.spec(instance, flavor=migration.old_flavor)
        driver = self.hosts.driver(source)
        if source == dest:
            _resized(driver, spec)
        else:
            self.hosts.driver(dest).release(instance.id)  # a root disk in Ceph goes back with the guest
            if _exists(driver, instance.id):
                driver.power_on(spec)
            else:
                driver.spawn(spec)  # the source lost the guest while the resize waited: made again there
        if instance.task_args.get(OLD_VM_STATE) == st.STOPPED:
            driver.power_off(instance.id)
        power = driver.instance_info(instance.id).power_state
        # ports and volume attachments back on the source before the server says it is done (as every move's
        # last step: a client that sees ACTIVE finds them where the guest runs)
        self._bind(_moved(instance, source))
        self._advance(instance, st.RESIZE_REVERTING, {"status": "reverted"}, host=source, flavor=migration.old_flavor,
                      task_state=None, vm_state=_settled_state(instance), power_state=int(power))
        self.records.event(instance.id, "revertResize", "compute_revert_resize", "Success")

    def forget(self, instance: Instance) -> None:
        """At delete: a resize waiting for its confirmation leaves a guest and room on the source."""
        with self.db.read() as session:
            migration = latest(session, instance.id)
        if migration is None or migration.status in SETTLED:
            return
        if migration.migration_type == "live-migration" and migration.dest_compute \
                and migration.status in ("preparing", "running"):  # a guest waiting on the destination
            try:
                self.hosts.driver(migration.dest_compute).abort_incoming(instance.id)
            except DriverError:
                pass  # that host is gone, and its guests with it
        if migration.source_compute and migration.source_compute != instance.host \
                and migration.source_compute in self.hosts.names():
            self.hosts.driver(migration.source_compute).release(instance.id)  # the guest's own host deletes it
        self.scheduler.release_migration(migration.uuid)


def _exists(driver, instance_id: str) -> bool:
    return driver.instance_info(instance_id).power_state != PowerState.NOSTATE


def _resized(driver, spec) -> None:
    """The guest on this host with ``spec``'s flavor: resized in place, or made anew if the host no longer has
    it (a kill -9 takes a fake host's guests with the process; a real host may have lost its disks), so a
    resize cut by a crash completes after the restart instead of failing on a guest that is not there."""
    if _exists(driver, spec.uuid):
        driver.resize(spec)
    else:
        driver.spawn(spec)


def _action(instance: Instance) -> str:
    return instance.task_args.get(ACTION, "resize")


def _settled_state(instance: Instance) -> str:
    return st.STOPPED if instance.task_args.get(OLD_VM_STATE) == st.STOPPED else st.ACTIVE


def _moved(instance: Instance, host: str) -> Instance:
    """The (detached) row as it will be on ``host``: what its ports are bound to."""
    instance.host = host
    return instance
