"""What every resource type is: a properties schema, its attributes, and the steps that make, change and
remove the thing it stands for through the cloud's APIs.

Each step is safe to repeat (the engine may run it again after a crash) and never waits: ``create``
starts the work and ``create_done`` is asked again until the thing is ready, so one engine thread keeps
many resources moving at once.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any, ClassVar

from onestack.services.orchestration.service.cloud import CloudError, Session
from onestack.services.orchestration.service.hot.functions import UNKNOWN, TemplateError


class PropertyError(TemplateError):
    """A property its type does not accept; shown as Heat shows it (``Property error: ...``)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"Property error: {path}", message)


class ResourceFailure(Exception):
    """A step that cannot succeed: ``kind`` and ``message`` make the resource's status reason."""

    def __init__(self, message: str, kind: str = "ResourceFailure"):
        self.kind = kind
        self.message = message
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Prop:
    """One property: ``type`` is string, integer, number, boolean, map, list or any.  ``update``: it
    changes in place (otherwise a change replaces the resource).  ``schema``: a map's keys or a list's
    item."""

    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    update: bool = False
    immutable: bool = False
    allowed: tuple = ()
    min: float | None = None
    max: float | None = None
    schema: Any = None

    def shown(self) -> dict:
        """The property as ``resource_types/{type}`` shows it."""
        out: dict[str, Any] = {"type": self.type, "description": self.description, "required": self.required,
                               "update_allowed": self.update, "immutable": self.immutable}
        if self.default is not None:
            out["default"] = self.default
        constraints = []
        if self.allowed:
            constraints.append({"allowed_values": list(self.allowed)})
        if self.min is not None or self.max is not None:
            bounds = {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
            constraints.append({"length" if self.type in ("string", "list") else "range": bounds})
        if constraints:
            out["constraints"] = constraints
        if isinstance(self.schema, dict):
            out["schema"] = {k: p.shown() for k, p in self.schema.items()}
        elif isinstance(self.schema, Prop):
            out["schema"] = {"*": self.schema.shown()}
        return out


def coerce(prop: Prop, value, path: str):
    """``value`` as ``prop`` takes it (numbers from strings, strings from numbers), or a PropertyError."""
    if value is UNKNOWN or value is None:
        return value
    kind = prop.type
    if kind == "string":
        if isinstance(value, dict | list):
            raise PropertyError(path, f"Value must be a string; got {value!r}")
        value = ("true" if value else "false") if isinstance(value, bool) else str(value)
    elif kind in ("integer", "number"):
        if isinstance(value, bool):
            raise PropertyError(path, f"Value '{value}' is not an integer")
        try:
            number = float(value) if kind == "number" else int(str(value).strip())
        except ValueError:
            raise PropertyError(path, f"Value '{value}' is not an {'number' if kind == 'number' else 'integer'}") \
                from None
        value = int(number) if kind == "number" and float(number).is_integer() else number
    elif kind == "boolean":
        if not isinstance(value, bool):
            text = str(value).lower()
            if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise PropertyError(path, f'Unrecognized value "{value}", acceptable values are: true, false.')
            value = text in ("true", "1", "yes", "on")
    elif kind == "map":
        if not isinstance(value, dict):
            raise PropertyError(path, f'"{value}" is not a map')
        if isinstance(prop.schema, dict):
            value = apply_schema(prop.schema, value, path)
    elif kind == "list":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")] if value else []
        if not isinstance(value, list):
            raise PropertyError(path, f'"{value}" is not a list')
        if isinstance(prop.schema, Prop):
            value = [coerce(prop.schema, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if prop.allowed and value not in prop.allowed:
        raise PropertyError(path, f'"{value}" is not an allowed value [{", ".join(map(str, prop.allowed))}]')
    if prop.min is not None or prop.max is not None:
        measure = len(value) if isinstance(value, str | list | dict) else value
        if (prop.min is not None and measure < prop.min) or (prop.max is not None and measure > prop.max):
            raise PropertyError(path, f"{measure} is out of range (min: {prop.min}, max: {prop.max})")
    return value


def apply_schema(schema: dict[str, Prop], values, path: str) -> dict:
    """The properties a resource is made with: each checked and coerced, defaults filled in."""
    if values is UNKNOWN:
        return values
    if not isinstance(values, dict):
        raise PropertyError(path, "Properties must be a map")
    for key in values:
        if key not in schema:
            raise PropertyError(path, f"Unknown Property {key}")
    out = {}
    for key, prop in schema.items():
        value = values.get(key)
        if value is None:
            if prop.required:
                raise PropertyError(path, f"Property {key} not assigned")
            value = prop.default
        out[key] = coerce(prop, value, f"{path}.{key}")
    return out


@dataclasses.dataclass
class StackInfo:
    id: str
    name: str
    project_id: str
    # A nested stack's parent resource as resource_facade reads it (None for a top-level stack).
    facade: dict | None = None


@dataclasses.dataclass
class Handle:
    """One resource as its type acts on it.  ``data`` is the type's own record, saved after each step."""

    name: str
    stack: StackInfo
    properties: dict
    physical_id: str | None
    data: dict
    cloud: Session
    # The cloud's URL under which a resource's signal lands (WaitConditionHandle's curl target).
    signal_base: str = ""
    # The stack's child stacks and sibling records (``service.nested.NestedStacks``), for nested stack types.
    stacks: Any = None
    # Per attribute the template reads, the path elements read beyond it (a group's ``attributes``).
    attribute_paths: dict = dataclasses.field(default_factory=dict)
    # Answers read during one step (a show read once for several attributes); never saved.
    cache: dict = dataclasses.field(default_factory=dict)
    # The resource's update_policy, checked against its type's ``update_policy_schema`` (empty without one).
    update_policy: dict = dataclasses.field(default_factory=dict)
    # The signals the row held when ``data`` was read or last saved (``with_signals_taken``).
    signals_read: list | None = None

    def __post_init__(self) -> None:
        if self.signals_read is None:
            self.signals_read = list(self.data.get("signals", []))

    def physical_name(self) -> str:
        """``<stack>-<resource>-<random>``: chosen once and kept, so a step repeated after a crash finds
        what the first try made."""
        if "physical_name" not in self.data:
            self.data["physical_name"] = f"{self.stack.name}-{self.name}-{secrets.token_hex(6)}"[:255]
        return self.data["physical_name"]

    def name_or_physical(self, key: str = "name") -> str:
        return self.properties.get(key) or self.physical_name()

    def found_by_physical_name(self, service: str, path: str, key: str, *, exact: bool = False,
                               **params: str) -> str | None:
        """``find`` for a type listed at ``path`` under ``key``: the id of the one item carrying the physical
        name a create chose (none when the template names it).  ``exact``: the API matches names loosely
        (Nova's regex), so keep only the items named exactly."""
        if self.properties.get("name") or "physical_name" not in self.data:
            return None
        name = self.data["physical_name"]
        found = self.cloud.get(service, path, params={"name": name, **params})[key]
        if exact:
            found = [item for item in found if item["name"] == name]
        return found[0]["id"] if len(found) == 1 else None


class ResourceType:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    properties: ClassVar[dict[str, Prop]] = {}
    # attribute -> description; every type also answers ``show``.
    attributes: ClassVar[dict[str, str]] = {}
    # The update_policy sections the type honours (Heat's update_policy_schema); others have none.
    update_policy_schema: ClassVar[dict[str, Prop]] = {}
    # Free-form properties (OS::Heat::None takes anything).
    free_properties: ClassVar[bool] = False
    # Its attributes come from its own record, not from a service: all of them are cached (resource show
    # gives them), not only those the template reads.
    local_attributes: ClassVar[bool] = False
    # Takes signals (``POST .../resources/{name}/signal``): ``take_signal`` records one in the row's data.
    signalable: ClassVar[bool] = False
    # Takes signals during its DELETE too (a deployment whose actions include DELETE awaits its agent's report).
    signalled_while_deleting: ClassVar[bool] = False
    # A signal resizes a scaling group of the stack (a ScalingPolicy): see ``OrchestrationService.signal``.
    scales: ClassVar[bool] = False
    # Takes ``deletion_policy: Snapshot``: ``snapshot`` keeps a copy (an image, a backup) before the delete.
    snapshots: ClassVar[bool] = False

    # -- checking ------------------------------------------------------------------------------------
    @classmethod
    def schema_apply(cls, values, path: str) -> dict:
        if cls.free_properties:
            return values if isinstance(values, dict) or values is UNKNOWN else {}
        return apply_schema(cls.properties, values, path)

    @classmethod
    def implied_requires(cls, name: str, properties: dict, others: dict[str, tuple[str, dict]]) -> set[str]:
        """Resources of the same stack this one needs though its properties name them only indirectly
        (a port needs the subnets of its network).  ``others``: name -> (type, raw properties)."""
        return set()

    @classmethod
    def member_types(cls, properties) -> list[str]:
        """The types of the resources this one makes in a nested stack of its own (a group's members)."""
        return []

    def needs_replacement(self, old: dict, new: dict) -> bool:
        """Whether going from ``old`` to ``new`` properties replaces the resource."""
        return any(old.get(key) != new.get(key) and not (prop.update or self.free_properties)
                   for key, prop in self.properties.items())

    def pending_change(self, data: dict) -> bool:
        """Whether the thing must be updated though its properties did not change (a scaling group whose
        capacity a policy changed)."""
        return False

    # -- acting --------------------------------------------------------------------------------------
    def create(self, h: Handle) -> None:
        """Start making the thing; set ``h.physical_id``."""

    def create_done(self, h: Handle) -> bool:
        return True

    def update(self, h: Handle, old: dict, new: dict) -> None:
        """Change the thing in place from ``old`` to ``new`` properties (``h.properties`` is ``new``)."""

    def update_done(self, h: Handle) -> bool:
        return True

    def delete(self, h: Handle) -> None:
        """Start removing the thing (a thing already gone is not an error)."""

    def delete_done(self, h: Handle) -> bool:
        return True

    def suspend(self, h: Handle) -> None:
        """Start suspending the thing (stack SUSPEND); a type with nothing to suspend does nothing.  Safe to
        repeat: a thing already suspended (or suspending) is left as it is."""

    def suspend_done(self, h: Handle) -> bool:
        return True

    def resume(self, h: Handle) -> None:
        """Start resuming the thing (stack RESUME); the same rules as ``suspend``."""

    def resume_done(self, h: Handle) -> bool:
        return True

    def check(self, h: Handle) -> bool:
        """Stack CHECK: ask the service whether the thing is still there (its 404 is the resource's failure).
        False when there is nothing to ask (Heat then says CHECK is not supported for the type): a type
        whose ``show`` reads no service, or a resource that made nothing."""
        if not h.physical_id:
            return False
        return self.attribute(h, "show") is not None

    def find(self, h: Handle) -> str | None:
        """The id of what an interrupted ``create`` made under ``h.physical_name()``, if it can be found."""
        return None

    def reference(self, h: Handle) -> Any:
        """What ``get_resource`` gives."""
        return h.physical_id

    def attribute(self, h: Handle, name: str) -> Any:
        """The value of attribute ``name`` (``show`` included); None when the thing has no such value."""
        return None

    @classmethod
    def take_signal(cls, data: dict, body, action: str) -> dict:
        """The resource's data once signal ``body``, sent while the resource's action is ``action``, is
        recorded in it."""
        return {**data, "signals": [*data.get("signals", []), body]}

    @classmethod
    def signal_reason(cls, body) -> str:
        return "Signal: resource signalled"

    def snapshot(self, h: Handle) -> None:
        """deletion_policy Snapshot: start keeping a copy of the thing before it is deleted (types with
        ``snapshots``).  Safe to repeat: a copy already asked for is found again, not made twice."""

    def snapshot_done(self, h: Handle) -> bool:
        return True


def image_id(h: Handle, ref: str) -> str:
    """The id of the image ``ref`` names, by id or else by its one name (Heat's glance constraint)."""
    try:
        return h.cloud.get("image", f"/v2/images/{ref}")["id"]
    except CloudError as exc:
        if exc.status not in (400, 404):
            raise
    found = h.cloud.get("image", "/v2/images", params={"name": ref})["images"]
    if len(found) != 1:
        raise ResourceFailure(f"Image {ref} could not be found." if not found else
                              f"Multiple images named {ref}: use an ID", "NotFound")
    return found[0]["id"]


def gone(call: Callable[[], Any]) -> bool:
    """Run a read that answers 404 once the thing is gone: True when it is."""
    try:
        call()
    except CloudError as exc:
        if exc.status == 404:
            return True
        raise
    return False


def ignore_missing(call: Callable[[], Any]) -> Any:
    """Run a delete; a thing already gone is what was wanted."""
    try:
        return call()
    except CloudError as exc:
        if exc.status != 404:
            raise
        return None


def with_signals_taken(data: dict, read: list, stored: dict | None) -> dict:
    """``data``, about to be saved over the row's ``stored`` data, given the signals the row took since its
    list was ``read`` (appended to ``data``'s own, in place).  A signal is recorded by its own transaction
    while a step works on its copy of the data (a software deployment's report may come while its update is
    being sent): the step's save must not lose it."""
    unseen = list(read)
    arrived = []
    for signal in (stored or {}).get("signals", []):
        if signal in unseen:
            unseen.remove(signal)
        else:
            arrived.append(signal)
    if arrived:
        data["signals"] = [*data.get("signals", []), *arrived]
    return data
