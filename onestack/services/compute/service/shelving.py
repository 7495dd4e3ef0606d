"""Shelve, shelve-offload, unshelve.

Shelving saves the root disk as an image named ``<server>-shelved`` (the snapshot steps, with the
shelving task names) and stops the guest: SHELVED.  Nova's default ``shelved_offload_time`` is 0, so
the server is offloaded at once: the guest is destroyed on its host and the host's room given back to
placement, while its ports stay (unbound): SHELVED_OFFLOADED.  Unshelving schedules the server again
and spawns it from the shelved image (the create path's networking and spawning steps), after which
the shelved image is deleted.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import snapshots
from onestack.services.compute.service.servers import Servers

# ``task_args`` key of the image an unshelve spawns from (the reconciler's spec reads it)
SHELVED_IMAGE = "shelved_image"
SHELVE_STATES = (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED)


def shelved_name(instance: Instance) -> str:
    return f"{instance.name}-shelved"


def unshelve(servers: Servers, session: Session, ctx: Context, instance: Instance, request_id: str,
             args: dict | None = None) -> None:
    """``args``: where an offloaded server goes, an availability zone (2.77; null unpins it, 2.91) or, for
    admins, a host (2.91), which the scheduler keeps to."""
    args = args or {}
    image = (instance.task_args or {}).get(snapshots.IMAGE_ID)
    task_args = {SHELVED_IMAGE: image} if image else {}
    if args and instance.vm_state != st.SHELVED_OFFLOADED:
        raise Conflict(f"The server {instance.id} is not offloaded: it stays on its host when unshelved.")
    if "availability_zone" in args:
        zone = args["availability_zone"]
        if zone is not None and zone not in servers.admission.availability_zones(session):
            raise BadRequest(f"The requested availability zone is not available: {zone}")
        instance.requested_availability_zone, instance.availability_zone = zone, zone or "nova"
    if "host" in args:
        authorize(ctx, "os_compute_api:os-shelve:unshelve_to_host", instance)
        if session.scalar(select(ComputeHost.id).where(ComputeHost.host == args["host"])) is None:
            raise BadRequest(f"Compute host {args['host']} could not be found.")
        task_args[st.REQUESTED_HOST] = args["host"]
    servers.start_task(session, ctx, instance, "unshelve", st.UNSHELVING, request_id,
                               (st.SHELVED, st.SHELVED_OFFLOADED), task_args=task_args)


def offload(servers: Servers, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    servers.start_task(session, ctx, instance, "shelveOffload", st.SHELVING_OFFLOADING, request_id,
                               (st.SHELVED,), task_args=dict(instance.task_args or {}))
