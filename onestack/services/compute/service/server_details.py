"""What hangs off a server: its metadata, tags, addresses, the password its guest posted, and the record of
actions taken on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.compute import schemas
from onestack.services.compute.models import Instance, InstanceAction, InstanceActionEvent
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.admission import Admission
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.servers import Servers

MAX_TAGS = 50
# vm_states in which Nova lets tags change
SETTLED = (st.ACTIVE, st.PAUSED, st.RESCUED, st.RESIZED, st.STOPPED, st.SUSPENDED, st.SHELVED, st.SHELVED_OFFLOADED)
TAG_SCHEMA = {"type": "object", "properties": {"tag": schemas.TAG}}


@dataclasses.dataclass(eq=False)
class ServerDetails:
    db: Database
    servers: Servers
    admission: Admission
    networking: InstanceNetworking

    # -- metadata ------------------------------------------------------------------------------------
    def metadata(self, ctx: Context, server_id: str) -> dict:
        return self.servers.show(ctx, server_id, "os_compute_api:server-metadata:index").metadata_

    def change_metadata(self, ctx: Context, server_id: str, change: Callable[[dict], dict]) -> dict:
        """The metadata ``change`` makes of the current one, within the project's metadata quota."""
        with self.db.write() as session:
            instance = self.servers.get(session, ctx, server_id)
            authorize(ctx, "os_compute_api:server-metadata:update", instance)
            self.servers.check_lock(ctx, instance)
            changed = change(dict(instance.metadata_ or {}))
            self.admission.check_metadata_quota(session, instance.project_id, changed)
            instance.metadata_ = changed
            return instance.metadata_

    # -- tags (2.26) ---------------------------------------------------------------------------------
    def tags(self, ctx: Context, server_id: str, policy: str) -> list[str]:
        return list(self.servers.show(ctx, server_id, policy).tags or [])

    def change_tags(self, ctx: Context, server_id: str, policy: str, change: Callable[[list[str]], list[str]],
                    adding: str | None = None) -> list[str]:
        """The tags ``change`` makes of the current ones (at most ``MAX_TAGS``), while the server is settled;
        answers the tags before.  ``adding``: a tag from the path, checked as a body's would be."""
        if adding is not None:
            schemas.check({"tag": adding}, TAG_SCHEMA)
        with self.db.write() as session:
            instance = self.servers.get(session, ctx, server_id)
            authorize(ctx, policy, instance)
            st.require(instance, "update tags", SETTLED, (instance.task_state,))  # Nova looks at vm_state only
            before = list(instance.tags or [])
            after = list(dict.fromkeys(change(before)))
            if len(after) > MAX_TAGS:
                raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
            instance.tags = after
            return before

    # -- addresses -----------------------------------------------------------------------------------
    def addresses(self, ctx: Context, server_id: str) -> dict[str, list[dict]]:
        instance = self.servers.show(ctx, server_id, "os_compute_api:ips:index")
        return self.networking.addresses([instance.id])[instance.id]

    # -- the password its guest posted ---------------------------------------------------------------
    def password(self, ctx: Context, server_id: str) -> str:
        return self.servers.show(ctx, server_id, "os_compute_api:os-server-password:show").password or ""

    def clear_password(self, ctx: Context, server_id: str) -> None:
        def clear(_session, instance: Instance) -> None:
            instance.password = None

        self.servers.act(ctx, server_id, "os_compute_api:os-server-password:clear", clear, wake=False)

    # -- instance actions ------------------------------------------------------------------------------
    def actions(self, ctx: Context, server_id: str) -> list[InstanceAction]:
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id, deleted_ok=True)
            authorize(ctx, "os_compute_api:os-instance-actions:list", instance)
            return list(session.scalars(select(InstanceAction).where(InstanceAction.instance_uuid == instance.id)
                                        .order_by(InstanceAction.id.desc())))

    def action(self, ctx: Context, server_id: str, request_id: str) -> tuple[InstanceAction,
                                                                             list[InstanceActionEvent]]:
        """One action and its events (their tracebacks for admins only)."""
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id, deleted_ok=True)
            authorize(ctx, "os_compute_api:os-instance-actions:list", instance)
            action = session.scalars(select(InstanceAction).where(
                InstanceAction.instance_uuid == instance.id, InstanceAction.request_id == request_id)).first()
            if action is None:
                raise NotFound(f"Action for request_id {request_id} on instance {instance.id} not found")
            events = list(session.scalars(select(InstanceActionEvent)
                                          .where(InstanceActionEvent.action_id == action.id)))
            session.expunge_all()  # what a non-admin is shown is changed below, never written
        if not ctx.is_admin:
            for event in events:
                event.traceback = None
        return action, events
