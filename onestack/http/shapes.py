"""Small builders for the JSON Schemas of response bodies (a route's ``response=``, a fault format's shape).

A service whose bodies come from view functions, with no attribute table or published schema to generate
them from, declares what those views promise with these: the keys every microversion shows (required), the
ones some versions or callers show (optional), and other keys allowed to follow, as a newer microversion
adds them.  The OpenAPI description publishes them and the fuzzer checks every answer against them.
"""

from __future__ import annotations

from typing import Any

STRING: dict = {"type": "string"}
INTEGER: dict = {"type": "integer"}
NUMBER: dict = {"type": "number"}
BOOLEAN: dict = {"type": "boolean"}
OBJECT: dict = {"type": "object"}
ARRAY: dict = {"type": "array"}
# a timestamp as the views write it; its format is not checked (Nova writes two)
TIME: dict = STRING
LINKS: dict = {"type": "array", "items": {"type": "object", "required": ["href", "rel"],
                                          "properties": {"href": STRING, "rel": STRING}}}


def nullable(schema: dict) -> dict:
    """``schema`` or null."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": sorted({*kind, "null"})}
    return {"anyOf": [schema, {"type": "null"}]}


def either(*schemas: dict) -> dict:
    return {"anyOf": list(schemas)}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None, *, closed: bool = False) -> dict:
    """An object with ``required`` keys, perhaps ``optional`` ones, and (unless ``closed``) any other."""
    schema: dict = {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}
    if closed:
        schema["additionalProperties"] = False
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def one(key: str, schema: dict) -> dict:
    """``{key: schema}``: one resource under its key (``{"server": {...}}``)."""
    return obj({key: schema})


def many(key: str, schema: dict, *, links: bool = False) -> dict:
    """``{key: [schema, ...]}``, with its ``<key>_links`` page links where the list pages (Nova, Cinder)."""
    return obj({key: array(schema)}, {f"{key}_links": LINKS} if links else None)
