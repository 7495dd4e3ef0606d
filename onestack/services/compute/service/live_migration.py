"""Live migration (``os-migrateLive``, admins): the running guest moves to another host without stopping.

The request writes a ``live-migration`` migration (``accepted``) and the task ``migrating``; the source
host's engine then walks it (``reconcile/live_migration.py``): ``preparing`` (the destination claimed as a
cold migration claims it, the source's allocation held by the migration; a guest waiting for the state on
the destination), ``running`` (the source's driver sends memory and local disks; the engine reads the
progress into the migration row and steers by the cloud's policy), then ``completed`` (the guest runs on
the destination, its ports bound there, the source's copy and room gone) or ``failed``/``cancelled``/
``error`` (the guest carries on on the source, where its ports stay bound, and the destination's copy and
claim are dropped).

The policy is the cloud's, never the operator's: pre-copy with a small allowed downtime raised step by
step; after ``switch_after`` passes, post-copy where the driver armed it (userfaultfd), else auto-converge
where it armed that, else the source paused for one last pass; never compression.  ``force_complete`` switches at once (post-copy, or the source paused);
``DELETE /servers/{id}/migrations/{id}`` cancels.  Both are flags on the instance's task that its engine
acts on at its next look.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.drivers.compute import AUTO_CONVERGE, PAUSED_COPY, POST_COPY, PRE_COPY, MigrationProgress
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.compute.models import ComputeHost, Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.service.resize import MIGRATION
from onestack.services.compute.service.servers import Servers

# task_args flags the API sets for the engine
ABORT, FORCE_COMPLETE = "abort", "force_complete"
# a live migration's statuses that GET /servers/{id}/migrations shows (Nova's "in progress")
IN_PROGRESS = ("queued", "accepted", "preparing", "running", "post-migrating")
LIVE_STATES = (st.ACTIVE, st.PAUSED)


@dataclasses.dataclass(frozen=True)
class Policy:
    """How the cloud drives every live migration (``compute.live_migration_*``)."""

    first_downtime_ms: int = 100
    downtime_step_ms: int = 100
    max_downtime_ms: int = 500
    switch_after: int = 5  # pre-copy passes before post-copy (or auto-converge)
    bandwidth_mib: int = 0  # the most pre-copy sends per second, in MiB (0: no cap)


def steer(progress: MigrationProgress, policy: Policy) -> tuple[int | None, str | None]:
    """What to change in a running migration now: a larger allowed downtime, or another mode (None: as it
    is).  Only pre-copy is steered; post-copy and auto-converge finish on their own."""
    if progress.status != "active" or progress.mode != PRE_COPY:
        return None, None
    if progress.iteration >= policy.switch_after:
        if progress.postcopy_possible:
            return None, POST_COPY
        return None, AUTO_CONVERGE if progress.converge_possible else PAUSED_COPY
    wanted = min(policy.max_downtime_ms, policy.first_downtime_ms + policy.downtime_step_ms * progress.iteration)
    return (wanted, None) if wanted > progress.downtime_ms else (None, None)


def forced_mode(progress: MigrationProgress) -> str:
    """force-complete: post-copy where it was armed, else the source paused so the rest goes at once."""
    return POST_COPY if progress.postcopy_possible else PAUSED_COPY


def shared_storage(instance: Instance, rbd_image: Callable[[str], str | None] | None) -> bool:
    """Whether every disk of the guest is on storage both hosts reach, so only memory moves (Nova's shared
    block storage): a root disk that is a volume or in Ceph (``rbd_image``, given when guests' disks go there:
    a root disk is then a clone of its image, or a raw copy of one the cluster does not keep), and a flavor's
    ephemeral or swap disk only where guests' disks go to Ceph (else they are local files)."""
    flavor = instance.flavor or {}
    if rbd_image is None and (flavor.get("ephemeral") or flavor.get("swap")):
        return False
    if not instance.image_ref:  # booted from a volume
        return True
    return rbd_image is not None


def check_block_migration(instance: Instance, block_migration, shared: bool) -> None:
    """Nova's answers to a ``block_migration`` that does not fit the guest's disks (``auto``: whichever fits)."""
    if block_migration is True and shared:
        raise BadRequest("Block migration can not be used with shared storage.")
    if block_migration is False and not shared:
        raise BadRequest(f"{instance.id} is not on shared storage: Shared storage live-migration requires "
                         f"either shared storage or boot-from-volume with no local disks.")


def request(servers: Servers, session: Session, ctx: Context, instance: Instance, host: str | None,
            request_id: str, block_migration=None, shared: bool = False) -> None:
    """``block_migration``: as asked (True, False, "auto" or None: whichever fits); ``shared``: whether the
    guest's disks are on storage both hosts reach (``shared_storage``)."""
    check_block_migration(instance, block_migration, shared)
    if host is not None:
        if session.scalar(select(ComputeHost.id).where(ComputeHost.host == host)) is None:
            raise BadRequest(f"Compute host {host} could not be found.")
        if host == instance.host:
            raise BadRequest(f"Unable to migrate instance ({instance.id}) to current host ({host}).")
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.id, status="accepted",
                          migration_type="live-migration", source_compute=instance.host,
                          source_node=instance.host, old_flavor=instance.flavor, new_flavor=instance.flavor,
                          project_id=instance.project_id, user_id=instance.user_id)
    args = {MIGRATION: migration.uuid}
    if host is not None:
        args[st.REQUESTED_HOST] = host
    servers.start_task(session, ctx, instance, "live-migration", st.MIGRATING, request_id, LIVE_STATES,
                       task_args=args)
    session.add(migration)


def running(session: Session, instance: Instance, migration_id: int) -> Migration:
    """The server's live migration ``migration_id`` (404 if it has none such)."""
    row = session.scalars(select(Migration).where(Migration.id == migration_id,
                                                  Migration.instance_uuid == instance.id)).first()
    if row is None:
        raise NotFound(f"Migration {migration_id} could not be found for server {instance.id}.")
    if row.migration_type != "live-migration":
        raise BadRequest(f"Migration {migration_id} for server {instance.id} is not a live migration.")
    return row


def flag(session: Session, instance: Instance, migration: Migration, what: str, allowed: tuple[str, ...]) -> None:
    """Ask the engine to abort or force-complete ``migration`` (Nova's 400 when its state does not allow it)."""
    verb = "abort live migration" if what == ABORT else "force_complete"
    if migration.status not in allowed or instance.task_state != st.MIGRATING:
        raise BadRequest(f"Migration {migration.id} state of instance {instance.id} is {migration.status}. "
                         f"Cannot {verb} while the migration is in this state.")
    instance.task_args = {**(instance.task_args or {}), what: True}


def progress_columns(progress: MigrationProgress) -> dict:
    return {key: getattr(progress, key) for key in ("memory_total", "memory_processed", "memory_remaining",
                                                    "disk_total", "disk_processed", "disk_remaining")}
