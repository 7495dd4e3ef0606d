"""Update preview: what an update would do to each resource, as Heat's ``resource_changes``, down into
nested stacks when ``show_nested`` asks.

The top level is ``changes.plan``, the engine's own comparison, with one difference Heat makes: a resource
that is a stack (a provider template, a ResourceGroup) is always ``updated``, because Heat always hands the
child the update and lets its resources decide.  With ``show_nested``, as Heat does, the resources of a
child whose resource is deleted or replaced are listed as deleted, those of a child that an added or
replaced resource would make as added, and an updated child's own preview is merged into the buckets,
all the way down."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from onestack.http.errors import APIError
from onestack.services.orchestration.models import Stack, StackResource
from onestack.services.orchestration.service import changes
from onestack.services.orchestration.service.definition import Definition
from onestack.services.orchestration.service.nested import MAX_DEPTH, child_environment
from onestack.services.orchestration.service.resources.base import Handle, StackInfo
from onestack.services.orchestration.service.resources.nested import ResourceGroup, TemplateResource
from onestack.services.orchestration.service.stacks import definition_of

# The types whose child stack a preview can work out from the properties alone (OS::Heat::Stack's child
# lives in another region's stack, which Heat's preview does not go into either).
LOCAL_STACKS = (TemplateResource, ResourceGroup)


@dataclasses.dataclass
class Change:
    """One resource of one bucket: ``row`` is the resource as it is (None for one not made yet);
    ``stack`` the stack it is in (for a child not made yet, the stack as the update would make it, its id
    empty)."""

    kind: str
    stack: Stack
    name: str
    type: str
    row: StackResource | None = None
    metadata: dict = dataclasses.field(default_factory=dict)
    required_by: list[str] = dataclasses.field(default_factory=list)


Rows = Callable[[str], list[StackResource]]
Child = Callable[[str], Stack | None]


def _required_by(definition: Definition) -> dict[str, list[str]]:
    return {name: sorted(other for other, deps in definition.requires.items() if name in deps)
            for name in definition.template.resources}


def _is_stack(behaviour) -> bool:
    return isinstance(behaviour, type) and issubclass(behaviour, LOCAL_STACKS)


def _row_is_stack(row: StackResource | None) -> bool:
    return row is not None and bool((row.data or {}).get("nested")) and bool(row.physical_id)


class Preview:
    """One preview: ``rows`` gives a stack's resources, ``child`` a stack by id (nested stacks)."""

    def __init__(self, rows: Rows, child: Child, show_nested: bool):
        self.rows = rows
        self.child = child
        self.show_nested = show_nested
        self.out: list[Change] = []

    def stack(self, current: Stack, candidate: Stack, depth: int = 0) -> list[Change]:
        """The changes of ``current`` becoming ``candidate`` (and, with ``show_nested``, its children's)."""
        definition = definition_of(candidate)
        rows = self.rows(current.id)
        plan = changes.plan(definition, rows)
        by_name = {r.name: r for r in rows if r.current}
        for row in rows:
            by_name.setdefault(row.name, row)
        for name in list(plan["unchanged"]):
            if _is_stack(definition.behaviours[name]) and _row_is_stack(by_name.get(name)):
                plan["unchanged"].remove(name)
                plan["updated"].append(name)
        required_by = _required_by(definition)
        for kind in changes.KINDS:
            for name in plan[kind]:
                row = by_name.get(name) if kind != "added" else None
                if name in definition.template.resources and kind != "deleted":
                    kind_name = definition.template.resources[name].type
                    metadata = definition.template.resources[name].metadata or {}
                else:
                    kind_name, metadata = row.type, (row.definition or {}).get("metadata") or {}
                self.out.append(Change(kind, current if row is not None else candidate, name, kind_name, row,
                                       metadata, required_by.get(name, [])))
        if self.show_nested and depth < MAX_DEPTH:
            scope = definition.scope(by_name)
            for name in plan["deleted"] + plan["replaced"]:
                self._gone(by_name.get(name), depth + 1)
            for name in plan["added"] + plan["replaced"]:
                self._made(candidate, definition, scope, name, by_name.get(name), depth + 1)
            for name in plan["updated"]:
                row = by_name.get(name)
                if _is_stack(definition.behaviours[name]) and _row_is_stack(row):
                    self._updated(candidate, definition, scope, name, row, depth + 1)
        return self.out

    def _gone(self, row: StackResource | None, depth: int) -> None:
        """Everything in the child of a resource that goes, as deleted."""
        if not _row_is_stack(row) or depth > MAX_DEPTH:
            return
        child = self.child(row.physical_id)
        if child is None:
            return
        for inner in self.rows(child.id):
            if inner.current:
                self.out.append(Change("deleted", child, inner.name, inner.type, inner,
                                       (inner.definition or {}).get("metadata") or {}))
                self._gone(inner, depth + 1)

    def _child_of(self, parent: Stack, definition: Definition, scope, name: str, row: StackResource | None,
                  child: Stack | None) -> Stack | None:
        """The child stack resource ``name`` would have after the update (None when its properties are
        not known before the update runs)."""
        behaviour = definition.behaviours[name]
        try:
            properties = definition.properties(name, scope)
        except APIError:
            return None
        data = dict((row.data or {}) if row is not None else {})
        handle = Handle(name, StackInfo(parent.id, parent.name, parent.project_id), properties,
                        row.physical_id if row is not None else None, data, None)
        try:
            template, parameters = behaviour().nested_template(handle), behaviour().nested_parameters(handle)
            facade = definition.facade(name, scope)
        except (KeyError, TypeError, ValueError, APIError):
            return None
        return Stack(facade=facade, id=child.id if child is not None else "",
                     name=child.name if child is not None else f"{parent.name}-{name}",
                     project_id=parent.project_id, template=template, files=dict(parent.files or {}),
                     environment=child_environment(parent, name), parameters=parameters,
                     owner_id=parent.id or None, parent_resource=name)

    def _made(self, parent: Stack, definition: Definition, scope, name: str, row: StackResource | None,
              depth: int) -> None:
        """Everything in the child an added or replaced resource would make, as added."""
        if not _is_stack(definition.behaviours[name]) or depth > MAX_DEPTH:
            return
        candidate = self._child_of(parent, definition, scope, name, None, None)
        if candidate is None:
            return
        try:
            inner = definition_of(candidate)
            inner_scope = inner.scope()
            active = inner.active(inner_scope)
        except APIError:
            return
        required_by = _required_by(inner)
        for member in active:
            resource = inner.template.resources[member]
            self.out.append(Change("added", candidate, member, resource.type, None, resource.metadata or {},
                                   required_by.get(member, [])))
            self._made(candidate, inner, inner_scope, member, None, depth + 1)

    def _updated(self, parent: Stack, definition: Definition, scope, name: str, row: StackResource,
                 depth: int) -> None:
        """An updated child's own preview, merged in."""
        child = self.child(row.physical_id)
        if child is None:
            return
        candidate = self._child_of(parent, definition, scope, name, row, child)
        if candidate is None:
            return
        try:
            self.stack(child, candidate, depth)
        except APIError:
            return
