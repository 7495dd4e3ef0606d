"""``OrchestrationService``: Orchestration's domain rules, the only layer that opens transactions.

Stacks are desired state: a request writes the definition and the action (``stacks``); the engine
(``reconcile``) converges the stack's resources to it through the other services' public HTTP APIs,
acting with the owner's trust.  Reads answer from the database alone.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from sqlalchemy import select

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound, Unauthorized
from onestack.services.orchestration.models import Stack, StackEvent, StackResource, StackSnapshot
from onestack.services.orchestration.policies import authorize
from onestack.services.orchestration.service import hooks, presign, preview
from onestack.services.orchestration.service.cloud import Cloud, ServiceUser
from onestack.services.orchestration.service.definition import Definition
from onestack.services.orchestration.service.hot import versions
from onestack.services.orchestration.service.listing import flag
from onestack.services.orchestration.service.remote import Remote
from onestack.services.orchestration.service.resources import TYPES, implementation
from onestack.services.orchestration.service.resources.base import ResourceFailure
from onestack.services.orchestration.service.resources.nested import AutoScalingGroup, ScalingPolicy
from onestack.services.orchestration.service.software import Software
from onestack.services.orchestration.service.stacks import (
    Stacks,
    begin,
    check_template_only,
    definition_of,
    event,
)


class OrchestrationService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.cloud = Cloud(f"{settings.base_url}/identity", settings.region)
        self._wakers: list[Callable[[str], None]] = []
        self.remote = Remote(settings)
        self.stacks = Stacks(db, self.cloud, self.wake, self.remote)
        self.software = Software(db)

    # -- wiring ------------------------------------------------------------------------------------------
    def use_service_user(self, user: ServiceUser) -> None:
        """The cloud's orchestration user, the trustee of every stack (bootstrap makes it)."""
        self.cloud.user = user

    def on_change(self, waker: Callable[[str], None]) -> None:
        """Call ``waker(stack_id)`` after every commit that gives a stack an action (the engine listens)."""
        self._wakers.append(waker)

    def wake(self, stack_id: str) -> None:
        for waker in self._wakers:
            waker(stack_id)

    # -- finding stacks ----------------------------------------------------------------------------------
    def find(self, ctx: Context, project_id: str, ref: str, action: str, *, deleted: bool = False) -> Stack:
        """The stack named or identified by ``ref`` in ``project_id``; another project's is a 404."""
        authorize(ctx, action, project_id)
        with self.db.read() as session:
            stmt = select(Stack).where(Stack.project_id == project_id, (Stack.id == ref) | (Stack.name == ref))
            if not deleted:
                stmt = stmt.where(Stack.deleted_at.is_(None))
            stack = session.scalars(stmt.order_by(Stack.created_at.desc())).first()
        if stack is None:
            raise NotFound(f"The Stack ({ref}) could not be found.", kind="EntityNotFound")
        return stack

    def get(self, ctx: Context, project_id: str, name: str, stack_id: str, action: str) -> Stack:
        stack = self.find(ctx, project_id, stack_id, action, deleted=True)
        if stack.id != stack_id or stack.name != name:
            raise NotFound(f"The Stack ({name}) could not be found.", kind="EntityNotFound")
        return stack

    def listing(self, ctx: Context, project_id: str, query) -> list[Stack]:
        authorize(ctx, "stacks:index", project_id)
        everyone = flag(query.get("global_tenant"))
        if everyone:
            authorize(ctx, "stacks:global_index", project_id)
        with self.db.read() as session:
            stmt = select(Stack)
            if not everyone:
                stmt = stmt.where(Stack.project_id == project_id)
            if not flag(query.get("show_deleted")):
                stmt = stmt.where(Stack.deleted_at.is_(None))
            if not flag(query.get("show_nested")) and not query.get("owner_id"):
                stmt = stmt.where(Stack.owner_id.is_(None))
            return list(session.scalars(stmt))

    def children(self, stack: Stack) -> list[Stack]:
        """The stacks that stand for ``stack``'s resources (nested stacks), by the resource's name."""
        with self.db.read() as session:
            return list(session.scalars(select(Stack).where(Stack.owner_id == stack.id,
                                                            Stack.deleted_at.is_(None))))

    # -- changing stacks ---------------------------------------------------------------------------------
    def create(self, ctx: Context, project_id: str, body: dict, *, preview: bool = False) -> Stack:
        authorize(ctx, "stacks:preview" if preview else "stacks:create", project_id)
        return self.stacks.create(ctx, body, preview=preview)

    def update(self, ctx: Context, stack: Stack, body: dict, *, patch: bool) -> None:
        authorize(ctx, "stacks:update_patch" if patch else "stacks:update", stack.project_id)
        self.stacks.update(stack, body, patch=patch)

    def preview_update(self, ctx: Context, stack: Stack, body: dict, *, patch: bool, show_nested: bool = False
                       ) -> list[preview.Change]:
        """What an update with ``body`` would do to each resource, by the engine's own comparison (nothing
        is changed), and with ``show_nested`` to the resources of its nested stacks (``preview``)."""
        authorize(ctx, "stacks:preview_update_patch" if patch else "stacks:preview_update", stack.project_id)
        if stack.deleted_at is not None:
            raise NotFound(f"The Stack ({stack.name}) could not be found.", kind="EntityNotFound")
        candidate = self.stacks.candidate(stack, body, patch=patch)

        def rows(stack_id: str) -> list[StackResource]:
            with self.db.read() as session:
                return list(session.scalars(select(StackResource).where(StackResource.stack_id == stack_id)
                                            .order_by(StackResource.created_at)))

        def child(stack_id: str) -> Stack | None:
            with self.db.read() as session:
                found = session.get(Stack, stack_id)
                return found if found is not None and found.deleted_at is None else None

        return preview.Preview(rows, child, show_nested).stack(stack, candidate)

    def delete(self, ctx: Context, stack: Stack) -> None:
        authorize(ctx, "stacks:delete", stack.project_id)
        if stack.deleted_at is not None:
            raise NotFound(f"The Stack ({stack.name}) could not be found.", kind="EntityNotFound")
        self.stacks.delete(stack)

    def cancel_update(self, ctx: Context, stack: Stack, rollback: bool) -> None:
        authorize(ctx, "actions:cancel_update" if rollback else "actions:cancel_without_rollback",
                  stack.project_id)
        self.stacks.cancel_update(stack, rollback)

    def abandon(self, ctx: Context, stack: Stack) -> dict:
        authorize(ctx, "stacks:abandon", stack.project_id)
        if stack.deleted_at is not None:
            raise NotFound(f"The Stack ({stack.name}) could not be found.", kind="EntityNotFound")
        return self.stacks.abandon(stack)

    # -- snapshots -----------------------------------------------------------------------------------------
    def snapshots(self, ctx: Context, stack: Stack) -> list[StackSnapshot]:
        authorize(ctx, "stacks:list_snapshots", stack.project_id)
        with self.db.read() as session:
            return list(session.scalars(select(StackSnapshot).where(StackSnapshot.stack_id == stack.id)
                                        .order_by(StackSnapshot.created_at)))

    def snapshot(self, ctx: Context, stack: Stack, snapshot_id: str, action: str = "stacks:show_snapshot"
                 ) -> StackSnapshot:
        authorize(ctx, action, stack.project_id)
        with self.db.read() as session:
            found = session.get(StackSnapshot, snapshot_id)
        if found is None or found.stack_id != stack.id:
            raise NotFound(f"The Snapshot ({snapshot_id}) for Stack ({stack.name}) could not be found.",
                           kind="NotFound")
        return found

    def take_snapshot(self, ctx: Context, stack: Stack, name: str | None) -> StackSnapshot:
        authorize(ctx, "stacks:snapshot", stack.project_id)
        return self.stacks.snapshot(stack, name)

    def delete_snapshot(self, ctx: Context, stack: Stack, snapshot_id: str) -> None:
        found = self.snapshot(ctx, stack, snapshot_id, "stacks:delete_snapshot")
        if found.status == "IN_PROGRESS":
            raise Conflict(f"Snapshot {snapshot_id} is being taken", kind="ActionInProgress")
        with self.db.write() as session:
            row = session.get(StackSnapshot, found.id)
            if row is not None:
                session.delete(row)

    def restore_snapshot(self, ctx: Context, stack: Stack, snapshot_id: str) -> None:
        self.stacks.restore(stack, self.snapshot(ctx, stack, snapshot_id, "stacks:restore_snapshot"))

    def act(self, ctx: Context, stack: Stack, action: str) -> None:
        """``suspend``, ``resume`` or ``check`` the stack."""
        authorize(ctx, f"actions:{action}", stack.project_id)
        self.stacks.walk(stack, action.upper())

    # -- a stack's parts -----------------------------------------------------------------------------------
    def definition(self, stack: Stack) -> Definition:
        return definition_of(stack)

    def resources(self, stack: Stack) -> list[StackResource]:
        """The stack's resources as the template now means them (a replaced one's old row is not shown)."""
        with self.db.read() as session:
            rows = session.scalars(select(StackResource).where(StackResource.stack_id == stack.id)
                                   .order_by(StackResource.created_at)).all()
        current = {r.name: r for r in rows if r.current}
        for row in rows:  # a resource whose replacement has not started yet is still the one shown
            current.setdefault(row.name, row)
        return list(current.values())

    def resource(self, stack: Stack, name: str) -> StackResource:
        for row in self.resources(stack):
            if row.name == name:
                return row
        raise NotFound(f"The Resource ({name}) could not be found in Stack {stack.name}.",
                       kind="EntityNotFound")

    def mark_unhealthy(self, ctx: Context, stack: Stack, name: str, body: dict) -> None:
        """Mark a resource unhealthy (``CHECK_FAILED``: the next update replaces it), or healthy again."""
        authorize(ctx, "resource:mark_unhealthy", stack.project_id)
        mark = body.get("mark_unhealthy")
        if not isinstance(mark, bool):
            mark = str(mark).lower() in ("true", "1", "yes") if mark is not None else None
        if mark is None:
            raise BadRequest("mark_unhealthy (a boolean) is required", kind="HTTPBadRequest")
        reason = body.get("resource_status_reason") or ""
        if not isinstance(reason, str):
            raise BadRequest("resource_status_reason must be a string", kind="HTTPBadRequest")
        row = self.resource(stack, name)
        with self.db.write() as session:
            found = session.get(StackResource, row.id)
            if found is None:
                raise NotFound(f"The Resource ({name}) could not be found in Stack {stack.name}.",
                               kind="EntityNotFound")
            if found.status == "IN_PROGRESS":
                raise Conflict(f"Resource {name} is {found.action}_IN_PROGRESS", kind="ActionInProgress")
            if mark:
                found.action, found.status = "CHECK", "FAILED"
                found.status_reason = reason or "Marked unhealthy"
            elif found.action == "CHECK" and found.status == "FAILED":
                found.status, found.status_reason = "COMPLETE", reason or "Marked healthy"
            else:
                return
            event(session, stack, found.action, found.status, found.status_reason, resource=found)

    def signal_with_token(self, project_id: str, name: str, stack_id: str, resource: str, token: str | None,
                          body, signature: str | None = None) -> bool:
        """Deliver a signal that presents the resource's own signal token, or a pre-signed URL's
        ``signature`` made with it (CFN_SIGNAL); False when it does not (the caller's token is then checked as
        any other)."""
        if not token and not signature:
            return False
        with self.db.read() as session:
            stack = session.get(Stack, stack_id)
        if stack is None or stack.project_id != project_id or stack.name != name or stack.deleted_at is not None:
            return False
        rows = [r for r in self.resources(stack) if r.name == resource]
        secret = (rows[0].data or {}).get("signal_token") if rows else None
        if signature is not None:
            if not presign.valid(secret, signature, project_id, name, stack_id, resource):
                raise Unauthorized("The request you have made requires authentication.")
            token = secret
        if not secret or not token or not hmac.compare_digest(secret, token):
            return False
        self.signal(None, stack, resource, body, token=token)
        return True

    def signal(self, ctx: Context | None, stack: Stack, name: str, body, token: str | None = None) -> None:
        """A signal to a resource: with the caller's rights (``ctx``), or with the resource's own signal
        ``token`` (a wait condition handle's, which a guest presents)."""
        row = self.resource(stack, name)
        data = dict(row.data or {})
        if ctx is None:
            secret = data.get("signal_token")
            if not secret or not token or not hmac.compare_digest(secret, token):
                raise Unauthorized("The request you have made requires authentication.")
        else:
            authorize(ctx, "resource:signal", stack.project_id)
        if isinstance(body, dict) and "unset_hook" in body:
            self._unset_hook(stack, row, body["unset_hook"])
            return
        behaviour = implementation((row.definition or {}).get("implementation") or row.type)
        if behaviour is None or not behaviour.signalable:
            raise BadRequest(f"Signal resource during {row.action} is not supported: {row.type} takes no "
                             "signals.", kind="ResourceActionNotSupported")
        if (row.action == "DELETE" and not behaviour.signalled_while_deleting) or stack.deleted_at is not None:
            raise BadRequest(f"Signal resource during {row.action} is not supported.",
                             kind="ResourceActionNotSupported")
        with self.db.write() as session:
            # locked: the engine's save of this row merges what this adds (``with_signals_taken``)
            found = session.get(StackResource, row.id, with_for_update=True)
            try:
                found.data = behaviour.take_signal(dict(found.data or {}), body, found.action)
            except ResourceFailure as exc:
                raise BadRequest(exc.message, kind=exc.kind) from None
            reason = behaviour.signal_reason(body)
            if behaviour.scales:
                reason = self._scale(session, found)
            event(session, stack, "SIGNAL", "COMPLETE", reason, resource=found)
        self.wake(stack.owner_id or stack.id)
        if stack.owner_id:
            self.wake(stack.id)

    def _unset_hook(self, stack: Stack, row: StackResource, hook) -> None:
        """``{"unset_hook": hook}``: the resource waiting at ``hook`` goes on (any type, while the stack is
        IN_PROGRESS: that is when hooks hold)."""
        behaviour = implementation((row.definition or {}).get("implementation") or row.type)
        kind = behaviour.__name__ if behaviour is not None else row.type
        with self.db.write() as session:
            found = session.get(StackResource, row.id)
            current = session.get(Stack, stack.id)
            if found is None or current is None:
                raise NotFound(f"The Resource ({row.name}) could not be found.", kind="EntityNotFound")
            hooks.known(hook)
            if hooks.waiting(found.data, current.generation) != hook:
                raise BadRequest(f'The "{hook}" hook is not defined on {kind} "{row.name}" Stack "{stack.name}" '
                                 f"[{stack.id}]", kind="InvalidBreakPointHook")
            found.data = hooks.clear(found.data, hook)
            event(session, current, found.action, found.status, hooks.cleared_reason(hook), resource=found)
        self.wake(stack.id)

    def _scale(self, session, policy: StackResource) -> str:
        """A scaling policy's signal: the group's new capacity is recorded on it and the stack converges to
        it as an UPDATE of its unchanged definition (so a kill -9 mid-way resumes like any update)."""
        stack = session.get(Stack, policy.stack_id)
        if stack.status == "IN_PROGRESS":
            raise Conflict(f"Stack {stack.name} [{stack.id}] is {stack.action}_IN_PROGRESS: the group cannot "
                           "scale now.", kind="ActionInProgress")
        group = session.scalars(select(StackResource).where(
            StackResource.stack_id == stack.id, StackResource.current.is_(True),
            StackResource.physical_id == policy.properties["auto_scaling_group_id"])).first()
        if group is None or group.type != AutoScalingGroup.name:
            raise BadRequest(f"The auto_scaling_group_id of {policy.name} is no OS::Heat::AutoScalingGroup of "
                             "this stack", kind="ResourceActionNotSupported")
        now = time.time()
        cooldown = policy.properties.get("cooldown") or group.properties.get("cooldown") or 0
        if now - (policy.data or {}).get("last_scaled", 0) < cooldown:
            return f"Signal: {policy.name} in its cooldown: no change"
        current = AutoScalingGroup.capacity(group.properties, group.data or {})
        wanted = ScalingPolicy.adjusted(policy.properties, current)
        wanted = max(group.properties["min_size"], min(group.properties["max_size"], wanted))
        policy.data = {**(policy.data or {}), "last_scaled": now}
        if wanted == current:
            return f"Signal: {group.name} stays at {current}"
        group.data = {**(group.data or {}), "capacity": wanted}
        stack.previous = {"template": stack.template, "files": stack.files, "environment": stack.environment,
                          "parameters": stack.parameters}
        begin(session, stack, "UPDATE")
        return f"Signal: {group.name} from {current} to {wanted}"

    def outputs(self, stack: Stack) -> list[dict]:
        if stack.action == "DELETE" and stack.status == "COMPLETE":
            return []
        definition = definition_of(stack)
        rows = {r.name: r for r in self.resources(stack)}
        return definition.outputs(definition.scope(rows))

    def events(self, stack: Stack, resource_name: str | None = None) -> list[StackEvent]:
        with self.db.read() as session:
            stmt = select(StackEvent).where(StackEvent.stack_id == stack.id)
            if resource_name is not None:
                stmt = stmt.where(StackEvent.resource_name == resource_name)
            return list(session.scalars(stmt.order_by(StackEvent.seq)))

    # -- templates and types -------------------------------------------------------------------------------
    def validate(self, ctx: Context, project_id: str, body: dict) -> Definition:
        authorize(ctx, "stacks:validate_template", project_id)
        return check_template_only(body, project_id, self.remote)

    def resource_type(self, ctx: Context, name: str):
        authorize(ctx, "stacks:resource_schema")
        if name not in TYPES:
            raise NotFound(f"The Resource Type ({name}) could not be found.", kind="EntityNotFound")
        return TYPES[name]

    def resource_types(self, ctx: Context) -> list:
        authorize(ctx, "stacks:list_resource_types")
        return [TYPES[name] for name in sorted(TYPES)]

    def template_functions(self, ctx: Context, version: str, *, with_conditions: bool = False) -> dict[str, str]:
        """The functions of ``version`` as Heat lists them: the condition-only ones when asked."""
        authorize(ctx, "stacks:list_template_functions")
        kind, _, date = version.partition(".")
        date = versions.ALIASES.get(date, date)
        if kind != "heat_template_version" or date not in versions.VERSIONS:
            raise NotFound(f"Template with version {version} not found", kind="NotFound")
        return {name: text for name, text in versions.functions(date).items()
                if with_conditions or name not in versions.CONDITION_ONLY}

