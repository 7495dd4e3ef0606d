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

from onestack.drivers.compute import PowerState
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service import snapshots
from onestack.services.compute.service.servers import authorize

# ``task_args`` key of the image an unshelve spawns from (the engine's spec reads it)
SHELVED_IMAGE = "shelved_image"
SHELVE_STATES = (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED)


def shelved_name(instance: Instance) -> str:
    return f"{instance.name}-shelved"


def unshelve(compute, session: Session, ctx: Context, instance: Instance, request_id: str,
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
        if zone is not None and zone not in compute.availability_zones(session):
            raise BadRequest(f"The requested availability zone is not available: {zone}")
        instance.requested_availability_zone, instance.availability_zone = zone, zone or "nova"
    if "host" in args:
        authorize(ctx, "os_compute_api:os-shelve:unshelve_to_host", instance)
        if session.scalar(select(ComputeHost.id).where(ComputeHost.host == args["host"])) is None:
            raise BadRequest(f"Compute host {args['host']} could not be found.")
        task_args[st.REQUESTED_HOST] = args["host"]
    compute.servers.start_task(session, ctx, instance, "unshelve", st.UNSHELVING, request_id,
                               (st.SHELVED, st.SHELVED_OFFLOADED), task_args=task_args)


def offload(compute, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    compute.servers.start_task(session, ctx, instance, "shelveOffload", st.SHELVING_OFFLOADING, request_id,
                               (st.SHELVED,), task_args=dict(instance.task_args or {}))


def forget_shelved_image(engine, instance: Instance) -> None:
    image = (instance.task_args or {}).get(SHELVED_IMAGE) or (instance.task_args or {}).get(snapshots.IMAGE_ID)
    if image:
        snapshots.delete_image(engine.compute, instance, image)


class ShelveSteps:
    def __init__(self, engine):
        self.engine = engine
        self.compute = engine.compute

    def stop_and_snapshot(self, instance: Instance) -> None:
        """The guest stops before its disk is saved, so the image is consistent."""
        self.compute.hosts.driver(instance.host).power_off(instance.id)
        self.snapshot.snapshot(instance)

    def offload(self, instance: Instance) -> None:
        if instance.host is not None:
            self.compute.hosts.driver(instance.host).destroy(instance.id)
        self.compute.scheduler.release(instance)
        self.compute.networking.unbind_ports(instance)
        self.engine._advance(instance.id, st.SHELVING_OFFLOADING, vm_state=st.SHELVED_OFFLOADED, task_state=None,
                             host=None, power_state=int(PowerState.NOSTATE))
        self.engine._event(instance.id, None, "compute_shelve_offload_instance", "Success")

    def unshelve(self, instance: Instance) -> None:
        """Still on its host (not yet offloaded): start it again; offloaded: schedule it as a boot does."""
        if instance.host is None:
            self.compute.scheduler.place(instance, lambda host: self.engine._advance(
                instance.id, st.UNSHELVING, host=host, task_state=st.NETWORKING))
            return
        driver = self.compute.hosts.driver(instance.host)
        driver.power_on(self.engine.spec(instance))
        power = driver.instance_info(instance.id).power_state
        if self.engine._advance(instance.id, st.UNSHELVING, vm_state=st.ACTIVE, task_state=None,
                                power_state=int(power), task_args={}):
            forget_shelved_image(self.engine, instance)
            self.engine._event(instance.id, "unshelve", "compute_unshelve_instance", "Success")

    def table(self) -> dict:
        # after the upload: SHELVED, and offloaded at once (shelved_offload_time 0)
        self.snapshot = snapshots.SnapshotSteps(
            self.engine, (st.SHELVING, st.SHELVING_IMAGE_PENDING_UPLOAD, st.SHELVING_IMAGE_UPLOADING),
            {"vm_state": st.SHELVED, "task_state": st.SHELVING_OFFLOADING,
             "power_state": int(PowerState.SHUTDOWN)}, ("shelve", "compute_shelve_instance"))
        return {**self.snapshot.table(), st.SHELVING: self.stop_and_snapshot, st.SHELVING_OFFLOADING: self.offload,
                st.UNSHELVING: self.unshelve}


def steps(engine) -> dict:
    return ShelveSteps(engine).table()
