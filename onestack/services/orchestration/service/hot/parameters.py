"""A template's parameters: their schemas, and the values a stack gives them (typed and constrained)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from onestack.http.errors import BadRequest
from onestack.services.orchestration.service.hot.functions import UNKNOWN

TYPES = ("string", "number", "json", "comma_delimited_list", "boolean")
KEYS = {"type", "label", "description", "default", "hidden", "constraints", "immutable", "tags"}
CONSTRAINTS = {"length", "range", "modulo", "allowed_values", "allowed_pattern", "custom_constraint"}
PSEUDO = ("OS::stack_name", "OS::stack_id", "OS::project_id")
TRUE, FALSE = ("t", "true", "on", "y", "yes", "1"), ("f", "false", "off", "n", "no", "0")


def _invalid(message: str, kind: str = "StackValidationFailed") -> BadRequest:
    return BadRequest(message, kind=kind)


@dataclasses.dataclass
class Parameter:
    name: str
    type: str
    label: str | None = None
    description: str = ""
    default: Any = None
    has_default: bool = False
    hidden: bool = False
    immutable: bool = False
    constraints: list = dataclasses.field(default_factory=list)

    @classmethod
    def parse(cls, name: str, spec) -> Parameter:
        if not isinstance(spec, dict):
            raise _invalid(f"Parameter {name}: the definition must be a map, not {spec!r}")
        unknown = set(spec) - KEYS
        if unknown:
            raise _invalid(f"Invalid key '{sorted(unknown)[0]}' for parameter ({name})")
        kind = spec.get("type")
        if kind not in TYPES:
            raise _invalid(f"Invalid type ({kind}) of parameter {name}: one of {', '.join(TYPES)}")
        constraints = spec.get("constraints") or []
        if not isinstance(constraints, list):
            raise _invalid(f"Invalid parameter constraints for parameter {name}, expected a list")
        for c in constraints:
            if not isinstance(c, dict) or not set(c) - {"description"} or set(c) - CONSTRAINTS - {"description"}:
                raise _invalid(f"Invalid parameter constraints for parameter {name}: {c!r}")
        param = cls(name, kind, spec.get("label"), spec.get("description") or "", spec.get("default"),
                    "default" in spec, bool(spec.get("hidden")), bool(spec.get("immutable")), constraints)
        if param.has_default and param.default is not None:
            param.value(param.default)  # a default must satisfy its own constraints
        return param

    # -- values --------------------------------------------------------------------------------------------
    def value(self, raw) -> Any:
        """``raw`` as this parameter's type, checked against its constraints."""
        try:
            typed = self._typed(raw)
        except (ValueError, TypeError) as exc:
            raise _invalid(f"Parameter '{self.name}' is invalid: {exc}") from None
        for constraint in self.constraints:
            problem = self._violation(constraint, typed)
            if problem:
                message = constraint.get("description") or problem
                raise _invalid(f"Parameter '{self.name}' is invalid: {message}")
        return typed

    def _typed(self, raw):
        if self.type == "string":
            if isinstance(raw, dict | list):
                raise ValueError(f"Value must be a string; got {raw!r}")
            if isinstance(raw, bool):
                return "true" if raw else "false"
            return "" if raw is None else str(raw)
        if self.type == "number":
            if isinstance(raw, bool):
                raise ValueError(f"Value must be a number; got {raw!r}")
            if isinstance(raw, int | float):
                return raw
            text = str(raw).strip()
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    raise ValueError(f"Value must be a number; got {raw!r}") from None
        if self.type == "boolean":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in TRUE:
                return True
            if text in FALSE:
                return False
            raise ValueError(f"Unrecognized value \"{raw}\", acceptable values are: true, false.")
        if self.type == "json":
            if isinstance(raw, dict | list):
                return raw
            try:
                parsed = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
            except ValueError as exc:
                raise ValueError(f"Value must be valid JSON: {exc}") from None
            if not isinstance(parsed, dict | list):
                raise ValueError("Value must be valid JSON: a map or a list")
            return parsed
        if isinstance(raw, list):
            return [str(item) for item in raw]
        if raw is None or raw == "":
            return []
        return [item.strip() for item in str(raw).split(",")]

    def _violation(self, constraint: dict, value) -> str | None:
        if "length" in constraint:
            low, high = _bounds(constraint["length"])
            size = len(value)
            if (low is not None and size < low) or (high is not None and size > high):
                return f"length ({size}) is out of range (min: {low}, max: {high})"
        if "range" in constraint:
            low, high = _bounds(constraint["range"])
            if (low is not None and value < low) or (high is not None and value > high):
                return f"{value} is out of range (min: {low}, max: {high})"
        if "modulo" in constraint:
            spec = constraint["modulo"] or {}
            step, offset = spec.get("step"), spec.get("offset", 0)
            if step and value % step != offset:
                return f"{value} is not a multiple of {step} with an offset of {offset}"
        if "allowed_values" in constraint:
            allowed = constraint["allowed_values"] or []
            items = value if isinstance(value, list) else [value]
            bad = [v for v in items if v not in allowed and str(v) not in [str(a) for a in allowed]]
            if bad:
                return f'"{bad[0]}" is not an allowed value [{", ".join(str(a) for a in allowed)}]'
        if "allowed_pattern" in constraint:
            pattern = str(constraint["allowed_pattern"])
            if re.fullmatch(pattern, str(value)) is None:
                return f'"{value}" does not match pattern "{pattern}"'
        return None

    # -- what validate and the stack's body show ------------------------------------------------------
    def shown(self, value) -> str:
        """The value as a stack's ``parameters`` show it (hidden ones masked, lists comma-joined)."""
        if self.hidden:
            return "******"
        if isinstance(value, list) and self.type == "comma_delimited_list":
            return ",".join(value)
        if isinstance(value, dict | list):
            return json.dumps(value)
        if isinstance(value, bool):
            return str(value)
        return "" if value is None else str(value)


def _bounds(spec) -> tuple:
    if not isinstance(spec, dict):
        raise _invalid(f"Invalid bounds {spec!r}: a map with min and/or max")
    return spec.get("min"), spec.get("max")


def resolve_values(params: dict[str, Parameter], given: dict, defaults: dict, required: bool = True
                   ) -> dict[str, Any]:
    """Each parameter's value: the caller's, else the environment's ``parameter_defaults``, else the
    template's default.  Unknown parameters are refused as Heat refuses them, and so are missing ones
    when ``required`` (otherwise they are UNKNOWN)."""
    for name in given:
        if name not in params:
            raise _invalid(f"The Parameter ({name}) was not defined in template.", "UnknownUserParameter")
    values = {}
    for name, param in params.items():
        if name in given:
            values[name] = param.value(given[name])
        elif name in defaults:
            values[name] = param.value(defaults[name])
        elif param.has_default:
            values[name] = param.value(param.default) if param.default is not None else None
        elif required:
            raise _invalid(f"The Parameter ({name}) was not provided.", "UserParameterMissing")
        else:
            values[name] = UNKNOWN
    return values
