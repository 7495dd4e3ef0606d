"""What an update does to each resource of a stack: the one comparison of a new definition with the rows
the stack has, used by the engine (which then does it) and by update preview (which only says it)."""

from __future__ import annotations

from onestack.http.errors import APIError
from onestack.services.orchestration.models import StackResource
from onestack.services.orchestration.service.definition import Definition
from onestack.services.orchestration.service.resources.nested import NestedStack

KINDS = ("added", "deleted", "replaced", "updated", "unchanged")


def snapshot(definition: Definition, name: str, scope=None) -> dict:
    """What a row keeps of its definition besides properties, with the type that implements it; for a
    stack-backed type (with ``scope``) also its facade as resolved now, so that a change of what its child
    reads with resource_facade (metadata from a changed parameter) updates it."""
    behaviour = definition.behaviours[name]
    shown = {**definition.template.resources[name].snapshot(), "implementation": behaviour.name}
    if scope is not None and issubclass(behaviour, NestedStack):
        try:
            shown["facade"] = definition.facade(name, scope)
        except APIError:
            pass  # the engine reports a metadata that cannot be resolved when it resolves it
    fingerprint = getattr(behaviour, "fingerprint", "")
    if fingerprint:  # a provider template's resource changes with its template
        shown["provider"] = fingerprint
    return shown


def same(definition: Definition, name: str, row: StackResource | None, properties: dict, shown: dict,
         behaviour) -> bool:
    """Whether ``row`` already is resource ``name`` as the definition means it (nothing to do)."""
    return row is not None and row.type == definition.template.resources[name].type \
        and row.status == "COMPLETE" and row.properties == properties and row.definition == shown \
        and not behaviour.pending_change(row.data or {})


def in_place(definition: Definition, name: str, row: StackResource | None, properties: dict, behaviour) -> bool:
    """Whether ``row`` can become ``properties`` by an update of the thing it stands for (not a replacement)."""
    return row is not None and row.type == definition.template.resources[name].type and row.status == "COMPLETE" \
        and not behaviour.needs_replacement(row.properties, properties)


def unchanged(definition: Definition, scope, name: str, row: StackResource | None) -> bool:
    """``same``, checked from the definition alone (a property that cannot be resolved is a change: the
    engine reports it when it gets there)."""
    if row is None or row.status != "COMPLETE":
        return False
    try:
        properties = definition.properties(name, scope)
        external = definition.external_id(name, scope)
    except APIError:
        return False
    if external != (row.data or {}).get("external_id"):
        return False
    return same(definition, name, row, properties, snapshot(definition, name, scope),
                definition.behaviours[name]())


def plan(definition: Definition, rows: list[StackResource]) -> dict[str, list[str]]:
    """Resource names by what converging ``rows`` to ``definition`` does to them (``KINDS``)."""
    current = {r.name: r for r in rows if r.current}
    for row in rows:  # a resource whose replacement has not started yet is still the one there
        current.setdefault(row.name, row)
    scope = definition.scope(current)
    active = definition.active(scope)
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for name in active:
        row = current.get(name)
        if row is None:
            out["added"].append(name)
        elif unchanged(definition, scope, name, row):
            out["unchanged"].append(name)
        else:
            try:
                properties = definition.properties(name, scope)
                external = definition.external_id(name, scope)
            except APIError:
                properties, external = None, None
            keeps = external == (row.data or {}).get("external_id")
            updated = properties is not None and keeps and \
                in_place(definition, name, row, properties, definition.behaviours[name]())
            out["updated" if updated else "replaced"].append(name)
    out["deleted"] = [name for name in current if name not in active]
    return out
