"""Evacuate (admins): a server whose host is down is made again on another host, as Nova's rebuild there.

Only a host the cloud sees down may be evacuated (its service ``forced_down``, or no heartbeat within
``SERVICE_DOWN_TIME``): a host still up might be running the guest.  The request writes an ``evacuation``
migration and the task ``rebuilding_elsewhere``; a scheduling process's engine (the down host's own cannot)
places the server on another host (or the admin's ``host``) with the migration holding the old host's
allocation and hands the server to that host, whose process binds its ports there, spawns the guest from
its image with its volumes attached again, and lets the old host's room go.  When the old host comes back, its power sync finds a guest no record wants
there and destroys it.  From 2.95 an evacuated server is left stopped, as Nova leaves it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.compute.models import ComputeHost, Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.service.host_records import is_up
from onestack.services.compute.service.resize import MIGRATION, OLD_VM_STATE
from onestack.services.compute.service.servers import Servers

STOPPED_AFTER = "stopped_after"  # 2.95: the server stays stopped on its new host
# Set with the new host once a scheduling process claimed it: from then on the server is that host's, and
# that host's own process (the controller's or a joined host's) makes the guest there.
PLACED = "placed"
EVACUABLE = (st.ACTIVE, st.STOPPED, st.ERROR)


def request(servers: Servers, session: Session, ctx: Context, instance: Instance, host: str | None,
            running: set[str], stopped_after: bool, request_id: str) -> None:
    source = session.scalar(select(ComputeHost).where(ComputeHost.host == instance.host))
    if source is None:
        raise NotFound(f"Compute host {instance.host} could not be found.")
    if host is not None:
        if session.scalar(select(ComputeHost.id).where(ComputeHost.host == host)) is None:
            raise NotFound(f"Compute host {host} could not be found.")
        if host == instance.host:
            raise BadRequest("The target host can't be the same one.")
    if is_up(source, running):
        raise BadRequest(f"Compute service of {instance.host} is still in use.")
    migration = Migration(uuid=str(uuid.uuid4()), instance_uuid=instance.id, status="accepted",
                          migration_type="evacuation", source_compute=instance.host, source_node=instance.host,
                          old_flavor=instance.flavor, new_flavor=instance.flavor,
                          project_id=instance.project_id, user_id=instance.user_id)
    args = {MIGRATION: migration.uuid, OLD_VM_STATE: instance.vm_state, STOPPED_AFTER: stopped_after}
    if host is not None:
        args[st.REQUESTED_HOST] = host
    servers.start_task(session, ctx, instance, "evacuate", st.REBUILDING_ELSEWHERE, request_id, EVACUABLE,
                       task_args=args)
    session.add(migration)
