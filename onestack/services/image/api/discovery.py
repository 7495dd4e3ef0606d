"""Version discovery, schemas and store info, as Glance serves them."""

from __future__ import annotations

import copy

from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas
from onestack.services.image.policies import authorize

# Glance 2023+ lists every minor version it supports, newest CURRENT.
MINORS = 16


def _versions(call: Call) -> list[dict]:
    href = call.url("/v2/")
    return [{"id": f"v2.{minor}", "status": "CURRENT" if minor == MINORS else "SUPPORTED",
             "links": [{"rel": "self", "href": href}]} for minor in range(MINORS, -1, -1)]


def versions(call: Call) -> Reply:
    return Reply({"versions": _versions(call)}, 300)


def versions_list(call: Call) -> dict:
    return {"versions": _versions(call)}


def _image_schema() -> dict:
    props = copy.deepcopy(schemas.CORE)
    for name in ("status", "checksum", "os_hash_algo", "os_hash_value", "created_at", "updated_at", "self",
                 "file", "schema", "stores"):
        props[name] = {"type": ["null", "string"], "readOnly": True}
    for name in ("size", "virtual_size"):
        props[name] = {"type": ["null", "integer"], "readOnly": True}
    return {"name": "image", "properties": props, "additionalProperties": {"type": "string"},
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def image_schema(call: Call) -> dict:
    return _image_schema()


def images_schema(call: Call) -> dict:
    return {"name": "images", "properties": {
        "images": {"type": "array", "items": _image_schema()}, "schema": {"type": "string"},
        "first": {"type": "string"}, "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}


_MEMBER = {"name": "member", "properties": {
    "image_id": {"type": "string"}, "member_id": {"type": "string"},
    "status": {"type": "string", "enum": schemas.MEMBER_STATUSES},
    "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "schema": {"type": "string"}}}


def member_schema(call: Call) -> dict:
    return _MEMBER


def members_schema(call: Call) -> dict:
    return {"name": "members", "properties": {"members": {"type": "array", "items": _MEMBER},
                                              "schema": {"type": "string"}},
            "links": [{"rel": "describedby", "href": "{schema}"}]}


def stores(call: Call) -> dict:
    authorize(call.ctx, "get_images")  # for authenticated callers only
    found = [{"id": "file", "description": "Files in the cloud's data dir", "default": True}]
    if call.runtime.image.swift is not None:
        found.append({"id": "swift", "description": "Objects of the cloud's Object Storage (Glance's swift "
                                                    "store layout)"})
    if call.runtime.image.rbd is not None:
        found.append({"id": "rbd", "description": "Raw images copied into the Ceph cluster's images pool "
                                                  "(for RBD volumes to clone)"})
    return {"stores": found}


def usage(call: Call) -> dict:
    """The caller's project against its image quotas (Glance's /v2/info/usage)."""
    ctx = call.ctx
    authorize(ctx, "get_images")
    return {"usage": call.runtime.image.usage(ctx.project_id)}


ROUTES = [
    route("/", "GET", versions, public=True),
    route("/versions", "GET", versions_list, public=True),
    route("/v2/schemas/image", "GET", image_schema),
    route("/v2/schemas/images", "GET", images_schema),
    route("/v2/schemas/member", "GET", member_schema),
    route("/v2/schemas/members", "GET", members_schema),
    route("/v2/info/stores", "GET", stores),
    route("/v2/info/usage", "GET", usage),
]
