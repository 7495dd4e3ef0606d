"""Server rules: what a create request must hold, who sees which servers, and which action each
state allows.  Every change here is a row written in one transaction and a wake-up for the reconciler;
nothing here waits for a guest."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.db.locks import serialise
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound
from onestack.services.compute.models import (
    ComputeHost,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    ServerGroup,
    ServerGroupMember,
)
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import guest_kinds
from onestack.services.compute.service.admission import Admission
from onestack.services.compute.service.boot_volumes import BootVolumes
from onestack.services.compute.service.networking import InstanceNetworking

HOSTNAME_BAD = re.compile(r"[^a-z0-9-]+")


def hostname_for(name: str) -> str:
    """Nova's sanitising of a display name into a hostname."""
    cleaned = HOSTNAME_BAD.sub("-", name.lower().replace("_", "-").replace(" ", "-")).strip("-.")
    return cleaned[:63] or "server"


def check_user_data(user_data: str) -> None:
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("User data needs to be valid base 64.") from None


def auto_disk_config(body: dict, current: bool) -> bool:
    """``OS-DCF:diskConfig`` as a create, update, resize or rebuild body asks it (AUTO: the root partition
    grows to the disk), or ``current`` when the body does not say."""
    asked = body.get("OS-DCF:diskConfig")
    return current if asked is None else asked == "AUTO"


def close_action(session: Session, instance: Instance, action: str | None, event: str, result: str,
                 details: str = "") -> None:
    """Close the instance's latest action (or the latest of kind ``action``) with one event; an ``Error``
    result marks the action's message, as Nova's."""
    stmt = select(InstanceAction).where(InstanceAction.instance_uuid == instance.id)
    if action is not None:
        stmt = stmt.where(InstanceAction.action == action)
    record = session.scalars(stmt.order_by(InstanceAction.id.desc()).limit(1)).first()
    if record is None:
        return
    now = utcnow()
    session.add(InstanceActionEvent(action_id=record.id, event=event, host=instance.host, result=result,
                                    traceback=details or None, start_time=record.start_time, finish_time=now))
    record.finish_time = now
    if result == "Error":
        record.message = "Error"


class Servers:
    def __init__(self, db: Database, admission: Admission, networking: InstanceNetworking,
                 wake: Callable[[str], None], boot_volumes: BootVolumes | None = None):
        """``wake``: hands an instance to the reconciler once its row says what to do; ``boot_volumes``: the
        volumes servers are built with (``block_device_mapping_v2``)."""
        self.db = db
        self.admission = admission
        self.networking = networking
        self.wake = wake
        self.boot_volumes = boot_volumes or BootVolumes(db, admission, None)

    # -- reading -------------------------------------------------------------------------
    def get(self, session: Session, ctx: Context, server_id: str, *, deleted_ok: bool = False) -> Instance:
        instance = session.get(Instance, server_id)
        if instance is None or (instance.deleted and not deleted_ok) or not self.visible(ctx, instance):
            raise NotFound(f"Instance {server_id} could not be found.")
        return instance

    @staticmethod
    def visible(ctx: Context, instance: Instance) -> bool:
        return ctx.is_admin or instance.project_id == ctx.project_id

    def show(self, ctx: Context, server_id: str, policy: str, *, deleted_ok: bool = False) -> Instance:
        """The server, once the caller may apply ``policy`` to it (404 when it cannot see it)."""
        with self.db.read() as session:
            instance = self.get(session, ctx, server_id, deleted_ok=deleted_ok)
        authorize(ctx, policy, instance)
        return instance

    def act(self, ctx: Context, server_id: str, policy: str,
            change: Callable[[Session, Instance], None] | None = None, *, wake: bool = True) -> Instance:
        """Find the server, check ``policy``, let ``change(session, instance)`` write what it asks for in
        one transaction, then hand the instance to the reconciler."""
        with self.db.write() as session:
            instance = self.get(session, ctx, server_id)
            authorize(ctx, policy, instance)
            if change is not None:
                change(session, instance)
        if wake:
            self.wake(instance.id)
        return instance

    # -- create ----------------------------------------------------------------------------
    def create(self, ctx: Context, server: dict, hints: dict, request_id: str) -> list[Instance]:
        """Rows for ``min_count``..``max_count`` servers in state BUILD/scheduling, handed to the reconciler.
        What the request names is checked first (the network service's checks in their own transactions);
        quotas and the rows in one write."""
        authorize(ctx, "os_compute_api:servers:create")
        admission = self.admission
        with self.db.read() as session:
            flavor = admission.flavor_for_boot(session, ctx, str(server["flavorRef"]).rstrip("/").rsplit("/", 1)[-1])
        image_ref = server.get("imageRef") or ""
        image_ref, volumes, image = self.boot_volumes.requested(
            ctx, server, flavor, image_ref.rstrip("/").rsplit("/", 1)[-1],
            int(server.get("max_count", server.get("min_count", 1))))
        guest_kind = (guest_kinds.of_image(admission.check_image(ctx, image_ref, flavor, known=image)) if image_ref
                      else guest_kinds.VM)
        key_name, key_data = server.get("key_name"), None
        with self.db.read() as session:
            if key_name is not None:
                key_data = admission.keypair_for_boot(session, ctx, key_name)
            user_data = server.get("user_data")
            if user_data is not None:
                check_user_data(user_data)
            az = server.get("availability_zone")
            if az is not None and az not in admission.availability_zones(session):
                raise BadRequest(f"The requested availability zone is not available: {az}")
        networks = self.networking.requested(ctx, server.get("networks"))
        groups = [g["name"] for g in server.get("security_groups") or [{"name": "default"}]]
        if networks:
            self.networking.group_ids(ctx, groups)
        group_id = hints.get("group")
        with self.db.read() as session:
            if group_id is not None and session.get(ServerGroup, group_id) is None:
                raise BadRequest(f"Invalid server group {group_id}")
            low, high = server.get("min_count", 1), server.get("max_count", server.get("min_count", 1))
            if low > high:
                raise BadRequest("min_count must be <= max_count")
            if "hostname" in server and high > 1:
                raise BadRequest("Cannot use 'hostname' with multiple instances")
            destination = self._requested_destination(session, ctx, server)
        with self.db.write() as session:
            admission.check_metadata_quota(session, ctx.project_id, server.get("metadata"))
            count = admission.quota_room(session, ctx, flavor, low, high)
            reservation = f"r-{uuid.uuid4().hex[:8]}"
            made = []
            for index in range(count):
                name = server["name"] if count == 1 else f"{server['name']}-{index + 1}"
                instance = Instance(
                    id=str(uuid.uuid4()), number=self._next_number(session), project_id=ctx.project_id or "",
                    user_id=ctx.user_id, name=name, description=server.get("description"),
                    hostname=server.get("hostname") or hostname_for(name),
                    reservation_id=reservation, launch_index=index, image_ref=image_ref, guest_kind=guest_kind,
                    flavor=flavor,
                    vcpus=flavor["vcpus"], memory_mb=flavor["ram"],
                    key_name=key_name, key_data=key_data, user_data=user_data,
                    config_drive=bool(server.get("config_drive")), metadata_=server.get("metadata") or {},
                    tags=list(dict.fromkeys(server.get("tags") or [])), security_groups=groups,
                    requested_networks=networks, vm_state=st.BUILDING, task_state=st.SCHEDULING,
                    requested_availability_zone=az, availability_zone=az or "nova", server_group_id=group_id,
                    scheduler_hints=hints or None,
                    access_ip_v4=server.get("accessIPv4"), access_ip_v6=server.get("accessIPv6"),
                    trusted_image_certificates=server.get("trusted_image_certificates"), task_args=destination,
                    auto_disk_config=auto_disk_config(server, False))
                session.add(instance)
                session.flush()
                devices = self.boot_volumes.rows(instance.id, volumes)
                self.boot_volumes.name_devices(instance, devices)
                session.add_all(devices)
                if group_id is not None:
                    session.add(ServerGroupMember(group_id=group_id, instance_uuid=instance.id))
                self.record(session, ctx, instance, "create", request_id)
                made.append(instance)
        for instance in made:
            if volumes:
                self.boot_volumes.provision(ctx, instance.id)
            self.wake(instance.id)
        return made

    @staticmethod
    def _requested_destination(session: Session, ctx: Context, server: dict) -> dict:
        """2.74: an admin may name the host (or hypervisor) a server boots on; the scheduler keeps to it."""
        wanted = {server[key] for key in ("host", "hypervisor_hostname") if key in server}
        if not wanted:
            return {}
        authorize(ctx, "compute:servers:create:requested_destination")
        if len(wanted) > 1:
            raise BadRequest("The requested host and hypervisor_hostname name different hosts.")
        host = wanted.pop()
        if session.scalar(select(ComputeHost.id).where(ComputeHost.host == host)) is None:
            raise BadRequest(f"Compute host {host} could not be found.")
        return {st.REQUESTED_HOST: host}

    @staticmethod
    def _next_number(session: Session) -> int:
        # The hypervisor's name for a guest is "instance-%08x" % number, as Nova's instance id.  Creates on
        # several workers take numbers one transaction at a time, or two would read the same maximum.
        serialise(session, "compute.instance.number")
        return (session.scalar(select(func.max(Instance.number))) or 0) + 1

    # -- changes -----------------------------------------------------------------------------
    def record(self, session: Session, ctx: Context, instance: Instance, action: str, request_id: str) -> None:
        session.add(InstanceAction(instance_uuid=instance.id, action=action, request_id=request_id or "",
                                   user_id=ctx.user_id, project_id=ctx.project_id or instance.project_id))

    def check_lock(self, ctx: Context, instance: Instance) -> None:
        # A lock holds off everyone but admins, the owner who locked it included (Nova's check_instance_lock).
        if instance.locked and not ctx.is_admin:
            raise Conflict(f"Instance {instance.id} is locked")

    def start_task(self, session: Session, ctx: Context, instance: Instance, action: str, task: str,
                   request_id: str, vm_states: tuple[str, ...], record_as: str | None = None,
                   task_args: dict | None = None) -> None:
        """Check the state allows ``action``, then hand the instance to the reconciler with ``task`` (and what
        its steps need to know, ``task_args``)."""
        self.check_lock(ctx, instance)
        st.require(instance, action, vm_states)
        guest_kinds.require_supported(instance, action)
        instance.task_state = task
        if task_args is not None:
            instance.task_args = task_args
        self.record(session, ctx, instance, record_as or action, request_id)

    def delete(self, ctx: Context, server_id: str, request_id: str) -> None:
        def deleting(session: Session, instance: Instance) -> None:
            self.check_lock(ctx, instance)
            if instance.task_state == st.DELETING:
                return
            instance.task_state = st.DELETING
            self.record(session, ctx, instance, "delete", request_id)

        self.act(ctx, server_id, "os_compute_api:servers:delete", deleting)

    def update(self, ctx: Context, server_id: str, changes: dict) -> Instance:
        def updating(session: Session, instance: Instance) -> None:
            if "name" in changes:
                instance.name = changes["name"]
            for api, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6"),
                                ("description", "description"), ("hostname", "hostname")):
                if api in changes:
                    setattr(instance, column, changes[api])
            instance.auto_disk_config = auto_disk_config(changes, instance.auto_disk_config)
            instance.updated_at = utcnow()

        return self.act(ctx, server_id, "os_compute_api:servers:update", updating, wake=False)

    def lock(self, session: Session, ctx: Context, instance: Instance, reason: str | None) -> None:
        instance.locked, instance.locked_reason = True, reason
        instance.locked_by = "owner" if instance.project_id == ctx.project_id else "admin"

    @staticmethod
    def unlock(session: Session, ctx: Context, instance: Instance) -> None:
        if instance.locked and instance.locked_by == "admin" and not ctx.is_admin:
            raise Forbidden("Only an admin may unlock an instance an admin locked.")
        instance.locked, instance.locked_by, instance.locked_reason = False, None, None

    def change_security_groups(self, instance_id: str, change: Callable[[list[str]], list[str]]) -> None:
        """The server's own list of groups follows its ports': the server shows it, and ports made later
        (an attach, an unshelve) get it."""
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            instance.security_groups = change(list(instance.security_groups or []))
