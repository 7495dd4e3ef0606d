"""JSON Schemas for Image API v2 bodies, with Glance's formats and limits."""

from __future__ import annotations

import copy

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
# Glance's default container_formats, and "oci" (an OCI image layout in a tar), which the container
# compute driver runs beside docker archives (Glance takes it once an operator adds it to the list).
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed", "oci"]
VISIBILITIES = ["public", "private", "shared", "community"]
UUID = {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
                                     "([0-9a-fA-F]){12}$"}
TAG = {"type": "string", "maxLength": 255}
MAX_TAGS = 128
MAX_MEMBERS = 128
MEMBER_STATUSES = ["pending", "accepted", "rejected"]

CORE = {
    "id": UUID,
    "name": {"type": ["null", "string"], "maxLength": 255},
    "visibility": {"type": "string", "enum": VISIBILITIES},
    "protected": {"type": "boolean"},
    "os_hidden": {"type": "boolean"},
    "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
    "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS]},
    "min_disk": {"type": "integer", "minimum": 0, "maximum": 2147483647},
    "min_ram": {"type": "integer", "minimum": 0, "maximum": 2147483647},
    "tags": {"type": "array", "items": TAG, "maxItems": MAX_TAGS},
    "owner": {"type": ["null", "string"], "maxLength": 255},
}
# Glance keeps os_glance_* properties for itself (import progress and the like); onestack its os_onestack_*
# ones (which stores hold the data, where its RBD copy is), which a client must not forge either.
RESERVED_PREFIX = ("os_glance", "os_onestack_")
# Glance computes these; a client may read them, never set them.
READ_ONLY = frozenset({"status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                       "created_at", "updated_at", "self", "file", "schema", "direct_url", "locations",
                       "deleted", "deleted_at", "stores"})

image_create = {"type": "object", "properties": CORE,
                "additionalProperties": {"type": "string", "maxLength": 255}}

json_patch = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"op": {"type": "string", "enum": ["add", "replace", "remove"]},
                       "path": {"type": "string", "pattern": "^/[^/]+$"}, "value": {}},
        "required": ["op", "path"],
    },
}

member_create = {"type": "object", "properties": {"member": {"type": "string", "minLength": 1, "maxLength": 255}},
                 "required": ["member"], "additionalProperties": False}
member_update = {"type": "object", "properties": {"status": {"type": "string", "enum": MEMBER_STATUSES}},
                 "required": ["status"], "additionalProperties": False}

IMPORT_METHODS = ["glance-direct", "web-download", "copy-image"]
# The legacy tasks API (POST /v2/tasks): an ``import`` from a URL, carried out as a web-download.
legacy_task = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["import"]},
        "input": {"type": "object", "properties": {
            "import_from": {"type": "string", "minLength": 1, "maxLength": 2048},
            "import_from_format": {"type": "string", "maxLength": 20},
            "image_properties": {"type": "object"}},
            "required": ["import_from", "image_properties"]},
    },
    "required": ["type", "input"],
}

image_import = {
    "type": "object",
    "properties": {
        "method": {"type": "object", "properties": {
            "name": {"type": "string", "enum": IMPORT_METHODS},
            "uri": {"type": "string", "minLength": 1, "maxLength": 2048}},
            "required": ["name"]},
        "stores": {"type": "array", "items": {"type": "string", "maxLength": 255}, "maxItems": 32},
        "all_stores": {"type": "boolean"},
        "all_stores_must_succeed": {"type": "boolean"},
    },
    "required": ["method"],
}

TASK_STATUSES = ["pending", "processing", "success", "failure"]
TASK_PROPERTIES = {
    "id": UUID,
    "type": {"type": "string", "enum": ["import", "api_image_import", "location_import"]},
    "status": {"type": "string", "enum": TASK_STATUSES},
    "input": {"type": ["null", "object"]},
    "result": {"type": ["null", "object"]},
    "owner": {"type": "string"},
    "message": {"type": "string"},
    "image_id": {"type": "string"},
    "request_id": {"type": "string"},
    "user_id": {"type": "string"},
    "expires_at": {"type": ["null", "string"]},
    "created_at": {"type": "string"},
    "updated_at": {"type": "string"},
    "self": {"type": "string", "readOnly": True},
    "schema": {"type": "string", "readOnly": True},
}

# -- metadefs ------------------------------------------------------------------------
METADEF_NAME = {"type": "string", "minLength": 1, "maxLength": 80}
PROPERTY_TYPES = ["array", "boolean", "integer", "number", "object", "string", "null"]
metadef_property = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "type": {"type": "string", "enum": PROPERTY_TYPES},
        "enum": {"type": "array"},
        "default": {},
        "readonly": {"type": "boolean"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "minimum": {"type": "number"}, "maximum": {"type": "number"},
        "minLength": {"type": "integer", "minimum": 0}, "maxLength": {"type": "integer", "minimum": 0},
        "pattern": {"type": "string"},
        "items": {"type": "object"},
        "uniqueItems": {"type": "boolean"},
        "minItems": {"type": "integer", "minimum": 0}, "maxItems": {"type": "integer", "minimum": 0},
        "additionalItems": {"type": "boolean"},
    },
    "required": ["name", "title", "type"],
    "additionalProperties": False,
}
_PROPERTY_BODY = {**metadef_property, "required": ["title", "type"],
                  "properties": {k: v for k, v in metadef_property["properties"].items() if k != "name"}}
metadef_object = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": {"type": "string"},
        "required": {"type": "array", "items": {"type": "string"}},
        "properties": {"type": "object", "additionalProperties": _PROPERTY_BODY},
    },
    "required": ["name"],
    "additionalProperties": False,
}
metadef_tag = {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
               "required": ["name"], "additionalProperties": False}
metadef_tags = {"type": "object", "properties": {"tags": {"type": "array", "items": metadef_tag}},
                "required": ["tags"], "additionalProperties": False}
metadef_association = {
    "type": "object",
    "properties": {"name": METADEF_NAME, "prefix": {"type": "string", "maxLength": 80},
                   "properties_target": {"type": "string", "maxLength": 80}},
    "required": ["name"],
    "additionalProperties": False,
}
metadef_namespace = {
    "type": "object",
    "properties": {
        "namespace": METADEF_NAME,
        "display_name": {"type": "string", "maxLength": 80},
        "description": {"type": "string", "maxLength": 500},
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "protected": {"type": "boolean"},
        "owner": {"type": "string", "maxLength": 255},
        "resource_type_associations": {"type": "array", "items": metadef_association},
        "properties": {"type": "object", "additionalProperties": _PROPERTY_BODY},
        "objects": {"type": "array", "items": metadef_object},
        "tags": {"type": "array", "items": metadef_tag},
        # Read-only fields a client may echo back from a GET.
        "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        "self": {"type": "string"}, "schema": {"type": "string"},
    },
    "required": ["namespace"],
    "additionalProperties": False,
}


# What Glance publishes at /v2/schemas/*: an image, a list, a member and its list as shown.  They are also
# the success bodies of the OpenAPI description's image and member routes (glanceclient validates what it
# reads against them, so they are the contract), and the fuzzer checks every success against them.
def shown_image() -> dict:
    props = copy.deepcopy(CORE)
    for name in ("status", "checksum", "os_hash_algo", "os_hash_value", "created_at", "updated_at", "self",
                 "file", "schema", "stores"):
        props[name] = {"type": ["null", "string"], "readOnly": True}
    for name in ("size", "virtual_size"):
        props[name] = {"type": ["null", "integer"], "readOnly": True}
    return {"name": "image", "properties": props, "additionalProperties": {"type": "string"},
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def shown_images() -> dict:
    return {"name": "images", "properties": {
        "images": {"type": "array", "items": shown_image()}, "schema": {"type": "string"},
        "first": {"type": "string"}, "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}


SHOWN_MEMBER = {"name": "member", "properties": {
    "image_id": {"type": "string"}, "member_id": {"type": "string"},
    "status": {"type": "string", "enum": MEMBER_STATUSES},
    "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "schema": {"type": "string"}}}


def shown_members() -> dict:
    return {"name": "members", "properties": {"members": {"type": "array", "items": SHOWN_MEMBER},
                                                                "schema": {"type": "string"}},
            "links": [{"rel": "describedby", "href": "{schema}"}]}
