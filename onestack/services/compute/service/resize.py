"""Resize: a server moves to another flavor, then the user confirms (the old flavor's room is freed) or
reverts (back to the old flavor).

As in Nova, the resize is recorded as a migration whose uuid becomes a placement consumer: when the
new flavor is claimed, the instance's old allocation moves to the migration in the same write, so
both flavors' room is held while the server waits in VERIFY_RESIZE.  Confirm drops the migration's
allocation; revert gives it back to the instance.  The scheduler may keep the server on its own
host (Nova's ``allow_resize_to_same_host``, on here) and prefers it: the driver then resizes the
guest in place; on another host the guest is spawned there and the source's copy stays, powered
off, until the resize is confirmed (destroyed) or reverted (started again).

Engine steps: resize_prep (claim) -> resize_migrating (source guest stops if it moves) ->
resize_migrated (the row switches host and flavor) -> resize_finish (the driver) -> VERIFY_RESIZE.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.models import states as st

# What the row remembers between the steps (``Instance.task_args``).
MIGRATION, OLD_VM_STATE = "migration", "old_vm_state"


# -- requests (the API's side) -----------------------------------------------------------------------
def request(compute, session: Session, ctx: Context, instance: Instance, flavor_ref: str, request_id: str) -> None:
    new = compute.flavor_for_boot(session, ctx, str(flavor_ref).rstrip("/").rsplit("/", 1)[-1])
    old = instance.flavor
    if str(new["id"]) == str(old.get("id")):
        raise BadRequest("When resizing, instances must change flavor!")
    if new["disk"] == 0 and old.get("disk"):
        raise BadRequest("Resize to zero disk flavor is not allowed.")
    if new["disk"] < old.get("disk", 0):
        raise BadRequest("Resizing the root disk down is not allowed.")
    compute.check_image(ctx, instance.image_ref, new, missing_ok=True)
    growth = {"cores": new["vcpus"] - old["vcpus"], "ram": new["ram"] - old["ram"]}
    compute.check_quota(session, instance.project_id, instance.user_id, growth)
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.id, status="pre-migrating",
                          source_compute=instance.host, source_node=instance.host, old_flavor=old, new_flavor=new,
                          project_id=instance.project_id, user_id=instance.user_id)
    old_vm_state = instance.vm_state
    compute.servers.start_task(session, ctx, instance, "resize", st.RESIZE_PREP, request_id, (st.ACTIVE, st.STOPPED),
                               task_args={MIGRATION: migration.uuid, OLD_VM_STATE: old_vm_state})
    session.add(migration)


def confirm(compute, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    _finish_request(compute, session, ctx, instance, "confirmResize", st.RESIZE_CONFIRMING, "confirming", request_id)


def revert(compute, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    _finish_request(compute, session, ctx, instance, "revertResize", st.RESIZE_REVERTING, "reverting", request_id)


def _finish_request(compute, session, ctx, instance, action, task, status, request_id) -> None:
    args = dict(instance.task_args or {})
    compute.servers.start_task(session, ctx, instance, action, task, request_id, (st.RESIZED,), task_args=args)
    migration = latest(session, instance.id)
    if migration is None:
        raise BadRequest("Instance has not been resized.")
    migration.status = status


def latest(session: Session, instance_id: str) -> Migration | None:
    return session.scalars(select(Migration).where(Migration.instance_uuid == instance_id)
                           .order_by(Migration.id.desc()).limit(1)).first()


# -- engine steps -------------------------------------------------------------------------------------
class ResizeSteps:
    def __init__(self, engine):
        self.engine = engine
        self.compute = engine.compute

    def _migration(self, instance: Instance) -> Migration:
        with self.engine.db.read() as session:
            return session.scalars(select(Migration).where(
                Migration.uuid == instance.task_args[MIGRATION])).one()

    def _set(self, instance: Instance, expected_task: str, migration: dict, **changes) -> bool:
        """Advance the instance and its migration row in one transaction."""
        with self.engine.db.write() as session:
            row = session.get(Instance, instance.id)
            if row is None or row.task_state != expected_task:
                return False
            for key, value in changes.items():
                setattr(row, key, value)
            record = session.scalars(select(Migration).where(Migration.uuid == row.task_args[MIGRATION])).one()
            for key, value in migration.items():
                setattr(record, key, value)
            return True

    def prep(self, instance: Instance) -> None:
        """Claim the new flavor (moving the old allocation to the migration): a repeat rewrites the same."""
        migration = self._migration(instance)
        dest = self.compute.scheduler.place_resize(instance, migration.new_flavor, migration.uuid)
        self._set(instance, st.RESIZE_PREP, {"status": "migrating", "dest_compute": dest, "dest_node": dest,
                                             "dest_host": self.compute.hosts.address(dest)},
                  task_state=st.RESIZE_MIGRATING)

    def migrate(self, instance: Instance) -> None:
        migration = self._migration(instance)
        if migration.dest_compute != migration.source_compute:
            self.compute.hosts.driver(migration.source_compute).power_off(instance.id)
        self._set(instance, st.RESIZE_MIGRATING, {"status": "post-migrating"}, task_state=st.RESIZE_MIGRATED)

    def migrated(self, instance: Instance) -> None:
        """The row now describes the guest on its destination with the new flavor; its ports follow it."""
        migration = self._migration(instance)
        self.compute.networking.ensure_ports(_moved(instance, migration.dest_compute))
        self._set(instance, st.RESIZE_MIGRATED, {}, host=migration.dest_compute, flavor=migration.new_flavor,
                  task_state=st.RESIZE_FINISH)

    def finish(self, instance: Instance) -> None:
        migration = self._migration(instance)
        driver = self.compute.hosts.driver(migration.dest_compute)
        spec = self.engine.spec(instance)
        if migration.dest_compute == migration.source_compute:
            driver.resize(spec)
        else:
            driver.spawn(spec)
        if instance.task_args.get(OLD_VM_STATE) == st.STOPPED:
            driver.power_off(instance.id)  # a stopped server stays stopped, as in Nova
        power = driver.instance_info(instance.id).power_state
        self._set(instance, st.RESIZE_FINISH, {"status": "finished"}, vm_state=st.RESIZED, task_state=None,
                  power_state=int(power), progress=100)
        self.engine._event(instance.id, "resize", "compute_finish_resize", "Success")

    def confirm(self, instance: Instance) -> None:
        migration = self._migration(instance)
        if migration.dest_compute != migration.source_compute:
            self.compute.hosts.driver(migration.source_compute).destroy(instance.id)
        self.compute.placement.release(migration.uuid)
        self._set(instance, st.RESIZE_CONFIRMING, {"status": "confirmed"}, task_state=None,
                  vm_state=self._settled_state(instance))
        self.engine._event(instance.id, "confirmResize", "compute_confirm_resize", "Success")

    def revert(self, instance: Instance) -> None:
        """Old allocation back to the instance, then the guest back to the old flavor on the source."""
        migration = self._migration(instance)
        source, dest = migration.source_compute, migration.dest_compute
        self.compute.scheduler.revert_resize(instance, source, migration.old_flavor, migration.uuid)
        spec = self.engine.spec(instance, flavor=migration.old_flavor)
        driver = self.compute.hosts.driver(source)
        if source == dest:
            driver.resize(spec)
        else:
            self.compute.hosts.driver(dest).destroy(instance.id)
            driver.power_on(spec)
        if instance.task_args.get(OLD_VM_STATE) == st.STOPPED:
            driver.power_off(instance.id)
        power = driver.instance_info(instance.id).power_state
        self._set(instance, st.RESIZE_REVERTING, {"status": "reverted"}, host=source, flavor=migration.old_flavor,
                  task_state=None, vm_state=self._settled_state(instance), power_state=int(power))
        self.compute.networking.ensure_ports(_moved(instance, source))
        self.engine._event(instance.id, "revertResize", "compute_revert_resize", "Success")

    @staticmethod
    def _settled_state(instance: Instance) -> str:
        return st.STOPPED if instance.task_args.get(OLD_VM_STATE) == st.STOPPED else st.ACTIVE

    def forget(self, instance: Instance) -> None:
        """At delete: a resize waiting for its confirmation leaves a guest and room on the source."""
        with self.engine.db.read() as session:
            migration = latest(session, instance.id)
        if migration is None or migration.status in ("confirmed", "reverted"):
            return
        if migration.source_compute and migration.source_compute != instance.host \
                and migration.source_compute in self.compute.hosts.names():
            self.compute.hosts.driver(migration.source_compute).destroy(instance.id)
        self.compute.placement.release(migration.uuid)


def _moved(instance: Instance, host: str) -> Instance:
    """The (detached) row as it will be on ``host``: what its ports are bound to."""
    instance.host = host
    return instance


def steps(engine) -> dict:
    resize = ResizeSteps(engine)
    engine.resizes = resize
    return {st.RESIZE_PREP: resize.prep, st.RESIZE_MIGRATING: resize.migrate, st.RESIZE_MIGRATED: resize.migrated,
            st.RESIZE_FINISH: resize.finish, st.RESIZE_CONFIRMING: resize.confirm,
            st.RESIZE_REVERTING: resize.revert}

