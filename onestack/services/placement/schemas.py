"""JSON schemas for request bodies: one per microversion where the body changed, as ``Versioned`` maps the
routes declare (built once: the shared validator keeps compiled schemas by identity).  A route newer than
the negotiated microversion checks nothing, so that its handler answers Placement's 404."""

from __future__ import annotations

import uuid

from onestack.http.microversion import Version
from onestack.http.routing import Versioned

MAX_INT = 2147483647
UUID = {"type": "string", "format": "uuid"}
CLASS_NAME = {"type": "string", "pattern": "^[A-Z0-9_]+$", "maxLength": 255}
CUSTOM_CLASS = {"type": "string", "pattern": "^CUSTOM_[A-Z0-9_]+$", "maxLength": 255}
TRAIT_NAME = {"type": "string", "pattern": "^[A-Z0-9_]+$", "minLength": 1, "maxLength": 255}
GENERATION = {"type": "integer"}
ID = {"type": "string", "minLength": 1, "maxLength": 255}

INVENTORY_FIELDS = {
    "total": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "reserved": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
    "min_unit": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "max_unit": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "step_size": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "allocation_ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 3.40282e38},
}
INVENTORY = {"type": "object", "properties": INVENTORY_FIELDS, "required": ["total"], "additionalProperties": False}
INVENTORIES = {
    "type": "object",
    "properties": {"resource_provider_generation": GENERATION,
                   "inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": INVENTORY},
                                   "additionalProperties": False}},
    "required": ["resource_provider_generation", "inventories"], "additionalProperties": False,
}
ONE_INVENTORY = {"type": "object", "properties": {**INVENTORY_FIELDS, "resource_provider_generation": GENERATION},
                 "required": ["total", "resource_provider_generation"], "additionalProperties": False}
NEW_INVENTORY = {"type": "object", "properties": {**INVENTORY_FIELDS, "resource_class": CLASS_NAME,
                                                  "resource_provider_generation": GENERATION},
                 "required": ["total", "resource_class", "resource_provider_generation"],
                 "additionalProperties": False}

RESOURCE_CLASS = {"type": "object", "properties": {"name": CUSTOM_CLASS}, "required": ["name"],
                  "additionalProperties": False}
PROVIDER_TRAITS = {"type": "object", "properties": {"traits": {"type": "array", "items": TRAIT_NAME},
                                                    "resource_provider_generation": GENERATION},
                   "required": ["traits", "resource_provider_generation"], "additionalProperties": False}
AGGREGATE_LIST = {"type": "array", "items": UUID, "uniqueItems": True}
AGGREGATES_1_19 = {"type": "object", "properties": {"aggregates": AGGREGATE_LIST,
                                                    "resource_provider_generation": GENERATION},
                   "required": ["aggregates", "resource_provider_generation"], "additionalProperties": False}


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) <= 36


def _provider(version: Version, creating: bool) -> dict:
    props: dict = {"name": {"type": "string", "minLength": 1, "maxLength": 200}}
    if creating:
        props["uuid"] = UUID
    if version.at_least("1.14"):
        props["parent_provider_uuid"] = {"anyOf": [UUID, {"type": "null"}]}
    return {"type": "object", "properties": props, "required": ["name"], "additionalProperties": False}


RESOURCES = {"type": "object", "minProperties": 1,
             "patternProperties": {"^[A-Z0-9_]+$": {"type": "integer", "minimum": 1, "maximum": MAX_INT}},
             "additionalProperties": False}


def _consumer_fields(version: Version) -> tuple[dict, list[str]]:
    props = {"project_id": ID, "user_id": ID}
    required = ["project_id", "user_id"] if version.at_least("1.8") else []
    if version.at_least("1.28"):
        props["consumer_generation"] = {"type": ["integer", "null"]}
        required.append("consumer_generation")
    if version.at_least("1.34"):
        props["mappings"] = {"type": "object", "additionalProperties": {"type": "array", "items": UUID}}
    if version.at_least("1.38"):
        props["consumer_type"] = {"type": "string", "pattern": "^[A-Z0-9_]+$", "minLength": 1, "maxLength": 255}
        required.append("consumer_type")
    return props, required


def _by_provider(min_providers: int) -> dict:
    return {"type": "object", "minProperties": min_providers,
            "patternProperties": {"^[0-9a-fA-F-]{32,36}$": {
                "type": "object", "properties": {"resources": RESOURCES, "generation": GENERATION},
                "required": ["resources"], "additionalProperties": False}},
            "additionalProperties": False}


def _put_allocations(version: Version) -> dict:
    props, required = _consumer_fields(version)
    if not version.at_least("1.12"):
        props["allocations"] = {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["resource_provider", "resources"], "additionalProperties": False,
            "properties": {"resource_provider": {"type": "object", "properties": {"uuid": UUID},
                                                 "required": ["uuid"], "additionalProperties": False},
                           "resources": RESOURCES}}}
    else:
        # From 1.28 an empty map releases the consumer's allocations.
        props["allocations"] = _by_provider(0 if version.at_least("1.28") else 1)
    return {"type": "object", "properties": props, "required": ["allocations", *required],
            "additionalProperties": False}


def _post_allocations(version: Version, min_consumers: int = 1) -> dict:
    props, required = _consumer_fields(version)
    props["allocations"] = _by_provider(0)
    one = {"type": "object", "properties": props, "required": ["allocations", "project_id", "user_id", *required[2:]],
           "additionalProperties": False}
    return {"type": "object", "minProperties": min_consumers, "patternProperties": {"^[0-9a-fA-F-]{32,36}$": one},
            "additionalProperties": False}


def _reshaper(version: Version) -> dict:
    inventories = {"type": "object", "patternProperties": {"^[0-9a-fA-F-]{32,36}$": INVENTORIES},
                   "additionalProperties": False}
    return {"type": "object", "properties": {"inventories": inventories,
                                             "allocations": _post_allocations(version, 0)},
            "required": ["inventories", "allocations"], "additionalProperties": False}


def _by_version(build, *versions: str) -> Versioned:
    return Versioned({v: build(Version.parse(v)) for v in versions})


PROVIDER_CREATE = _by_version(lambda v: _provider(v, creating=True), "1.0", "1.14")
PROVIDER_UPDATE = _by_version(lambda v: _provider(v, creating=False), "1.0", "1.14")
AGGREGATES = Versioned({"1.1": AGGREGATE_LIST, "1.19": AGGREGATES_1_19})
TRAITS = Versioned({"1.6": PROVIDER_TRAITS})
NEW_RESOURCE_CLASS = Versioned({"1.2": RESOURCE_CLASS})
# From 1.7 PUT /resource_classes/{name} takes no body.
RENAMED_RESOURCE_CLASS = Versioned({"1.2": RESOURCE_CLASS, "1.7": None})
PUT_ALLOCATIONS = _by_version(_put_allocations, "1.0", "1.8", "1.12", "1.28", "1.34", "1.38")
POST_ALLOCATIONS = _by_version(_post_allocations, "1.13", "1.28", "1.34", "1.38")
RESHAPER = _by_version(_reshaper, "1.30", "1.34", "1.38")
