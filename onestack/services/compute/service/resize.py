"""Resize and cold migration: a server moves to another flavor (resize) or to another host with its own
flavor (migrate, admins), then the user confirms (the old room is freed) or reverts (back where it was).

As in Nova, the resize is recorded as a migration whose uuid becomes a placement consumer: when the
new flavor is claimed, the instance's old allocation moves to the migration in the same write, so
both flavors' room is held while the server waits in VERIFY_RESIZE.  Confirm drops the migration's
allocation; revert gives it back to the instance.  The scheduler may keep the server on its own
host (Nova's ``allow_resize_to_same_host``, on here) and prefers it: the driver then resizes the
guest in place; on another host the guest is spawned there and the source's copy stays, powered
off, until the resize is confirmed (destroyed) or reverted (started again).  ``allow_resize_to_same_host``
off keeps a resize off its own host; a cold migration never stays (libvirt's answer to a migration to the
same host), and an admin may name its destination from 2.56.

The reconciler's steps are in ``reconcile/resize.py``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.compute.models import ComputeHost, Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.service.servers import Servers, auto_disk_config

# What the row remembers between the steps (``Instance.task_args``): the migration, the vm_state to come
# back to, the action recorded (resize or migrate) and whether the guest may stay on its host.
MIGRATION, OLD_VM_STATE, ACTION, SAME_HOST = "migration", "old_vm_state", "action", "same_host"


def request(servers: Servers, session: Session, ctx: Context, instance: Instance, args: dict, request_id: str,
            same_host: bool = True) -> None:
    new = servers.admission.flavor_for_boot(session, ctx, str(args["flavorRef"]).rstrip("/").rsplit("/", 1)[-1])
    old = instance.flavor
    if str(new["id"]) == str(old.get("id")):
        raise BadRequest("When resizing, instances must change flavor!")
    # A volume-backed guest's root disk is its volume: the flavor's disk does not apply to it (Nova's rule).
    if instance.image_ref and new["disk"] == 0 and old.get("disk"):
        raise BadRequest("Resize to zero disk flavor is not allowed.")
    if instance.image_ref and new["disk"] < old.get("disk", 0):
        raise BadRequest("Resizing the root disk down is not allowed.")
    servers.admission.check_image(ctx, instance.image_ref, new, missing_ok=True)
    growth = {"cores": new["vcpus"] - old["vcpus"], "ram": new["ram"] - old["ram"]}
    servers.admission.check_quota(session, instance.project_id, instance.user_id, growth)
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.id, status="pre-migrating",
                          source_compute=instance.host, source_node=instance.host, old_flavor=old, new_flavor=new,
                          project_id=instance.project_id, user_id=instance.user_id)
    old_vm_state = instance.vm_state
    servers.start_task(session, ctx, instance, "resize", st.RESIZE_PREP, request_id, (st.ACTIVE, st.STOPPED),
                       task_args={MIGRATION: migration.uuid, OLD_VM_STATE: old_vm_state, ACTION: "resize",
                                  SAME_HOST: same_host})
    instance.auto_disk_config = auto_disk_config(args, instance.auto_disk_config)
    session.add(migration)


def migrate(servers: Servers, session: Session, ctx: Context, instance: Instance, host: str | None,
            request_id: str) -> None:
    """A cold migration: the same flavor on another host (``host`` if an admin names one, 2.56), through
    the resize's steps, to be confirmed or reverted as a resize is."""
    if host is not None:
        if session.scalar(select(ComputeHost.id).where(ComputeHost.host == host)) is None:
            raise BadRequest(f"Compute host {host} could not be found.")
        if host == instance.host:
            raise BadRequest("The target host can't be the same one.")
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.id, status="pre-migrating",
                          migration_type="migration", source_compute=instance.host, source_node=instance.host,
                          old_flavor=instance.flavor, new_flavor=instance.flavor,
                          project_id=instance.project_id, user_id=instance.user_id)
    args = {MIGRATION: migration.uuid, OLD_VM_STATE: instance.vm_state, ACTION: "migrate", SAME_HOST: False}
    if host is not None:
        args[st.REQUESTED_HOST] = host
    servers.start_task(session, ctx, instance, "migrate", st.RESIZE_PREP, request_id, (st.ACTIVE, st.STOPPED),
                       task_args=args)
    session.add(migration)


def confirm(servers: Servers, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    _finish_request(servers, session, ctx, instance, "confirmResize", st.RESIZE_CONFIRMING, "confirming", request_id)


def revert(servers: Servers, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    _finish_request(servers, session, ctx, instance, "revertResize", st.RESIZE_REVERTING, "reverting", request_id)


def _finish_request(servers: Servers, session, ctx, instance, action, task, status, request_id) -> None:
    args = dict(instance.task_args or {})
    servers.start_task(session, ctx, instance, action, task, request_id, (st.RESIZED,), task_args=args)
    migration = latest(session, instance.id)
    if migration is None:
        raise BadRequest("Instance has not been resized.")
    migration.status = status


def latest(session: Session, instance_id: str) -> Migration | None:
    return session.scalars(select(Migration).where(Migration.instance_uuid == instance_id)
                           .order_by(Migration.id.desc()).limit(1)).first()
