"""The orchestration engine: a reconcile loop keyed by stack.

A stack with ``status IN_PROGRESS`` is work.  Each step re-reads the stack and its resources and moves
every resource it can one step on, in parallel: a resource whose prerequisites are done is started, one
already started is asked whether it is done.  Nothing is remembered between steps but the database, so a
restart (after ``kill -9`` too) simply carries on: the resync finds every stack in progress, a resource
started but not recorded is looked up by the physical name it was given first (or started again), and a
stack past its timeout fails and rolls back like any other failure.  Every write of a step is guarded by
the stack's ``generation``: once a newer action begins (a delete during a create), an older step writes
nothing more.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id, utcnow
from onestack.db.engine import Database
from onestack.http.errors import APIError
from onestack.reconcile.loop import Loop
from onestack.services.orchestration.models import Stack, StackResource, StackSnapshot
from onestack.services.orchestration.service import OrchestrationService, changes, hooks
from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.cloud import Session as Cloud
from onestack.services.orchestration.service.definition import Definition
from onestack.services.orchestration.service.nested import NestedStacks
from onestack.services.orchestration.service.resources import implementation
from onestack.services.orchestration.service.resources.base import (
    Handle,
    ResourceFailure,
    StackInfo,
    with_signals_taken,
)
from onestack.services.orchestration.service.resources.heat import NoneResource
from onestack.services.orchestration.service.stacks import begin, definition_of, event, restore_previous

LOG = logging.getLogger("onestack.orchestration")
# How soon to look again at a stack with resources still on their way.
POLL = 0.2
# ... and at one whose only work is resources paused at hooks (the signal clearing one wakes it at once).
PAUSED = 5.0
# Heat's stack_action_timeout: an action without its own timeout_mins gives up after an hour.
DEFAULT_TIMEOUT_MINS = 60
# Marks in a resource's data that its delete request was made (a resumed delete only waits for it).
DELETE_SENT = "delete_sent"
# Marks that deletion_policy Snapshot's copy was asked for, and that it is complete (the delete may go on).
SNAPSHOT_SENT, SNAPSHOT_KEPT = "snapshot_sent", "snapshot_kept"
# Marks that a suspend or resume request was made (the same, for SUSPEND and RESUME).
ACTION_SENT = "action_sent"
# The stack actions that take every resource through one step of its type and change no definition, and
# the states a resource may be in to take it (Heat's); CHECK takes any resource.
WALKS = {"SUSPEND": None, "RESUME": {("SUSPEND", "COMPLETE"), ("RESUME", "FAILED"), ("RESUME", "COMPLETE")},
         "CHECK": None, "SNAPSHOT": None}


class Superseded(Exception):
    """A newer action began on the stack: this step's work is no longer wanted."""


class Failed(Exception):
    """A resource failed; ``reason`` is its status reason."""

    def __init__(self, row: StackResource, action: str, reason: str):
        self.row, self.action, self.reason = row, action, reason
        super().__init__(reason)


def reason_of(name: str, exc: Exception) -> str:
    """A resource's failure as Heat words it: ``Kind: resources.<name>: message``."""
    if isinstance(exc, ResourceFailure):
        return f"{exc.kind}: resources.{name}: {exc.message}"
    if isinstance(exc, CloudError):
        return f"{exc.kind}: resources.{name}: {exc}"
    if isinstance(exc, APIError):
        return f"{exc.kind or type(exc).__name__}: resources.{name}: {exc.message}"
    return f"{type(exc).__name__}: resources.{name}: {exc}"


class Engine:
    def __init__(self, db: Database, service: OrchestrationService, workers: int = 16):
        self.db = db
        self.service = service
        self.cloud = service.cloud
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orchestration-step")
        self.loop = Loop("orchestration", self.step, self.pending, workers=4)
        service.on_change(self.loop.wake)

    def start(self) -> None:
        resumed = self.pending()
        if resumed:
            LOG.info("resuming %d stacks in progress", len(resumed))
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def pending(self) -> list[str]:
        with self.db.read() as session:
            return list(session.scalars(select(Stack.id).where(Stack.status == "IN_PROGRESS")))

    # -- one step of one stack ---------------------------------------------------------------------------
    def step(self, stack_id: str) -> float | None:
        with self.db.read() as session:
            stack = session.get(Stack, stack_id)
        if stack is None or stack.status != "IN_PROGRESS":
            return None
        try:
            try:
                return self._step(stack)
            except Failed as exc:
                self._fail(stack, f"Resource {exc.action} failed: {exc.reason}")
                return 0.0
        except Superseded:
            return 0.0

    def _step(self, stack: Stack) -> float | None:
        limit = datetime.timedelta(minutes=stack.timeout_mins or DEFAULT_TIMEOUT_MINS)
        if utcnow() - stack.action_started_at > limit:
            self._fail(stack, f"{stack.action.capitalize()} timed out")
            return 0.0
        try:
            cloud = self.cloud.for_trust(stack.trust_id)
        except CloudError as exc:
            if exc.status in (401, 403, 404):  # the owner's delegation is gone: nothing can be done as them
                self._fail(stack, f"The stack owner's trust cannot be used: {exc}")
                return None
            raise
        rows = self._rows(stack.id)
        if stack.action == "DELETE" or (stack.action == "ROLLBACK" and stack.rollback_of == "CREATE"):
            return self._remove(stack, cloud, rows, finish=True)
        if stack.action in WALKS:
            return self._walk(stack, cloud, rows)
        try:
            definition = definition_of(stack)
        except APIError as exc:
            self._fail(stack, f"The stack's definition cannot be used: {exc.message}")
            return None
        return self._converge(stack, cloud, definition, rows)

    def _rows(self, stack_id: str) -> list[StackResource]:
        with self.db.read() as session:
            return list(session.scalars(select(StackResource).where(StackResource.stack_id == stack_id)
                                        .order_by(StackResource.created_at)))

    # -- create and update -------------------------------------------------------------------------------
    def _converge(self, stack: Stack, cloud: Cloud, definition: Definition, rows: list[StackResource]
                  ) -> float | None:
        gen = stack.generation
        current = {r.name: r for r in rows if r.current}
        replaced = {r.name: r for r in rows if not r.current and r.status == "COMPLETE"}
        scope = definition.scope(current)
        active = definition.active(scope)
        done = {name for name in active if (row := current.get(name)) is not None
                and row.generation == gen and row.status == "COMPLETE" and row.action != "INIT"}
        work, unchanged, paused = [], [], []
        for name in active:
            row = current.get(name)
            if name in done:
                continue
            # a resource not made yet that waits (or waited) at a pre-create hook: its row is a placeholder
            placeholder = row if row is not None and row.action == "INIT" else None
            if row is not None and row.generation == gen and row.status == "IN_PROGRESS" and row.action == "ADOPT":
                if definition.requires[name] & set(active) <= done:  # in order: its properties may read others
                    work.append((self._adopt, (stack, cloud, definition, scope, name, row)))
            elif row is not None and row.generation == gen and row.status == "IN_PROGRESS":
                if hooks.waiting(row.data, gen) in hooks.POST:  # done by its service, held at a post-* hook
                    paused.append(name)
                else:
                    work.append((self._poll, (stack, cloud, definition, row)))
            elif row is not None and row.generation == gen and row.status == "FAILED":
                raise Failed(row, row.action, row.status_reason)
            elif definition.requires[name] & set(active) <= done:
                if placeholder is None and changes.unchanged(definition, scope, name, row):
                    unchanged.append(row.id)
                    continue
                hook = "pre-create" if row is None or placeholder is not None else "pre-update"
                if self._hook_holds(stack, name, row, hook):
                    if hooks.waiting(row.data if row is not None else None, gen) == hook:
                        paused.append(name)
                    else:
                        work.append((self._pause, (stack, definition, name, row, hook)))
                    continue
                work.append((self._start, (stack, cloud, definition, scope, name,
                                           None if placeholder is not None else row, replaced.get(name),
                                           placeholder)))
        if unchanged:  # what the update leaves as it is joins the new generation in one write, untouched
            with self._writing(stack) as session:
                for row_id in unchanged:
                    session.get(StackResource, row_id).generation = gen
            if not work:
                return 0.0
        self._run(work)
        if work:
            return POLL
        if paused:
            return PAUSED
        # Every resource the template means is there: what it no longer means goes, dependents first.
        stale = [r for r in rows if not r.current or r.name not in active]
        if stale:
            return self._remove(stack, cloud, stale, finish=False)
        self._refresh_outputs(stack, cloud, definition)
        self._complete(stack)
        return None

    def _run(self, work: list) -> None:
        """Run a step's resource actions side by side; the first failure (or supersession) wins."""
        futures = [self.pool.submit(fn, *args) for fn, args in work]
        first: Exception | None = None
        for future in futures:
            exc = future.exception()
            if exc is not None and first is None:
                first = exc
        if first is not None:
            raise first

    def _handle(self, stack: Stack, cloud: Cloud, row: StackResource, properties: dict | None = None,
                definition: Definition | None = None) -> Handle:
        paths = definition.attribute_paths().get(row.name, {}) if definition is not None else {}
        policy = {}
        if definition is not None and row.name in definition.behaviours \
                and definition.behaviours[row.name].update_policy_schema:
            policy = definition.update_policy(row.name, definition.scope())
        return Handle(row.name, StackInfo(stack.id, stack.name, stack.project_id),
                      row.properties if properties is None else properties, row.physical_id, dict(row.data),
                      cloud, signal_base=self.service.settings.base_url,
                      stacks=NestedStacks(self.db, stack.id, self.service.wake, self.service.outputs,
                                          self.service.settings.region),
                      attribute_paths=paths, update_policy=policy)

    def _start(self, stack: Stack, cloud: Cloud, definition: Definition, scope, name: str,
               row: StackResource | None, replaced: StackResource | None,
               placeholder: StackResource | None = None) -> None:
        """Bring resource ``name`` to its definition: make it, update it in place, or replace it (the
        one an update replaced comes back when a rollback wants it again).  ``placeholder``: the row of a
        resource not made yet that waited at a pre-create hook, replaced by the real one as it is made."""
        gen = stack.generation
        behaviour = definition.behaviours[name]()
        resource = definition.template.resources[name]
        failing = row if row is not None else placeholder
        try:
            properties = definition.properties(name, scope)
        except APIError as exc:
            raise self._failure(stack, failing, name, definition, "CREATE" if row is None else "UPDATE", exc) \
                from None
        snapshot = changes.snapshot(definition, name, scope)
        try:
            external = definition.external_id(name, scope)
        except APIError as exc:
            raise self._failure(stack, failing, name, definition, "CREATE" if row is None else "UPDATE", exc) \
                from None
        if external is not None or (row is not None and (row.data or {}).get("external_id")):
            self._external(stack, cloud, definition, name, row, external, snapshot, placeholder)
            return
        if changes.same(definition, name, row, properties, snapshot, behaviour):
            self._save(stack, row.id, generation=gen)
            return
        if replaced is not None and replaced.type == resource.type and replaced.properties == properties \
                and replaced.definition == snapshot:
            with self._writing(stack) as session:
                session.get(StackResource, replaced.id).current = True
                session.get(StackResource, replaced.id).generation = gen
                if row is not None:
                    session.get(StackResource, row.id).current = False
            return
        if changes.in_place(definition, name, row, properties, behaviour):
            self._update(stack, cloud, definition, row, properties, snapshot)
            return
        if row is not None:  # replaced: the new one is made first, the old one removed at the end
            self._save(stack, row.id, current=False)
        new = StackResource(id=new_id(), stack_id=stack.id, name=name, type=resource.type, action="CREATE",
                            status="IN_PROGRESS", status_reason="state changed", current=True, generation=gen,
                            properties=properties, definition=snapshot,
                            requires=sorted(definition.requires[name]), data={}, attributes={},
                            created_at=utcnow())
        handle = self._handle(stack, cloud, new, properties, definition)
        handle.physical_name()
        new.data = dict(handle.data)
        self._insert(stack, new, placeholder)
        try:
            behaviour.create(handle)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong is the resource's failure
            self._save(stack, new.id, physical_id=handle.physical_id, handle=handle)
            raise self._failure(stack, new, name, definition, "CREATE", exc) from None
        self._save(stack, new.id, physical_id=handle.physical_id, handle=handle)
        new.physical_id, new.data = handle.physical_id, handle.data
        self._poll(stack, cloud, definition, new)

    def _hook_holds(self, stack: Stack, name: str, row: StackResource | None, hook: str) -> bool:
        """Whether resource ``name`` must stop at ``hook`` before this action goes on with it."""
        return stack.action in hooks.ACTIONS and hooks.matches(stack.environment, name, hook) \
            and not hooks.cleared(row.data if row is not None else None, hook, stack.generation)

    def _pause(self, stack: Stack, definition: Definition | None, name: str, row: StackResource | None,
               hook: str) -> None:
        """Stop resource ``name`` at ``hook``: recorded on its row (a resource not made yet gets a row in
        INIT_COMPLETE, as Heat shows it), with Heat's event."""
        reason = hooks.paused_reason(hooks.action_of(hook), hook)
        with self._writing(stack) as session:
            found = session.get(StackResource, row.id) if row is not None else None
            if found is None:
                resource = definition.template.resources[name]
                found = StackResource(id=new_id(), stack_id=stack.id, name=name, type=resource.type, action="INIT",
                                      status="COMPLETE", status_reason="", current=True, generation=stack.generation,
                                      definition=changes.snapshot(definition, name),
                                      requires=sorted(definition.requires[name]), properties={}, data={},
                                      attributes={}, created_at=utcnow())
                session.add(found)
            found.data = hooks.pause(found.data, hook, stack.generation)
            event(session, stack, found.action, found.status, reason, resource=found)

    def _external(self, stack: Stack, cloud: Cloud, definition: Definition, name: str, row: StackResource | None,
                  external: str | None, snapshot: dict, placeholder: StackResource | None = None) -> None:
        """A resource standing for a thing the stack did not make (``external_id``): checked to exist, never
        made, changed or deleted by the stack; its id cannot change."""
        kind = definition.template.resources[name].type
        if row is not None:
            if (row.data or {}).get("external_id") != external:
                exc = ResourceFailure(f"Update to property external_id of {name} ({kind}) is not supported",
                                      "NotSupported")
                raise self._failure(stack, row, name, definition, "UPDATE", exc)
            self._save(stack, row.id, generation=stack.generation, definition=snapshot)
            return
        new = StackResource(id=new_id(), stack_id=stack.id, name=name, type=kind, action="CREATE",
                            status="IN_PROGRESS", status_reason="state changed", current=True,
                            generation=stack.generation, properties={}, definition=snapshot, requires=[],
                            physical_id=external, data={"external_id": external}, attributes={},
                            created_at=utcnow())
        self._insert(stack, new, placeholder)
        self._poll(stack, cloud, definition, new)

    def _adopt(self, stack: Stack, cloud: Cloud, definition: Definition, scope, name: str,
               row: StackResource) -> None:
        """A resource of an adopted stack (its row was written with the stack, from the abandoned stack's
        data): nothing is made; the thing must exist (its service's show answers), and the row takes the
        properties the template gives it now, so a later update compares against them."""
        behaviour = definition.behaviours[name]()
        try:
            properties = definition.properties(name, scope)
        except APIError as exc:
            raise self._failure(stack, row, name, definition, "ADOPT", exc) from None
        handle = self._handle(stack, cloud, row, properties, definition)
        try:
            if not row.physical_id:
                raise ResourceFailure("Resource ID was not provided.", "Error")
            try:
                behaviour.attribute(handle, "show")
            except CloudError as exc:
                if exc.status == 404:
                    raise ResourceFailure(f"The resource {row.physical_id} to adopt could not be found: {exc}",
                                          "NotFound") from None
                raise
        except Exception as exc:  # noqa: BLE001 - whatever went wrong is the resource's failure
            raise self._failure(stack, row, name, definition, "ADOPT", exc) from None
        self._save(stack, row.id, event_as=("ADOPT", "COMPLETE", "state changed"), status="COMPLETE",
                   status_reason="state changed", properties=properties,
                   definition=changes.snapshot(definition, name, scope),
                   requires=sorted(definition.requires[name]),
                   attributes=self._attributes(definition, behaviour, handle))

    def _update(self, stack: Stack, cloud: Cloud, definition: Definition, row: StackResource,
                properties: dict, snapshot: dict) -> None:
        old = row.properties
        self._save(stack, row.id, event_as=("UPDATE", "IN_PROGRESS", "state changed"), action="UPDATE",
                   status="IN_PROGRESS", status_reason="state changed", generation=stack.generation,
                   properties=properties, definition=snapshot,
                   requires=sorted(definition.requires[row.name]), data={**row.data, "updating_from": old},
                   signals_read=row.data.get("signals", []))
        row.properties, row.action, row.status = properties, "UPDATE", "IN_PROGRESS"
        handle = self._handle(stack, cloud, row, properties, definition)
        try:
            definition.behaviours[row.name]().update(handle, old, properties)
        except Exception as exc:  # noqa: BLE001
            raise self._failure(stack, row, row.name, definition, "UPDATE", exc) from None
        handle.data.pop("updating_from", None)
        self._save(stack, row.id, physical_id=handle.physical_id, handle=handle)
        row.data = handle.data
        self._poll(stack, cloud, definition, row)

    def _poll(self, stack: Stack, cloud: Cloud, definition: Definition, row: StackResource) -> None:
        behaviour = definition.behaviours[row.name]()
        handle = self._handle(stack, cloud, row, definition=definition)
        try:
            if row.action == "CREATE" and (row.data or {}).get("external_id"):
                # an existing thing: it must be there (its show answers), nothing is made
                try:
                    behaviour.attribute(handle, "show")
                except CloudError as exc:
                    if exc.status == 404:
                        raise ResourceFailure(f"The external resource {row.physical_id} could not be found: "
                                              f"{exc}", "NotFound") from None
                    raise
                finished = True
            elif row.action == "CREATE":
                if not row.physical_id:
                    # Started before a crash but never recorded: find what it made, or make it now.
                    handle.physical_id = behaviour.find(handle)
                    if handle.physical_id is None:
                        behaviour.create(handle)
                    self._save(stack, row.id, physical_id=handle.physical_id, handle=handle)
                finished = behaviour.create_done(handle)
            elif row.action == "UPDATE":
                if "updating_from" in row.data:  # interrupted between recording and sending the update
                    behaviour.update(handle, row.data["updating_from"], row.properties)
                    handle.data.pop("updating_from", None)
                finished = behaviour.update_done(handle)
            else:
                finished = True
        except Exception as exc:  # noqa: BLE001
            self._save(stack, row.id, handle=handle)
            raise self._failure(stack, row, row.name, definition, row.action, exc) from None
        if not finished:
            if handle.data != row.data:
                self._save(stack, row.id, handle=handle)
            return
        post = f"post-{row.action.lower()}"
        if row.action in ("CREATE", "UPDATE") and self._hook_holds(stack, row.name, row, post):
            # made (or changed) by its service, held IN_PROGRESS until the hook is cleared
            self._save(stack, row.id, handle=handle, physical_id=handle.physical_id)
            row.data = handle.data
            self._pause(stack, definition, row.name, row, post)
            return
        attributes = self._attributes(definition, behaviour, handle)
        changed = {"updated_at": utcnow()} if row.action != "CREATE" else {}
        self._save(stack, row.id, event_as=(row.action, "COMPLETE", "state changed"), status="COMPLETE",
                   status_reason="state changed", handle=handle, attributes=attributes,
                   physical_id=handle.physical_id, **changed)

    def _attributes(self, definition: Definition, behaviour, handle: Handle) -> dict:
        """The attributes anything in the template reads, cached on the row for later evaluation."""
        wanted = definition.referenced_attributes().get(handle.name, set())
        names = {w for w in wanted if w}
        if None in wanted:
            names |= set(behaviour.attributes) | {"show"}
        elif behaviour.local_attributes:
            names |= set(behaviour.attributes)
        values: dict[str, Any] = {}
        for name in sorted(names):
            try:
                values[name] = behaviour.attribute(handle, name)
            except (CloudError, ResourceFailure) as exc:
                LOG.warning("stack %s resource %s: attribute %s: %s", handle.stack.id, handle.name, name, exc)
                values[name] = None
        return values

    def _refresh_outputs(self, stack: Stack, cloud: Cloud, definition: Definition) -> None:
        """Attributes outputs read may have changed since their resource completed (a server's addresses
        once a floating IP is associated): read them once more as the stack completes."""
        referenced = definition.referenced_attributes()
        outputs = set()
        for output in definition.template.outputs.values():
            outputs |= _names_in(output.get("value"))
        for row in self._rows(stack.id):
            if row.current and row.name in outputs and row.name in referenced and row.physical_id:
                behaviour = definition.behaviours[row.name]()
                attributes = self._attributes(definition, behaviour, self._handle(stack, cloud, row, definition=definition))
                if attributes != row.attributes:
                    self._save(stack, row.id, attributes=attributes)

    # -- suspend, resume, check -----------------------------------------------------------------------------
    def _walk(self, stack: Stack, cloud: Cloud, rows: list[StackResource]) -> float | None:
        """Take every current resource through the stack's action once: SUSPEND dependents first, RESUME and
        CHECK prerequisites first (as Heat orders them).  A CHECK goes on past a failed resource so that
        the stack's reason names every one whose thing is gone; the others stop at the first failure."""
        gen, action = stack.generation, stack.action
        current = {r.name: r for r in rows if r.current}
        taken = {name: row for name, row in current.items() if row.generation == gen and row.action == action}
        finished = {name for name, row in taken.items() if row.status in ("COMPLETE", "FAILED")}
        failed = [row for row in taken.values() if row.status == "FAILED"]
        if failed and action != "CHECK":
            raise Failed(failed[0], action, failed[0].status_reason)
        work = []
        for name, row in current.items():
            if name in finished:
                continue
            if name in taken:  # begun by an earlier step (before a restart too): carry on
                work.append((self._poll_walk, (stack, cloud, row)))
                continue
            if action == "SUSPEND":
                before = {other for other, r in current.items() if name in r.requires and other != name}
            else:
                before = set(row.requires) & set(current)
            if before <= finished:
                work.append((self._start_walk, (stack, cloud, row)))
        if work:
            self._run(work)
            return POLL
        if failed:
            reasons = "; ".join(row.status_reason for row in sorted(failed, key=lambda r: r.name))
            raise Failed(failed[0], action, reasons)
        self._complete(stack)
        return None

    def _start_walk(self, stack: Stack, cloud: Cloud, row: StackResource) -> None:
        action = stack.action
        allowed = WALKS[action]
        invalid = (allowed is not None and (row.action, row.status) not in allowed) or \
            (action == "SUSPEND" and (row.action == "DELETE" or (row.action != "SUSPEND" and row.status != "COMPLETE")))
        data = {key: value for key, value in (row.data or {}).items() if key != ACTION_SENT}
        if invalid:
            exc = ResourceFailure(f"State ('{row.action}', '{row.status}') invalid for {action.lower()}", "Error")
            self._walk_failure(stack, row, exc)
            return
        self._save(stack, row.id, event_as=(action, "IN_PROGRESS", "state changed"), action=action,
                   status="IN_PROGRESS", status_reason="state changed", generation=stack.generation, data=data,
                   signals_read=(row.data or {}).get("signals", []))
        row.action, row.status, row.data = action, "IN_PROGRESS", data
        self._poll_walk(stack, cloud, row)

    def _poll_walk(self, stack: Stack, cloud: Cloud, row: StackResource) -> None:
        behaviour = self._behaviour(row)
        handle = self._handle(stack, cloud, row)
        reason = "state changed"
        try:
            if row.action == "CHECK":
                if not behaviour.check(handle):
                    reason = f"CHECK not supported for {row.type}"
            elif row.action == "SNAPSHOT":
                pass  # the stack's data was recorded as the snapshot began; no type keeps more (no images)
            else:
                verb = row.action.lower()
                if not handle.data.get(ACTION_SENT):
                    # this step's own start, or a request a kill -9 may have cut: both safe to (re)send
                    getattr(behaviour, verb)(handle)
                    handle.data[ACTION_SENT] = True
                    self._save(stack, row.id, handle=handle)
                if not getattr(behaviour, f"{verb}_done")(handle):
                    return
        except Exception as exc:  # noqa: BLE001 - whatever went wrong is the resource's failure
            self._walk_failure(stack, row, exc)
            return
        handle.data.pop(ACTION_SENT, None)  # done: the mark must not make the next action's step skip its request
        self._save(stack, row.id, event_as=(row.action, "COMPLETE", reason), status="COMPLETE",
                   status_reason=reason, handle=handle, updated_at=utcnow())

    def _walk_failure(self, stack: Stack, row: StackResource, exc: Exception) -> None:
        """Record the resource's failure; the next step fails the stack (a CHECK once all are checked)."""
        reason = reason_of(row.name, exc)
        self._save(stack, row.id, event_as=(stack.action, "FAILED", reason), action=stack.action, status="FAILED",
                   status_reason=reason, generation=stack.generation)

    # -- removing ----------------------------------------------------------------------------------------
    def _remove(self, stack: Stack, cloud: Cloud, rows: list[StackResource], *, finish: bool) -> float | None:
        """Delete ``rows``, each once nothing else among them still needs it.  ``finish``: the stack's action
        is this removal (DELETE, or the ROLLBACK of a CREATE), so its end completes the stack."""
        if not rows:
            self._complete(stack)
            return None
        gen = stack.generation
        work, paused = [], False
        for row in rows:
            needed = any(row.name in other.requires and other.name != row.name for other in rows)
            if row.action == "DELETE" and row.status == "IN_PROGRESS" and row.generation == gen:
                if hooks.waiting(row.data, gen) == "post-delete":
                    paused = True
                else:
                    work.append((self._poll_delete, (stack, cloud, row)))
            elif row.action == "DELETE" and row.status == "FAILED" and row.generation == gen:
                raise Failed(row, "DELETE", row.status_reason)
            elif not needed and row.action != "INIT" and self._hook_holds(stack, row.name, row, "pre-delete"):
                if hooks.waiting(row.data, gen) == "pre-delete":
                    paused = True
                else:
                    work.append((self._pause, (stack, None, row.name, row, "pre-delete")))
            elif not needed:
                work.append((self._start_delete, (stack, cloud, row)))
        self._run(work)
        return PAUSED if paused and not work else POLL

    @staticmethod
    def _behaviour(row: StackResource):
        """The type that made a row (recorded when it was made: the environment may map types)."""
        made_by = implementation((row.definition or {}).get("implementation") or row.type)
        return (made_by or NoneResource)()

    def _start_delete(self, stack: Stack, cloud: Cloud, row: StackResource) -> None:
        data = {key: value for key, value in (row.data or {}).items() if key != DELETE_SENT}  # a retried delete
        self._save(stack, row.id, event_as=("DELETE", "IN_PROGRESS", "state changed"), action="DELETE",
                   status="IN_PROGRESS", status_reason="state changed", generation=stack.generation, data=data,
                   signals_read=(row.data or {}).get("signals", []))
        row.action, row.status, row.data = "DELETE", "IN_PROGRESS", data
        self._poll_delete(stack, cloud, row)

    @staticmethod
    def _kept(row: StackResource) -> bool:
        """A row whose thing stays when the row goes: retained, never made, or external."""
        return ((row.definition or {}).get("deletion_policy") == "Retain" or not row.physical_id
                or bool((row.data or {}).get("external_id")))

    def _snapshot_kept(self, stack: Stack, row: StackResource, handle: Handle) -> bool:
        """deletion_policy Snapshot: the copy is asked for once, then waited on; True once the delete may
        go on (at once for any other policy)."""
        behaviour = self._behaviour(row)
        if (row.definition or {}).get("deletion_policy") != "Snapshot" or not behaviour.snapshots \
                or handle.data.get(SNAPSHOT_KEPT):
            return True
        try:
            if not handle.data.get(SNAPSHOT_SENT):
                behaviour.snapshot(handle)
                handle.data[SNAPSHOT_SENT] = True
                self._save(stack, row.id, handle=handle)
            if not behaviour.snapshot_done(handle):
                return False
        except Exception as exc:  # noqa: BLE001
            raise self._delete_failure(stack, row, exc) from None
        handle.data[SNAPSHOT_KEPT] = True
        self._save(stack, row.id, handle=handle)
        row.data = handle.data
        return True

    def _send_delete(self, stack: Stack, row: StackResource, handle: Handle) -> None:
        try:
            self._behaviour(row).delete(handle)
        except Exception as exc:  # noqa: BLE001
            raise self._delete_failure(stack, row, exc) from None
        handle.data[DELETE_SENT] = True
        self._save(stack, row.id, handle=handle)
        row.data = handle.data

    def _poll_delete(self, stack: Stack, cloud: Cloud, row: StackResource) -> None:
        if not self._kept(row):
            handle = self._handle(stack, cloud, row)
            if not self._snapshot_kept(stack, row, handle):
                return
            if not handle.data.get(DELETE_SENT):
                # Either this step began the delete, or the step that did died (kill -9) before recording
                # that its request was made: (re)send it, deleting is safe to repeat.
                self._send_delete(stack, row, handle)
            try:
                finished = self._behaviour(row).delete_done(handle)
            except Exception as exc:  # noqa: BLE001
                raise self._delete_failure(stack, row, exc) from None
            if not finished:
                return
        if self._hook_holds(stack, row.name, row, "post-delete"):
            self._pause(stack, None, row.name, row, "post-delete")  # gone from its service, row kept until cleared
            return
        with self._writing(stack) as session:
            found = session.get(StackResource, row.id)
            if found is not None:
                event(session, stack, "DELETE", "COMPLETE", "state changed", resource=found)
                session.delete(found)

    def _delete_failure(self, stack: Stack, row: StackResource, exc: Exception) -> Failed:
        reason = reason_of(row.name, exc)
        self._save(stack, row.id, event_as=("DELETE", "FAILED", reason), status="FAILED", status_reason=reason)
        return Failed(row, "DELETE", reason)

    # -- writing -----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writing(self, stack: Stack) -> Iterator[Session]:
        """A write transaction that goes ahead only while ``stack`` is still at this step's generation."""
        with self.db.write() as session:
            found = session.get(Stack, stack.id)
            if found is None or found.generation != stack.generation:
                raise Superseded()
            yield session

    def _insert(self, stack: Stack, row: StackResource, placeholder: StackResource | None = None) -> None:
        """Record a new resource row (in the same write, the placeholder it takes the place of goes)."""
        with self._writing(stack) as session:
            if placeholder is not None and (gone := session.get(StackResource, placeholder.id)) is not None:
                session.delete(gone)
                session.flush()
            session.add(row)
            event(session, stack, row.action, row.status, "state changed", resource=row)

    def _save(self, stack: Stack, row_id: str, event_as: tuple[str, str, str] | None = None,
              handle: Handle | None = None, signals_read: list | None = None, **values) -> None:
        """Change the row; with ``handle``, to its data too.  Data saved (the handle's, or ``data`` made from
        a row whose signals were ``signals_read``) keeps the signals the row took meanwhile."""
        with self._writing(stack) as session:
            row = session.get(StackResource, row_id, with_for_update=True)
            if row is None:
                return
            if handle is not None:
                values["data"] = with_signals_taken(handle.data, handle.signals_read, row.data)
                handle.signals_read = list(handle.data.get("signals", []))
            elif "data" in values:
                values["data"] = with_signals_taken(values["data"], signals_read or [], row.data)
            for key, value in values.items():
                setattr(row, key, value)
            if event_as is not None:
                event(session, stack, *event_as, resource=row)

    def _failure(self, stack: Stack, row: StackResource | None, name: str, definition: Definition,
                 action: str, exc: Exception) -> Failed:
        """Record a resource's failure (a row is made for one that failed before it existed)."""
        reason = reason_of(name, exc)
        if row is None:
            resource = definition.template.resources[name]
            row = StackResource(id=new_id(), stack_id=stack.id, name=name, type=resource.type, action=action,
                                status="FAILED", status_reason=reason, current=True, generation=stack.generation,
                                definition=changes.snapshot(definition, name), requires=sorted(definition.requires[name]),
                                properties={}, data={}, attributes={}, created_at=utcnow())
            with self._writing(stack) as session:
                session.add(row)
                event(session, stack, action, "FAILED", reason, resource=row)
        else:
            self._save(stack, row.id, event_as=(action, "FAILED", reason), action=action, status="FAILED",
                       status_reason=reason, generation=stack.generation)
        return Failed(row, action, reason)

    # -- the stack's end ---------------------------------------------------------------------------------
    def _complete(self, stack: Stack) -> None:
        # A root stack's delegation goes before DELETE_COMPLETE shows, as Heat drops it: whoever sees the stack
        # deleted sees no trust left (a crash in between redoes the delete, which finds the trust gone).
        # A nested stack acts through its root's trust, which stays.
        if stack.action == "DELETE" and stack.owner_id is None and stack.trust_id:
            try:
                self.cloud.delete_trust(stack.trust_id)
            except CloudError as exc:
                LOG.warning("stack %s: its trust %s could not be deleted: %s", stack.id, stack.trust_id, exc)
        with self._writing(stack) as session:
            row = session.get(Stack, stack.id)
            reason = f"Stack {row.action} completed successfully"
            if row.action == "ROLLBACK" and row.status_reason and "failed" in row.status_reason:
                reason = f"{reason} after: {row.status_reason.removeprefix('Stack ROLLBACK started after: ')}"
            row.status, row.status_reason = "COMPLETE", reason
            row.previous = None
            # a snapshot whose SNAPSHOT a delete superseded ends with the stack, failed
            _settle_snapshots(session, row.id, "COMPLETE" if row.action == "SNAPSHOT" else "FAILED", reason)
            if row.action == "DELETE":
                row.deleted_at, row.trust_id = utcnow(), None
            event(session, row, row.action, "COMPLETE", reason)

    def _fail(self, stack: Stack, reason: str) -> None:
        """The action failed: record why on the stack and its unfinished resources; roll back when wanted."""
        with self._writing(stack) as session:
            row = session.get(Stack, stack.id)
            action = row.action
            row.status, row.status_reason = "FAILED", reason
            event(session, row, action, "FAILED", reason)
            _settle_snapshots(session, row.id, "FAILED", reason)
            for resource in session.scalars(select(StackResource).where(
                    StackResource.stack_id == row.id, StackResource.status == "IN_PROGRESS")):
                resource.status = "FAILED"
                resource.status_reason = f"{resource.action} aborted: {reason}"
                event(session, row, resource.action, "FAILED", resource.status_reason, resource=resource)
            if action in ("CREATE", "UPDATE") and not row.disable_rollback:
                if action == "UPDATE":
                    restore_previous(row)
                begin(session, row, "ROLLBACK", rollback_of=action)
                row.status_reason = f"Stack ROLLBACK started after: {reason}"


def _settle_snapshots(session, stack_id: str, status: str, reason: str) -> None:
    """A SNAPSHOT's end is its snapshot's (only a SNAPSHOT leaves one IN_PROGRESS)."""
    for taken in session.scalars(select(StackSnapshot).where(StackSnapshot.stack_id == stack_id,
                                                             StackSnapshot.status == "IN_PROGRESS")):
        taken.status, taken.status_reason = status, reason


def _names_in(value) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("get_attr"), list) and value["get_attr"]:
            found.add(str(value["get_attr"][0]))
        for item in value.values():
            found |= _names_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _names_in(item)
    return found
