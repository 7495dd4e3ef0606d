"""A stack's definition as a whole: its template, environment, files and parameter values, and the scope
its functions are evaluated in (the parameters, and the resources as the database knows them)."""

from __future__ import annotations

from typing import Any

from onestack.http.errors import BadRequest
from onestack.services.orchestration.models import StackResource
from onestack.services.orchestration.service import hooks
from onestack.services.orchestration.service.hot.functions import UNKNOWN, Evaluator, TemplateError
from onestack.services.orchestration.service.hot.parameters import PSEUDO, resolve_values
from onestack.services.orchestration.service.hot.template import Template, as_error, invalid, load
from onestack.services.orchestration.service.resources import known
from onestack.services.orchestration.service.resources.base import (
    Handle,
    ResourceType,
    StackInfo,
    apply_schema,
)
from onestack.services.orchestration.service.resources.nested import TemplateResource, provider

ENVIRONMENT_SECTIONS = {"parameters", "parameter_defaults", "resource_registry", "event_sinks",
                        "encrypted_param_names", "parameter_merge_strategies"}


def environment(raw, files: dict, names: list | None = None) -> dict:
    """The environment a stack runs with: the ``environment_files`` (from ``files``) in order, then the
    request's own ``environment`` over them."""
    merged: dict = {"parameters": {}, "parameter_defaults": {}, "resource_registry": {}}
    layers = []
    for name in names or []:
        if name not in files:
            raise invalid(f"Environment file {name} is not in the request's files")
        layers.append(load(files[name], f"environment file {name}"))
    layers.append(load(raw or {}, "environment"))
    for layer in layers:
        for section, value in layer.items():
            if section not in ENVIRONMENT_SECTIONS:
                raise invalid(f'environment has wrong section "{section}"', "InvalidEnvironment")
            if isinstance(value, dict) and isinstance(merged.get(section), dict):
                merged[section] = {**merged[section], **value}
            else:
                merged[section] = value
    for section in ("parameters", "parameter_defaults", "resource_registry"):
        if not isinstance(merged.get(section), dict):
            raise invalid(f'environment section "{section}" must be a map', "InvalidEnvironment")
    check_event_sinks(merged.get("event_sinks"))
    hooks.check(merged)
    return merged


def check_event_sinks(sinks) -> None:
    """Heat's only sink is a Zaqar queue; this cloud has no messaging service, so a sink is refused by name
    rather than accepted and never fed."""
    if sinks in (None, []):
        return
    if not isinstance(sinks, list) or not all(isinstance(sink, dict) for sink in sinks):
        raise invalid('environment section "event_sinks" must be a list of maps', "InvalidEnvironment")
    for sink in sinks:
        kind = sink.get("type")
        if kind != "zaqar-queue":
            raise invalid(f"event_sinks: Unknown sink type {kind}", "InvalidEnvironment")
        raise invalid("event_sinks: zaqar-queue is not supported by this cloud: it needs a messaging service "
                      "(Zaqar), which this cloud does not have", "InvalidEnvironment")


class Definition:
    def __init__(self, raw_template: dict, files: dict, env: dict, given: dict, stack: StackInfo, *,
                 require_parameters: bool = True):
        """``require_parameters``: a parameter without a value is refused (a stack), or unknown (a template
        being validated)."""
        self.raw = raw_template
        self.template = Template(raw_template)
        self.files = files or {}
        self.environment = env
        self.stack = stack
        # the values given (not defaults): template validate shows them as each parameter's ``Value``
        self.given = {**env.get("parameters", {}), **(given or {})}
        self.values = resolve_values(self.template.parameters, {**env.get("parameters", {}), **(given or {})},
                                     env.get("parameter_defaults", {}), required=require_parameters)
        self.registry = {k: v for k, v in env.get("resource_registry", {}).items() if k != "resources"}
        self.behaviours: dict[str, type[ResourceType]] = {}
        for name, definition in self.template.resources.items():
            self.behaviours[name] = self._behaviour(name, definition.type)
            if definition.deletion_policy == "Snapshot" and not self.behaviours[name].snapshots:
                raise invalid(f"resources.{name}: {definition.type} does not support deletion_policy Snapshot "
                              "(OS::Nova::Server and OS::Cinder::Volume do; Delete and Retain are supported by "
                              "every type)")
        self.requires = self._with_implied(self.template.requires)

    def _behaviour(self, name: str, kind: str) -> type[ResourceType]:
        mapped = self.registry.get(kind, kind)
        if not isinstance(mapped, str):
            raise invalid(f"resource_registry: {kind} must map to a type name")
        if mapped in self.files or mapped.endswith((".yaml", ".yml", ".template")):
            return self._provider(name, mapped)
        behaviour = known(mapped)
        if behaviour is None:
            raise invalid(f"resources.{name}: The Resource Type ({kind}) could not be found.",
                          "StackValidationFailed")
        return behaviour

    def _provider(self, name: str, source: str) -> type[ResourceType]:
        """The type a provider template in the request's files defines."""
        if source not in self.files:
            raise invalid(f'resources.{name}: Could not fetch remote template "{source}": it is not in the '
                          "request's files", "NotFound")
        try:
            template = load(self.files[source], f"provider template {source}")
            Template(template)
        except BadRequest as exc:
            raise invalid(f"resources.{name}: {source}: {exc.message}", exc.kind or "StackValidationFailed") \
                from None
        return provider(source, template)

    def _with_implied(self, requires: dict[str, set[str]]) -> dict[str, set[str]]:
        """The template's dependencies plus those each type implies, except an implied one that would close
        a cycle (an explicit dependency the other way wins)."""
        others = {name: (self.behaviours[name].name, d.properties) for name, d in self.template.resources.items()}
        out = {name: set(deps) for name, deps in requires.items()}
        for name, definition in self.template.resources.items():
            for dep in self.behaviours[name].implied_requires(name, definition.properties, others):
                if dep != name and not _reaches(out, dep, name):
                    out[name].add(dep)
        return out

    # -- evaluation --------------------------------------------------------------------------------------
    def scope(self, rows: dict[str, StackResource] | None = None) -> StackScope:
        return StackScope(self, rows)

    def check(self) -> None:
        """Everything that can be checked before any resource exists (see ``Template.check``)."""

        scope = self.scope()

        def type_check(definition, properties) -> None:
            behaviour = self.behaviours[definition.name]
            checked = behaviour.schema_apply(properties, f"resources.{definition.name}.properties")
            self.update_policy(definition.name, scope)
            for kind in behaviour.member_types(checked):  # a group's members' type must exist too
                self._behaviour(definition.name, kind)

        self.template.check(scope, type_check)

    def properties(self, name: str, scope: StackScope) -> dict:
        """Resource ``name``'s properties, resolved now and checked against its type."""
        definition = self.template.resources[name]
        if definition.external_id is not None:
            return {}  # an external resource's properties are not used
        where = f"resources.{name}.properties"
        try:
            values = scope.evaluator.resolve(definition.properties, where)
            return self.behaviours[name].schema_apply(values, where)
        except TemplateError as exc:
            raise as_error(exc) from None

    def external_id(self, name: str, scope: StackScope) -> str | None:
        """The id of the existing thing resource ``name`` stands for (``external_id``), if it has one."""
        raw = self.template.resources[name].external_id
        if raw is None:
            return None
        try:
            value = scope.evaluator.resolve(raw, f"resources.{name}.external_id")
        except TemplateError as exc:
            raise as_error(exc) from None
        return None if value is None else str(value)

    def update_policy(self, name: str, scope: StackScope) -> dict:
        """Resource ``name``'s update_policy, resolved and checked against its type's schema (a type without
        one ignores it, as before)."""
        schema = self.behaviours[name].update_policy_schema
        if not schema:
            return {}
        where = f"resources.{name}.update_policy"
        try:
            values = scope.evaluator.resolve(self.template.resources[name].update_policy or {}, where)
            return apply_schema(schema, values, where)
        except TemplateError as exc:
            raise as_error(exc) from None

    def facade(self, name: str, scope: StackScope) -> dict:
        """What the child stack of resource ``name`` reads with resource_facade: the resource's metadata
        and update_policy resolved now (a value not known yet is null), and its deletion_policy."""
        definition = self.template.resources[name]
        out: dict[str, Any] = {"deletion_policy": definition.deletion_policy}
        for part in ("metadata", "update_policy"):
            try:
                value = scope.evaluator.resolve(getattr(definition, part) or {}, f"resources.{name}.{part}")
            except TemplateError as exc:
                raise as_error(exc) from None
            out[part] = _known_only(value)
        return out

    def active(self, scope: StackScope) -> list[str]:
        """The resources whose condition holds."""
        try:
            return self.template.active_resources(scope.evaluator)
        except TemplateError as exc:
            raise as_error(exc) from None

    def outputs(self, scope: StackScope) -> list[dict]:
        """Each output's value, or its error (Heat shows ``output_error`` instead of failing the call)."""
        shown = []
        for key, output in self.template.outputs.items():
            entry: dict[str, Any] = {"output_key": key, "description": output.get("description") or "No description given"}
            try:
                if self.template.enabled(scope.evaluator, output.get("condition")) is False:
                    continue
                entry["output_value"] = scope.evaluator.resolve(output.get("value"), f"outputs.{key}.value")
            except TemplateError as exc:
                entry["output_value"] = None
                entry["output_error"] = exc.message
            shown.append(entry)
        return shown

    def _get_attrs(self) -> list[list]:
        """The arguments of every get_attr in the resources' definitions and the outputs."""
        found: list[list] = []

        def walk(value) -> None:
            if isinstance(value, dict):
                for name in ("get_attr", "Fn::GetAtt"):
                    if len(value) == 1 and isinstance(value.get(name), list) and value[name]:
                        found.append(value[name])
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        for definition in self.template.resources.values():
            walk([definition.properties, definition.metadata])
        for output in self.template.outputs.values():
            walk(output.get("value"))
        return found

    def referenced_attributes(self) -> dict[str, set[str | None]]:
        """Per resource, the attributes anything reads with get_attr (None: all of them)."""
        found: dict[str, set[str | None]] = {}
        for args in self._get_attrs():
            attr = args[1] if len(args) > 1 and isinstance(args[1], str) else None
            found.setdefault(str(args[0]), set()).add(attr)
        return found

    def attribute_paths(self) -> dict[str, dict[str, set]]:
        """Per resource and attribute read with get_attr, the literal path elements read right after it
        (``get_attr: [group, attributes, name]`` gives ``{"group": {"attributes": {"name"}}}``)."""
        found: dict[str, dict[str, set]] = {}
        for args in self._get_attrs():
            if len(args) > 1 and isinstance(args[1], str):
                paths = found.setdefault(str(args[0]), {}).setdefault(args[1], set())
                if len(args) > 2 and isinstance(args[2], str | int):
                    paths.add(str(args[2]))
        return found

    def provider_children(self) -> dict[str, tuple[str, Definition]]:
        """Each resource of a provider template type, with the definition its nested stack would have
        (its properties, where known before anything exists, as its parameters): template validate's
        ``show_nested``."""
        out: dict[str, tuple[str, Definition]] = {}
        scope = self.scope()
        for name, resource in self.template.resources.items():
            behaviour = self.behaviours[name]
            if not issubclass(behaviour, TemplateResource) or not behaviour.template:
                continue
            try:
                given = {k: v for k, v in self.properties(name, scope).items()
                         if v is not None and v is not UNKNOWN and not _unknown_inside(v)}
            except BadRequest:
                given = {}
            try:
                facade = self.facade(name, scope)
            except BadRequest:
                facade = {}
            stack = StackInfo(self.stack.id, self.stack.name, self.stack.project_id, facade)
            child = Definition(behaviour.template, self.files, {**self.environment, "parameters": {}}, given,
                               stack, require_parameters=False)
            out[name] = (resource.type, child)
        return out

    def shown_parameters(self) -> dict[str, str]:
        shown = {name: param.shown(self.values.get(name)) for name, param in self.template.parameters.items()}
        shown.update({"OS::stack_name": self.stack.name, "OS::stack_id": self.stack.id,
                      "OS::project_id": self.stack.project_id})
        return shown


class StackScope:
    """What functions read: parameters, files, conditions, and the resources' rows (UNKNOWN before they
    exist, so the same evaluation checks a template and computes its values)."""

    def __init__(self, definition: Definition, rows: dict[str, StackResource] | None):
        self.definition = definition
        self.rows = rows
        self.evaluator = Evaluator(definition.template.version, self)
        self._conditions: dict[str, Any] = {}
        self._evaluating: set[str] = set()

    def param(self, name: str) -> Any:
        stack = self.definition.stack
        pseudo = {"OS::stack_name": stack.name, "OS::stack_id": stack.id, "OS::project_id": stack.project_id}
        if name in PSEUDO:
            return pseudo[name]
        if name not in self.definition.values:
            raise TemplateError("", f"The Parameter ({name}) was not defined in template.")
        return self.definition.values[name]

    def has_resource(self, name: str) -> bool:
        return name in self.definition.template.resources

    def _row(self, name: str) -> StackResource | None:
        return None if self.rows is None else self.rows.get(name)

    def resource_id(self, name: str) -> Any:
        row = self._row(name)
        if row is None:
            return UNKNOWN if self.rows is None else None
        handle = Handle(row.name, self.definition.stack, row.properties, row.physical_id, dict(row.data), None)
        return self.definition.behaviours[name]().reference(handle)

    def attribute(self, name: str, attribute: str | None) -> Any:
        row = self._row(name)
        if row is None:
            return UNKNOWN if self.rows is None else None
        if attribute is None:
            return dict(row.attributes)
        return row.attributes.get(attribute)

    def condition(self, name: str) -> bool:
        conditions = self.definition.template.conditions
        if name not in conditions:
            raise TemplateError("conditions", f'Invalid condition "{name}"')
        if name not in self._conditions:
            if name in self._evaluating:
                raise TemplateError(f"conditions.{name}", "Circular definition of condition")
            self._evaluating.add(name)
            self._conditions[name] = self.evaluator.condition(conditions[name], f"conditions.{name}")
            self._evaluating.discard(name)
        return self._conditions[name]

    def facade(self, name: str) -> Any:
        facade = self.definition.stack.facade
        if facade is None:
            raise TemplateError("", "resource_facade is only valid in a nested stack (a provider template's): "
                                    "this stack stands for no parent resource")
        return facade.get(name)

    def availability_zones(self) -> list[str]:
        # Heat asks Nova; a template is evaluated here without a client, so this is the cloud's default zone
        return ["nova"]

    def file(self, name: str) -> str:
        if name not in self.definition.files:
            raise TemplateError("", f'No content found in the "files" section for get_file path: {name}')
        return self.definition.files[name]


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False



def _unknown_inside(value) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_unknown_inside(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown_inside(v) for v in value)
    return False


def _known_only(value):
    """``value`` with what is not known yet as null (a facade is stored as JSON)."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: _known_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known_only(v) for v in value]
    return value
