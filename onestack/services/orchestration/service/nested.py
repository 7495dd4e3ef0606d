"""Nested stacks as a parent's resources use them: a provider template, ``OS::Heat::Stack`` and
``OS::Heat::ResourceGroup`` each stand for a child stack, a stack row of its own (``owner_id`` names the
parent, ``parent_resource`` the resource) that the engine converges like any other.  The child acts
through its root's trust, inherits the parent's files, ``resource_registry`` and ``parameter_defaults``,
never rolls back by itself (its parent decides) and is hidden from stack lists unless ``show_nested``.

A resource type reaches this through ``Handle.stacks`` only: it never sees the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.errors import APIError
from onestack.services.orchestration.models import Stack, StackResource
from onestack.services.orchestration.service import hooks
from onestack.services.orchestration.service.resources import implementation
from onestack.services.orchestration.service.resources.base import Handle, ResourceFailure, StackInfo
from onestack.services.orchestration.service.stacks import begin, definition_of

# Heat's max_nested_stack_depth.
MAX_DEPTH = 5


def child_environment(parent: Stack, resource_name: str) -> dict:
    """The environment of the child stack of the parent's resource ``resource_name``: the parent's types
    and parameter defaults, and of its registry's per-resource entries (hooks) those under that resource."""
    env = parent.environment or {}
    registry = {k: v for k, v in (env.get("resource_registry") or {}).items() if k != "resources"}
    inner = hooks.for_child(env, resource_name)
    if inner:
        registry["resources"] = inner
    return {"parameters": {}, "parameter_defaults": dict(env.get("parameter_defaults") or {}),
            "resource_registry": registry}


class NestedStacks:
    """What the resources of one stack (``parent``) may do with child stacks and with each other."""

    def __init__(self, db: Database, parent_id: str, wake: Callable[[str], None],
                 outputs: Callable[[Stack], list[dict]], region: str = ""):
        self.db = db
        self.region = region
        self.parent_id = parent_id
        self.wake = wake
        self._outputs = outputs

    def _parent(self, session) -> Stack:
        parent = session.get(Stack, self.parent_id)
        if parent is None:
            raise ResourceFailure("The parent stack is gone", "NotFound")
        return parent

    def _facade(self, session, parent: Stack, resource_name: str) -> dict:
        """The parent's resource as its child reads it with resource_facade, resolved with the parent's
        resources as they are now."""
        rows = session.scalars(select(StackResource).where(StackResource.stack_id == parent.id,
                                                           StackResource.current.is_(True))).all()
        definition = definition_of(parent)
        if resource_name not in definition.template.resources:  # a group's member stack: no own definition
            return {}
        try:
            return definition.facade(resource_name, definition.scope({r.name: r for r in rows}))
        except APIError as exc:
            raise ResourceFailure(exc.message, exc.kind or "StackValidationFailed") from None

    def _depth(self, session, stack: Stack) -> int:
        depth = 0
        while stack.owner_id:
            depth += 1
            stack = session.get(Stack, stack.owner_id)
            if stack is None:
                break
        return depth

    # -- a child stack's life ------------------------------------------------------------------------------
    def create(self, h: Handle, template: dict, parameters: dict, timeout_mins: int | None = None) -> str:
        """Make the child stack of resource ``h`` and start its CREATE; its id."""
        with self.db.read() as session:
            parent = self._parent(session)
            depth = self._depth(session, parent) + 1
            facade = self._facade(session, parent, h.name)
        if depth > MAX_DEPTH:
            raise ResourceFailure(f"Recursion depth exceeds {MAX_DEPTH}.", "RecursionDepthExceeded")
        child = Stack(id=str(uuid.uuid4()), name=h.physical_name(), project_id=parent.project_id,
                      user_id=parent.user_id, username=parent.username, template=template,
                      files=dict(parent.files or {}), environment=child_environment(parent, h.name), parameters=parameters,
                      action="CREATE", status="IN_PROGRESS", generation=0, disable_rollback=True,
                      timeout_mins=timeout_mins or parent.timeout_mins, tags=[], trust_id=parent.trust_id,
                      owner_id=parent.id, parent_resource=h.name, facade=facade, created_at=utcnow())
        self._check(child)
        with self.db.write() as session:
            session.add(child)
            begin(session, child, "CREATE")
        h.data.update(nested=True, nested_name=child.name)
        self.wake(child.id)
        return child.id

    @staticmethod
    def _check(child: Stack) -> None:
        try:
            definition_of(child).check()
        except APIError as exc:
            raise ResourceFailure(exc.message, exc.kind or "StackValidationFailed") from None

    def find(self, h: Handle) -> str | None:
        """The child an interrupted create made for ``h`` (found by the name chosen before it)."""
        name = h.data.get("physical_name")
        if not name:
            return None
        with self.db.read() as session:
            found = session.scalars(select(Stack.id).where(
                Stack.owner_id == self.parent_id, Stack.parent_resource == h.name, Stack.name == name,
                Stack.deleted_at.is_(None))).first()
        if found:
            h.data.update(nested=True, nested_name=name)
        return found

    def update(self, child_id: str, template: dict, parameters: dict, timeout_mins: int | None = None) -> None:
        """Give the child its new definition and start its UPDATE."""
        with self.db.read() as session:
            parent = self._parent(session)
            child = session.get(Stack, child_id)
            facade = self._facade(session, parent, child.parent_resource or "") if child is not None else {}
        if child is None or child.deleted_at is not None:
            raise ResourceFailure(f"The nested stack {child_id} is gone", "NotFound")
        candidate = Stack(id=child.id, name=child.name, project_id=child.project_id, template=template,
                          files=dict(parent.files or {}),
                          environment=child_environment(parent, child.parent_resource or ""),
                          parameters=parameters, facade=facade)
        self._check(candidate)
        with self.db.write() as session:
            row = session.get(Stack, child_id)
            row.template, row.files, row.environment = template, candidate.files, candidate.environment
            row.parameters, row.facade = parameters, facade
            if timeout_mins:
                row.timeout_mins = timeout_mins
            row.previous = None
            begin(session, row, "UPDATE")
        self.wake(child_id)

    def delete(self, child_id: str) -> None:
        with self.db.write() as session:
            row = session.get(Stack, child_id)
            if row is None or row.deleted_at is not None or (row.action == "DELETE" and row.status == "IN_PROGRESS"):
                return
            begin(session, row, "DELETE")
        self.wake(child_id)

    def walk(self, child_id: str, action: str) -> None:
        """Begin the child's SUSPEND or RESUME (its own resources, servers included, go through it).  A child
        already there, or on its way, is left as it is: the parent's step may be repeated after a crash."""
        with self.db.write() as session:
            row = session.get(Stack, child_id)
            if row is None or row.deleted_at is not None:
                raise ResourceFailure(f"The nested stack {child_id} is gone", "NotFound")
            if row.action == action and row.status in ("IN_PROGRESS", "COMPLETE"):
                return
            if row.status == "IN_PROGRESS":
                raise ResourceFailure(f"The nested stack {row.name} is {row.action}_IN_PROGRESS", "Conflict")
            begin(session, row, action)
        self.wake(child_id)

    def state(self, child_id: str) -> tuple[str, str, str] | None:
        """The child's (action, status, reason); None once it is deleted."""
        with self.db.read() as session:
            row = session.get(Stack, child_id)
        if row is None or row.deleted_at is not None:
            return None
        return row.action, row.status, row.status_reason

    def done(self, child_id: str, action: str) -> bool:
        """Whether the child's ``action`` is over: True when complete, a ResourceFailure when it failed."""
        state = self.state(child_id)
        if action == "DELETE":
            if state is None:
                return True
            if state[0] == "DELETE" and state[1] == "FAILED":
                raise ResourceFailure(state[2], "ResourceFailure")
            return False
        if state is None:
            raise ResourceFailure(f"The nested stack {child_id} is gone", "NotFound")
        if state[1] == "IN_PROGRESS":
            return False
        if state[1] == "FAILED":
            raise ResourceFailure(state[2], "ResourceFailure")
        return True

    # -- reading a child -----------------------------------------------------------------------------------
    def template(self, child_id: str) -> dict:
        """The child's template as last given (a group's members as they are now meant)."""
        with self.db.read() as session:
            row = session.get(Stack, child_id)
        return dict(row.template or {}) if row is not None else {}

    def outputs(self, child_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            row = session.get(Stack, child_id)
        if row is None:
            return {}
        return {o["output_key"]: o.get("output_value") for o in self._outputs(row)}

    def members(self, child_id: str) -> list[StackResource]:
        with self.db.read() as session:
            rows = session.scalars(select(StackResource).where(StackResource.stack_id == child_id,
                                                               StackResource.current.is_(True))).all()
        return list(rows)

    def member_reference(self, child_id: str, row: StackResource) -> Any:
        behaviour = implementation((row.definition or {}).get("implementation") or row.type)
        if behaviour is None:
            return row.physical_id
        stack = StackInfo(child_id, "", "")
        return behaviour().reference(Handle(row.name, stack, row.properties, row.physical_id, dict(row.data),
                                            None, stacks=self.for_stack(child_id)))

    def member_attribute(self, child_id: str, row: StackResource, name: str, cloud) -> Any:
        """A member's attribute: cached when the child's template reads it, else asked of its type now."""
        if name in (row.attributes or {}):
            return row.attributes[name]
        behaviour = implementation((row.definition or {}).get("implementation") or row.type)
        if behaviour is None or not row.physical_id:
            return None
        handle = Handle(row.name, StackInfo(child_id, "", ""), row.properties, row.physical_id, dict(row.data),
                        cloud, stacks=self.for_stack(child_id))
        return behaviour().attribute(handle, name)

    def for_stack(self, stack_id: str) -> NestedStacks:
        return NestedStacks(self.db, stack_id, self.wake, self._outputs, self.region)

    # -- the stack's own resources ---------------------------------------------------------------------------
    def sibling_data(self, physical_id: str) -> dict | None:
        """The record of the parent's resource with ``physical_id`` (a wait condition reads its handle's)."""
        with self.db.read() as session:
            row = session.scalars(select(StackResource).where(
                StackResource.stack_id == self.parent_id, StackResource.physical_id == physical_id)).first()
        return dict(row.data or {}) if row is not None else None

    def claimed(self, name: str) -> set[str]:
        """The ids every row of resource ``name`` in the stack records (its thing and the configs it made):
        a replaced row's too, so a retried step takes away only what no row names."""
        with self.db.read() as session:
            rows = session.scalars(select(StackResource).where(StackResource.stack_id == self.parent_id,
                                                               StackResource.name == name)).all()
        found = set()
        for row in rows:
            data = row.data or {}
            found.update(v for v in (row.physical_id, data.get("own_config"), data.get("replaced_config")) if v)
        return found
