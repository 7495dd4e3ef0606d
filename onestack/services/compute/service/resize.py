"""Resize: a server moves to another flavor, then the user confirms (the old flavor's room is freed) or
reverts (back to the old flavor).

As in Nova, the resize is recorded as a migration whose uuid becomes a placement consumer: when the
new flavor is claimed, the instance's old allocation moves to the migration in the same write, so
both flavors' room is held while the server waits in VERIFY_RESIZE.  Confirm drops the migration's
allocation; revert gives it back to the instance.  The scheduler may keep the server on its own
host (Nova's ``allow_resize_to_same_host``, on here) and prefers it: the driver then resizes the
guest in place; on another host the guest is spawned there and the source's copy stays, powered
off, until the resize is confirmed (destroyed) or reverted (started again).

The reconciler's steps are in ``reconcile/resize.py``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.service.servers import Servers

# What the row remembers between the steps (``Instance.task_args``).
MIGRATION, OLD_VM_STATE = "migration", "old_vm_state"


def request(servers: Servers, session: Session, ctx: Context, instance: Instance, flavor_ref: str, request_id: str) -> None:
    new = servers.admission.flavor_for_boot(session, ctx, str(flavor_ref).rstrip("/").rsplit("/", 1)[-1])
    old = instance.flavor
    if str(new["id"]) == str(old.get("id")):
        raise BadRequest("When resizing, instances must change flavor!")
    if new["disk"] == 0 and old.get("disk"):
        raise BadRequest("Resize to zero disk flavor is not allowed.")
    if new["disk"] < old.get("disk", 0):
        raise BadRequest("Resizing the root disk down is not allowed.")
    servers.admission.check_image(ctx, instance.image_ref, new, missing_ok=True)
    growth = {"cores": new["vcpus"] - old["vcpus"], "ram": new["ram"] - old["ram"]}
    servers.admission.check_quota(session, instance.project_id, instance.user_id, growth)
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.id, status="pre-migrating",
                          source_compute=instance.host, source_node=instance.host, old_flavor=old, new_flavor=new,
                          project_id=instance.project_id, user_id=instance.user_id)
    old_vm_state = instance.vm_state
    servers.start_task(session, ctx, instance, "resize", st.RESIZE_PREP, request_id, (st.ACTIVE, st.STOPPED),
                               task_args={MIGRATION: migration.uuid, OLD_VM_STATE: old_vm_state})
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
