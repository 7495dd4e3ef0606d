"""The server actions (POST /servers/{id}/action): each checks what Nova checks and writes the task the
reconciler carries out, or (lock, reset state) changes the record alone."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import Version
from onestack.services.compute.models import Instance, Migration
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import evacuate, live_migration, rebuild, rescue, resize, shelving
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.servers import Servers

# action -> (policy, task to start, vm_states that allow it, action record name)
POWER = {
    "os-start": ("os_compute_api:servers:start", st.POWERING_ON, (st.STOPPED,), "start"),
    "os-stop": ("os_compute_api:servers:stop", st.POWERING_OFF,
                (st.ACTIVE, st.PAUSED, st.SUSPENDED, st.RESCUED, st.ERROR), "stop"),
    "pause": ("os_compute_api:os-pause-server:pause", st.PAUSING, (st.ACTIVE,), "pause"),
    "unpause": ("os_compute_api:os-pause-server:pause", st.UNPAUSING, (st.PAUSED,), "unpause"),
    "suspend": ("os_compute_api:os-suspend-server:suspend", st.SUSPENDING, (st.ACTIVE,), "suspend"),
    "resume": ("os_compute_api:os-suspend-server:suspend", st.RESUMING, (st.SUSPENDED,), "resume"),
}


class ServerActions:
    def __init__(self, servers: Servers, networking: InstanceNetworking, allow_resize_to_same_host: bool = True,
                 running_hosts: Callable[[], list[str]] = list,
                 rbd_image: Callable[[str], str | None] | None = None):
        """``running_hosts``: the hosts this process runs (up by definition, for evacuate); ``rbd_image``: an
        image's place in Ceph, when guests' root disks are clones there (``compute.images_type: rbd``)."""
        self.rbd_image = rbd_image
        self.servers = servers
        self.networking = networking
        self.allow_resize_to_same_host = allow_resize_to_same_host
        self.running_hosts = running_hosts

    def power(self, ctx: Context, server_id: str, action: str, request_id: str) -> None:
        policy, task, allowed, record = POWER[action]
        self.servers.act(ctx, server_id, policy, lambda session, instance: self.servers.start_task(
            session, ctx, instance, action, task, request_id, allowed, record))

    def reboot(self, ctx: Context, server_id: str, kind, request_id: str) -> None:
        def rebooting(session, instance: Instance) -> None:
            if kind not in ("SOFT", "HARD"):
                raise BadRequest("Invalid input for field/attribute type. Value should be 'SOFT' or 'HARD'.")
            allowed = (st.ACTIVE,) if kind == "SOFT" else (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED, st.ERROR)
            task = st.REBOOTING if kind == "SOFT" else st.REBOOTING_HARD
            self.servers.start_task(session, ctx, instance, "reboot", task, request_id, allowed)

        self.servers.act(ctx, server_id, "os_compute_api:servers:reboot", rebooting)

    def lock(self, ctx: Context, server_id: str, reason: str | None, request_id: str) -> None:
        def locking(session, instance: Instance) -> None:
            self.servers.lock(session, ctx, instance, reason)
            self.servers.record(session, ctx, instance, "lock", request_id)

        self.servers.act(ctx, server_id, "os_compute_api:os-lock-server:lock", locking)

    def unlock(self, ctx: Context, server_id: str, request_id: str) -> None:
        def unlocking(session, instance: Instance) -> None:
            self.servers.unlock(session, ctx, instance)
            self.servers.record(session, ctx, instance, "unlock", request_id)

        self.servers.act(ctx, server_id, "os_compute_api:os-lock-server:unlock", unlocking)

    def reset_state(self, ctx: Context, server_id: str, state: str, request_id: str) -> None:
        """An admin's repair: the server's vm_state written as given, its task dropped; nothing on the host
        changes (Nova's os-resetState)."""
        def resetting(session, instance: Instance) -> None:
            instance.vm_state = st.ACTIVE if state == "active" else st.ERROR
            instance.task_state = None
            self.servers.record(session, ctx, instance, "resetState", request_id)

        self.servers.act(ctx, server_id, "os_compute_api:os-admin-actions:reset_state", resetting, wake=False)

    def inject_network_info(self, ctx: Context, server_id: str) -> None:
        """Re-assert the server's network on its host: its ports made or claimed and bound again (guests take
        their addresses by DHCP and the config drive, so nothing is written inside them)."""
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-admin-actions:inject_network_info")
        if instance.host is not None:
            self.networking.ensure_ports(instance)

    def require_soft_deleted(self, ctx: Context, server_id: str, action: str, policy: str) -> None:
        """restore and forceDelete act on soft-deleted servers; onestack deletes at once (Nova's default
        reclaim_instance_interval of 0), so no server is ever in that state and both answer Nova's 409."""
        st.require(self.servers.show(ctx, server_id, policy), action, (st.SOFT_DELETED,))

    # -- the actions with a module of their own --------------------------------------------------------
    def resize(self, ctx: Context, server_id: str, args: dict, request_id: str) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:servers:resize", lambda session, instance: resize.request(
            self.servers, session, ctx, instance, args, request_id, self.allow_resize_to_same_host))

    def migrate(self, ctx: Context, server_id: str, host: str | None, request_id: str) -> None:
        if host is not None:
            authorize(ctx, "os_compute_api:os-migrate-server:migrate:host")
        self.servers.act(ctx, server_id, "os_compute_api:os-migrate-server:migrate", lambda session, instance:
                         resize.migrate(self.servers, session, ctx, instance, host, request_id))

    def evacuate(self, ctx: Context, server_id: str, host: str | None, stopped_after: bool, request_id: str) -> None:
        running = set(self.running_hosts())
        self.servers.act(ctx, server_id, "os_compute_api:os-evacuate", lambda session, instance: evacuate.request(
            self.servers, session, ctx, instance, host, running, stopped_after, request_id))

    def live_migrate(self, ctx: Context, server_id: str, host: str | None, request_id: str,
                     block_migration=None) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:os-migrate-server:migrate_live", lambda session, instance:
                         live_migration.request(self.servers, session, ctx, instance, host, request_id,
                                                block_migration,
                                                live_migration.shared_storage(instance, self.rbd_image)))

    def server_migrations(self, ctx: Context, server_id: str) -> list[Migration]:
        """The server's live migrations in progress (``GET /servers/{id}/migrations``)."""
        self.servers.show(ctx, server_id, "os_compute_api:servers:migrations:index")
        with self.servers.db.read() as session:
            return list(session.scalars(select(Migration).where(
                Migration.instance_uuid == server_id, Migration.migration_type == "live-migration",
                Migration.status.in_(live_migration.IN_PROGRESS)).order_by(Migration.id)))

    def server_migration(self, ctx: Context, server_id: str, migration_id: int) -> Migration:
        instance = self.servers.show(ctx, server_id, "os_compute_api:servers:migrations:show")
        with self.servers.db.read() as session:
            row = session.scalars(select(Migration).where(Migration.id == migration_id,
                                                          Migration.instance_uuid == server_id)).first()
        if row is None or row.migration_type != "live-migration" or row.status not in live_migration.IN_PROGRESS:
            raise NotFound(f"In-progress live migration {migration_id} is not found for server {instance.id}.")
        return row

    def force_complete(self, ctx: Context, server_id: str, migration_id: int, request_id: str) -> None:
        def forcing(session, instance: Instance) -> None:
            self.servers.check_lock(ctx, instance)
            row = live_migration.running(session, instance, migration_id)
            live_migration.flag(session, instance, row, live_migration.FORCE_COMPLETE, ("running",))
            self.servers.record(session, ctx, instance, "live_migration_force_complete", request_id)

        self.servers.act(ctx, server_id, "os_compute_api:servers:migrations:force_complete", forcing)

    def abort_migration(self, ctx: Context, server_id: str, migration_id: int, also_before_running: bool,
                        request_id: str) -> None:
        """Cancel a live migration: while it runs, and (from 2.65) while it is queued or being prepared."""
        allowed = ("accepted", "queued", "preparing", "running") if also_before_running else ("running",)

        def aborting(session, instance: Instance) -> None:
            self.servers.check_lock(ctx, instance)
            row = live_migration.running(session, instance, migration_id)
            live_migration.flag(session, instance, row, live_migration.ABORT, allowed)
            self.servers.record(session, ctx, instance, "live_migration_abort", request_id)

        self.servers.act(ctx, server_id, "os_compute_api:servers:migrations:delete", aborting)

    def confirm_resize(self, ctx: Context, server_id: str, request_id: str) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:servers:confirm_resize",
                         lambda session, instance: resize.confirm(self.servers, session, ctx, instance, request_id))

    def revert_resize(self, ctx: Context, server_id: str, request_id: str) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:servers:revert_resize",
                         lambda session, instance: resize.revert(self.servers, session, ctx, instance, request_id))

    def rebuild(self, ctx: Context, server_id: str, args: dict, request_id: str,
                version: Version | None = None) -> Instance:
        return self.servers.act(ctx, server_id, "os_compute_api:servers:rebuild", lambda session, instance:
                                rebuild.request(self.servers, session, ctx, instance, args, request_id, version))

    def shelve_offload(self, ctx: Context, server_id: str, request_id: str) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:os-shelve:shelve_offload", lambda session, instance:
                         shelving.offload(self.servers, session, ctx, instance, request_id))

    def unshelve(self, ctx: Context, server_id: str, where: dict, request_id: str) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:os-shelve:unshelve", lambda session, instance:
                         shelving.unshelve(self.servers, session, ctx, instance, request_id, where))

    def rescue(self, ctx: Context, server_id: str, image_ref: str | None, request_id: str, version: Version) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:os-rescue", lambda session, instance: rescue.rescue(
            self.servers, session, ctx, instance, image_ref, request_id, version))

    def unrescue(self, ctx: Context, server_id: str, request_id: str) -> None:
        self.servers.act(ctx, server_id, "os_compute_api:os-unrescue", lambda session, instance: rescue.unrescue(
            self.servers, session, ctx, instance, request_id))
