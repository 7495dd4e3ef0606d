"""Attribute tables, the way Neutron declares its resources.

One ``Attr`` per field says whether a client may set it on create (``post``) or update
(``put``), whether only admins may set it (``admin``) or see it (``admin_read``), its JSON schema and default, and whether it
filters and sorts.  From that single table come the request checks, the query-string filters,
the sort keys and the ``fields=`` selection of every resource that uses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jsonschema

from onestack.http import listing
from onestack.http.errors import BadRequest, Forbidden

MISSING: Any = object()
# ``Attr.column`` of a value computed when the resource is rendered: filtered in Python, never sorted in SQL.
RENDERED = "-"
# Query parameters that steer a list rather than filter it.
LIST_CONTROLS = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse",
                           "tags", "tags-any", "not-tags", "not-tags-any"})


@dataclasses.dataclass(frozen=True)
class Attr:
    name: str
    schema: dict | None = None
    post: bool = False
    put: bool = False
    default: Any = MISSING
    required: bool = False
    admin: bool = False
    admin_read: bool = False
    visible: bool = True
    filter: bool = True
    sort: bool = True
    column: str | None = None
    # the JSON Schema of the value as shown, for an attribute a client never sends (no ``schema``) or shown
    # otherwise than sent; only its types are published (``Table.response_schema``)
    shows: dict | None = None

    @property
    def field(self) -> str:
        """The model attribute behind it (filters and sorts in SQL when the model has it)."""
        return self.column or self.name

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


class Table:
    def __init__(self, attrs: Iterable[Attr]):
        self.attrs: dict[str, Attr] = {a.name: a for a in attrs}
        self._validators = {a.name: jsonschema.Draft4Validator(a.schema, format_checker=jsonschema.FormatChecker())
                            for a in self.attrs.values() if a.schema is not None}

    def __getitem__(self, name: str) -> Attr:
        return self.attrs[name]

    def check(self, body: Mapping[str, Any], *, creating: bool, is_admin: bool) -> dict:
        """The body as the resource may take it: unknown, read-only and admin-only attributes refused,
        each value checked against its schema, defaults filled in on create."""
        unknown = sorted(k for k in body if k not in self.attrs)
        if unknown:
            raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'", kind="HTTPBadRequest")
        out = {}
        for name, value in body.items():
            attr = self.attrs[name]
            if creating and not attr.post:
                raise BadRequest(f"Attribute '{name}' not allowed in POST", kind="HTTPBadRequest")
            if not creating and not attr.put:
                raise BadRequest(f"Cannot update read-only attribute {name}", kind="HTTPBadRequest")
            if attr.admin and not is_admin:
                raise Forbidden(f"(rule:{'create' if creating else 'update'}:{name}) is disallowed by policy",
                                kind="PolicyNotAuthorized")
            self.validate(name, value)
            out[name] = value
        if creating:
            for attr in self.attrs.values():
                if attr.name in out or not attr.post:
                    continue
                if attr.required:
                    raise BadRequest(f"Failed to parse request. Required attribute '{attr.name}' not specified",
                                     kind="HTTPBadRequest")
                if attr.default is not MISSING:
                    out[attr.name] = attr.default_value()
        return out

    def validate(self, name: str, value: Any) -> None:
        validator = self._validators.get(name)
        if validator is None:
            return
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            raise BadRequest(f"Invalid input for {name}. Reason: {error.message}.", kind="HTTPBadRequest")

    # -- reading ---------------------------------------------------------------
    def filters(self, query) -> dict[str, list]:
        """``?attr=value`` filters (repeat a key for OR), values converted to the attribute's type.
        An unknown filter is a 400, as Neutron answers with ``filter-validation``."""
        found: dict[str, list] = {}
        for key, raw in query.multi_items():
            if key in LIST_CONTROLS:
                continue
            attr = self.attrs.get(key)
            if attr is None or not attr.filter or not attr.visible:
                raise BadRequest(f"{key} is invalid attribute for filtering", kind="HTTPBadRequest")
            found.setdefault(key, []).append(self._convert(attr, raw))
        return found

    def _convert(self, attr: Attr, raw: str) -> Any:
        kind = (attr.schema or {}).get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "boolean" in kinds:
            lowered = raw.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise BadRequest(f"'{raw}' cannot be converted to boolean", kind="HTTPBadRequest")
        digits = raw[1:] if raw.startswith("-") else raw
        # isdigit() alone takes "²"; int() refuses more than 4300 digits (such text is left to the column's check)
        if "integer" in kinds and digits.isascii() and digits.isdigit() and len(digits) < 100:
            return int(raw)
        if "null" in kinds and raw == "":
            return None
        return raw

    def sort(self, query) -> list[tuple[str, str]]:
        keys, dirs = query.getlist("sort_key"), query.getlist("sort_dir")
        if dirs and len(dirs) != len(keys):
            raise BadRequest("The number of sort_keys and sort_dirs must be same", kind="HTTPBadRequest")
        dirs = dirs or ["asc"] * len(keys)
        for key, direction in zip(keys, dirs, strict=True):
            attr = self.attrs.get(key)
            if attr is None or not attr.sort or not attr.visible:
                raise BadRequest(f"{key} is invalid attribute for sort_keys", kind="HTTPBadRequest")
            if direction not in ("asc", "desc"):
                raise BadRequest(f"{direction} is invalid value for sort_dirs, valid values are 'asc' and 'desc'",
                                 kind="HTTPBadRequest")
        return list(zip(keys, dirs, strict=True))

    def response_schema(self) -> dict:
        """The resource as ``shown`` renders it without ``fields=``, as JSON Schema (the OpenAPI description's
        success responses): every visible attribute, required unless only the admin reads it, typed by the JSON
        types its request schema (or its ``shows``) allows, never narrower; other keys may follow."""
        return {"type": "object", "additionalProperties": True,
                "required": [a.name for a in self.attrs.values() if a.visible and not a.admin_read],
                "properties": {a.name: _shown_type(a) for a in self.attrs.values() if a.visible}}

    def query_parameters(self) -> dict[str, dict]:
        """The list's query string as JSON Schema by name (``listing.query_parameters``): a filter for each
        attribute that filters, typed as ``filters`` converts it, ``fields=``, the sort keys, limit/marker,
        ``page_reverse`` and the tag filters (``LIST_CONTROLS``)."""
        visible = sorted(a.name for a in self.attrs.values() if a.visible)
        filters = {a.name: _query_type(a) for a in self.attrs.values() if a.visible and a.filter}
        tags = dict.fromkeys(sorted(LIST_CONTROLS & {"tags", "tags-any", "not-tags", "not-tags-any"}),
                             listing.STRING)
        return listing.query_parameters(
            filters, sort_keys=[a.name for a in self.attrs.values() if a.visible and a.sort],
            fields={"type": "array", "items": {"enum": visible}}, page_reverse={"type": "boolean"}, **tags)

    def shown(self, body: dict, fields: list[str], is_admin: bool) -> dict:
        """What the caller may see of a rendered resource, narrowed to ``fields=`` if asked."""
        hidden = {a.name for a in self.attrs.values() if not a.visible or (a.admin_read and not is_admin)}
        if fields:
            return {k: v for k, v in body.items() if k in fields and k not in hidden}
        return {k: v for k, v in body.items() if k not in hidden}


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object",
               type(None): "null"}


def _types(schema: dict) -> set[str] | None:
    """The JSON types a request schema admits (None: any).  A response is typed by them alone: the request's
    lengths and patterns bound what a client sends, not what the resource shows (Neutron's normalised
    values, defaults)."""
    if "type" in schema:
        return set([schema["type"]] if isinstance(schema["type"], str) else schema["type"])
    if "enum" in schema:
        return {_JSON_TYPES[type(v)] for v in schema["enum"]}
    if "anyOf" in schema or "oneOf" in schema:
        found: set[str] = set()
        for option in schema.get("anyOf", schema.get("oneOf")):
            types = _types(option)
            if types is None:
                return None
            found |= types
        return found
    return None


def _query_type(attr: Attr) -> dict:
    """A filter's value as ``Table._convert`` reads it: a boolean, an integer, or text."""
    types = (_types(attr.schema) if attr.schema is not None else None) or {"string"}
    scalar = sorted(types & {"boolean", "integer", "string"})
    return {"type": scalar if len(scalar) > 1 else (scalar or ["string"])[0]}


def _shown_type(attr: Attr) -> dict:
    schema = attr.shows if attr.shows is not None else attr.schema
    types = _types(schema) if schema is not None else None
    if types is None:
        return {}
    return {"type": sorted(types)}


def matches(body: Mapping[str, Any], filters: Mapping[str, list], skip: Callable[[str], bool]) -> bool:
    """Filters the database could not apply, checked against the rendered resource."""
    for name, wanted in filters.items():
        if skip(name):
            continue
        value = body.get(name)
        if isinstance(value, list):
            if not any(w in value or w == value for w in wanted):
                return False
        elif value not in wanted:
            return False
    return True
