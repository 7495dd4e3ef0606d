"""A HOT template: read from YAML or JSON, its sections checked, its resources' dependencies found.

Every refusal is a 400 naming where the template is wrong (``resources.server.properties``) or, for a
document that is not YAML at all, the line and column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import yaml

from onestack.http.errors import BadRequest
from onestack.services.orchestration.service.hot import versions
from onestack.services.orchestration.service.hot.functions import (
    Evaluator,
    Scope,
    TemplateError,
    references,
)
from onestack.services.orchestration.service.hot.parameters import Parameter

RESOURCE_KEYS = {"type", "properties", "metadata", "depends_on", "update_policy", "deletion_policy",
                 "external_id", "condition"}
OUTPUT_KEYS = {"value", "description", "condition"}
DELETION_POLICIES = ("Delete", "Retain", "Snapshot")


class _Loader(yaml.SafeLoader):
    """YAML as Heat reads it: dates stay strings (``heat_template_version: 2018-08-31`` is a name)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def invalid(message: str, kind: str = "StackValidationFailed") -> BadRequest:
    return BadRequest(message, kind=kind)


def load(source, what: str = "template") -> dict:
    """A template or environment given as a map or as YAML/JSON text."""
    if isinstance(source, dict):
        return source
    if not isinstance(source, str):
        raise invalid(f"The {what} must be a map or a YAML document, not {type(source).__name__}")
    try:
        parsed = yaml.load(source, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise invalid(f"Error parsing {what}{where}: {problem}") from None
    if parsed is None:
        parsed = {}
    if not isinstance(parsed, dict):
        raise invalid(f"The {what} is not a map")
    return parsed


def as_error(exc: TemplateError) -> BadRequest:
    return invalid(f"{exc.path}: {exc.message}" if exc.path else exc.message, exc.kind)


@dataclasses.dataclass
class ResourceDefinition:
    name: str
    type: str
    properties: Any
    metadata: Any
    depends_on: list[str]
    deletion_policy: str
    update_policy: Any
    external_id: Any
    condition: Any

    def snapshot(self) -> dict:
        """What a resource row keeps of its definition besides properties."""
        shown = {"depends_on": self.depends_on, "deletion_policy": self.deletion_policy,
                 "metadata": self.metadata, "update_policy": self.update_policy}
        if self.external_id is not None:
            shown["external_id"] = self.external_id
        return shown


class Template:
    def __init__(self, raw: dict):
        self.raw = raw
        if "AWSTemplateFormatVersion" in raw or "HeatTemplateFormatVersion" in raw:
            raise invalid("CloudFormation templates are not supported by onestack: use HOT "
                          "(heat_template_version)", "InvalidTemplateVersion")
        if "heat_template_version" not in raw:
            raise invalid("Template format version not found.", "InvalidTemplateVersion")
        self.version = versions.canonical(raw["heat_template_version"])
        allowed = versions.sections(self.version)
        for key in raw:
            if key not in allowed:
                raise invalid(f"The template section is invalid: {key}", "InvalidTemplateSection")
        self.description = raw.get("description") or ""
        if not isinstance(self.description, str):
            raise invalid("The template's description must be a string")
        self.parameters = self._parameters(raw.get("parameters") or {})
        self.parameter_groups = raw.get("parameter_groups") or []
        self._check_groups()
        self.conditions = self._section(raw, "conditions")
        self.resources = {name: self._resource(name, spec)
                          for name, spec in self._section(raw, "resources").items()}
        self.outputs = self._section(raw, "outputs")
        for name, output in self.outputs.items():
            if not isinstance(output, dict) or "value" not in output:
                raise invalid(f'outputs.{name}: each output must be a map with a "value"')
            unknown = set(output) - OUTPUT_KEYS
            if unknown:
                raise invalid(f'outputs.{name}: "{sorted(unknown)[0]}" is not a valid output keyword')
        self.functions = versions.functions(self.version)
        self.requires = self._dependencies()

    def _check_groups(self) -> None:
        """``parameter_groups``: a list of groups, each listing parameters of the template, each parameter in
        one group at most (Heat's checks and words)."""
        if not isinstance(self.parameter_groups, list):
            raise invalid("Parameter Groups error: parameter_groups: The parameter_groups should be a list.")
        grouped: set[str] = set()
        for group in self.parameter_groups:
            if not isinstance(group, dict):
                raise invalid("Parameter Groups error: parameter_groups: The parameter_groups should be a list "
                              "of maps.")
            where = f"parameter_groups.{group.get('label') or '<unlabelled>'}"
            names = group.get("parameters")
            if names is None:
                raise invalid(f"Parameter Groups error: {where}: The parameters must be provided for each "
                              "parameter group.")
            if not isinstance(names, list):
                raise invalid(f"Parameter Groups error: {where}: The parameters of parameter group should be "
                              "a list.")
            for param in names:
                if not isinstance(param, str) or param not in self.parameters:
                    raise invalid(f"Parameter Groups error: {where}: The grouped parameter {param} does not "
                                  "reference a valid parameter.")
                if param in grouped:
                    raise invalid(f"Parameter Groups error: {where}: The {param} parameter must be assigned to "
                                  "one parameter group only.")
                grouped.add(param)

    @staticmethod
    def _section(raw: dict, name: str) -> dict:
        section = raw.get(name) or {}
        if not isinstance(section, dict):
            raise invalid(f'The template section "{name}" must be a map')
        return section

    @staticmethod
    def _parameters(section) -> dict[str, Parameter]:
        if not isinstance(section, dict):
            raise invalid('The template section "parameters" must be a map')
        return {name: Parameter.parse(name, spec) for name, spec in section.items()}

    def _resource(self, name: str, spec) -> ResourceDefinition:
        where = f"resources.{name}"
        if not isinstance(spec, dict):
            raise invalid(f"{where}: a resource definition must be a map")
        for key in spec:
            if key not in RESOURCE_KEYS:
                raise invalid(f'{where}: "{key}" is not a valid keyword inside a resource definition')
        kind = spec.get("type")
        if not isinstance(kind, str) or not kind:
            raise invalid(f'{where}: "type" must be a string')
        depends = spec.get("depends_on") or []
        depends = [depends] if isinstance(depends, str) else depends
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise invalid(f'{where}.depends_on: a resource name or a list of them')
        policy = spec.get("deletion_policy", "Delete")
        policy = policy.capitalize() if isinstance(policy, str) else policy
        if policy not in DELETION_POLICIES:
            raise invalid(f'{where}.deletion_policy: "{spec.get("deletion_policy")}" is not one of '
                          f'{", ".join(DELETION_POLICIES)}')
        properties = spec.get("properties") or {}
        if not isinstance(properties, dict):
            raise invalid(f"{where}.properties: the properties must be a map")
        # a resource's metadata and update policy are maps (Heat refuses anything else with these words); a
        # list here was shown as the resource's metadata, which Heat's API promises is an object
        for part in ("metadata", "update_policy"):
            if spec.get(part) is not None and not isinstance(spec[part], dict):
                raise invalid(f"Resource {name} {part} type must be object")
        if spec.get("external_id") is not None:
            if depends:
                raise invalid(f"{where}: an external resource (external_id) cannot depend on other resources")
            if references(spec["external_id"], versions.functions(self.version)):
                raise invalid(f"{where}.external_id: an external resource cannot refer to other resources")
        return ResourceDefinition(name, kind, properties, spec.get("metadata") or {}, depends, policy,
                                  spec.get("update_policy") or {}, spec.get("external_id"), spec.get("condition"))

    def _dependencies(self) -> dict[str, set[str]]:
        """Each resource's prerequisites: its depends_on and every resource its definition refers to."""
        requires: dict[str, set[str]] = {}
        for name, definition in self.resources.items():
            found = set(definition.depends_on) | references(
                [definition.properties, definition.metadata], self.functions, self.resources)
            if definition.external_id is not None:  # its properties are not used: it waits for nothing
                found = set()
            for other in found:
                if other not in self.resources:
                    raise invalid(f'resources.{name}: The specified reference "{other}" (in {name}) is '
                                  "incorrect.", "InvalidTemplateReference")
            found.discard(name)
            requires[name] = found
        for name, output in self.outputs.items():
            for other in references(output.get("value"), self.functions, self.resources):
                if other not in self.resources:
                    raise invalid(f'outputs.{name}: The specified reference "{other}" (in {name}) is '
                                  "incorrect.", "InvalidTemplateReference")
        _refuse_cycles(requires)
        return requires

    # -- evaluation ------------------------------------------------------------------------------------
    def evaluator(self, scope: Scope) -> Evaluator:
        return Evaluator(self.version, scope)

    def condition_values(self, evaluator: Evaluator) -> dict[str, Any]:
        return {name: evaluator.condition(expr, f"conditions.{name}") for name, expr in self.conditions.items()}

    def enabled(self, evaluator: Evaluator, condition) -> Any:
        """Whether a resource or output with this ``condition`` exists (UNKNOWN while it cannot be told)."""
        if condition is None:
            return True
        if isinstance(condition, bool):
            return condition
        return evaluator.condition(condition, "condition")

    def active_resources(self, evaluator: Evaluator) -> list[str]:
        return [name for name, d in self.resources.items()
                if self.enabled(evaluator, d.condition) is not False]

    def check(self, scope: Scope, type_check) -> None:
        """Evaluate everything once with what is known now: a function used wrongly, a reference to
        nothing, a property its type does not have are all refused before anything is made.
        ``type_check(definition, properties)`` checks a resource's properties against its type."""
        evaluator = self.evaluator(scope)
        try:
            for name, expr in self.conditions.items():
                evaluator.condition(expr, f"conditions.{name}")
            for name, definition in self.resources.items():
                if self.enabled(evaluator, definition.condition) is False:
                    continue
                if definition.external_id is not None:  # an existing thing: its properties are not used
                    evaluator.resolve(definition.external_id, f"resources.{name}.external_id")
                    continue
                properties = evaluator.resolve(definition.properties, f"resources.{name}.properties")
                evaluator.resolve(definition.metadata, f"resources.{name}.metadata")
                type_check(definition, properties)
            for name, output in self.outputs.items():
                evaluator.resolve(output.get("value"), f"outputs.{name}.value")
        except TemplateError as exc:
            raise as_error(exc) from None


def _refuse_cycles(requires: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(requires.get(node, ())):
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep):] + [dep] if dep in trail else [node, dep]
                raise invalid(f"Circular Dependency Found: {' -> '.join(cycle)}", "CircularDependencyException")
            if dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for name in sorted(requires):
        if name not in state:
            visit(name, [name])


def dependents(requires: dict[str, set[str]], names: Iterable[str]) -> dict[str, set[str]]:
    """For each of ``names``, the resources that require it (the reverse graph, for deletion)."""
    needed_by: dict[str, set[str]] = {name: set() for name in names}
    for name, deps in requires.items():
        for dep in deps:
            needed_by.setdefault(dep, set()).add(name)
    return needed_by

