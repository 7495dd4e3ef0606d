"""/v2/metadefs: namespaces, resource type associations, objects, properties and tags, and their schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import next_query, page, parse_limit, sort_params
from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.policies import authorize
from onestack.services.image.service.metadefs import KINDS, Metadefs

if TYPE_CHECKING:
    from onestack.services.image.models import MetadefEntry

NS = "/v2/metadefs/namespaces/{namespace}"


def metadefs(call: Call) -> Metadefs:
    return call.runtime.image.metadefs


# -- namespaces -------------------------------------------------------------------
def list_namespaces(call: Call) -> dict:
    authorize(call.ctx, "get_images")  # any authenticated caller
    q = call.query
    limit = parse_limit(q, 25)
    wanted = {t for t in q.get("resource_types", "").split(",") if t}
    found = metadefs(call).list_namespaces(call.ctx, q.get("visibility") or None, wanted, sort_params(q))
    shown = [views.listed_namespace(row, links) for row, links in found]
    try:
        shown, next_marker = page(shown, q, limit, key=lambda b: b["namespace"])
    except NotFound:
        raise BadRequest(f"Invalid marker: {q.get('marker')}") from None
    return views.namespaces(shown, next_query(q, next_marker, limit) if next_marker else None)


def create_namespace(call: Call) -> Reply:
    return Reply(views.namespace_contents(metadefs(call).create_namespace(call.ctx, call.body)), 201)


def show_namespace(call: Call) -> dict:
    return views.namespace_contents(metadefs(call).namespace(call.ctx, call.path["namespace"]))


def update_namespace(call: Call) -> dict:
    return views.namespace(metadefs(call).update_namespace(call.ctx, call.path["namespace"], call.body))


def delete_namespace(call: Call) -> Reply:
    metadefs(call).delete_namespace(call.ctx, call.path["namespace"])
    return Reply(status=204)


# -- resource types ------------------------------------------------------------------
def list_resource_types(call: Call) -> dict:
    authorize(call.ctx, "get_images")
    return {"resource_types": [views.resource_type(t) for t in metadefs(call).resource_types()]}


def list_associations(call: Call) -> dict:
    links = metadefs(call).associations(call.ctx, call.path["namespace"])
    return {"resource_type_associations": [views.association(link, name) for link, name in links]}


def add_association(call: Call) -> Reply:
    link = metadefs(call).associate(call.ctx, call.path["namespace"], call.body)
    return Reply(views.association(link, call.body["name"]), 201)


def remove_association(call: Call) -> Reply:
    metadefs(call).dissociate(call.ctx, call.path["namespace"], call.path["name"])
    return Reply(status=204)


# -- objects, properties and tags: one set of handlers, three kinds -------------------
def _entry_routes(plural: str, show: Callable[[MetadefEntry, str], dict], listed: Callable[[list[dict]], object],
                  schema: dict) -> list:
    kind = KINDS[plural]

    def list_all(call: Call) -> dict:
        row, items = metadefs(call).entries(call.ctx, call.path["namespace"], kind)
        body = {plural: listed([show(e, row.namespace) for e in items])}
        if kind == "object":
            body["schema"] = "v2/schemas/metadefs/objects"
        return body

    def create(call: Call) -> Reply:
        body = {"name": call.path["name"]} if kind == "tag" else call.body
        row, item = metadefs(call).add_entry(call.ctx, call.path["namespace"], kind, body)
        return Reply(show(item, row.namespace), 201)

    def get(call: Call) -> dict:
        row, item = metadefs(call).entry(call.ctx, call.path["namespace"], kind, call.path["name"])
        return show(item, row.namespace)

    def update(call: Call) -> dict:
        row, item = metadefs(call).update_entry(call.ctx, call.path["namespace"], kind, call.path["name"], call.body)
        return show(item, row.namespace)

    def remove(call: Call) -> Reply:
        metadefs(call).delete_entry(call.ctx, call.path["namespace"], kind, call.path["name"])
        return Reply(status=204)

    def remove_all(call: Call) -> Reply:
        metadefs(call).delete_all(call.ctx, call.path["namespace"], kind)
        return Reply(status=204)

    one = f"{NS}/{plural}/{{name}}"
    return [
        route(f"{NS}/{plural}", "GET", list_all),
        route(f"{NS}/{plural}", "DELETE", remove_all),
        route(one, "POST", create) if kind == "tag" else route(f"{NS}/{plural}", "POST", create, schema=schema),
        route(one, "GET", get),
        route(one, "PUT", update, schema=schema),
        route(one, "DELETE", remove),
    ]


def create_tags(call: Call) -> Reply:
    append = call.headers.get("x-openstack-append", "false").lower() == "true"
    names = [tag["name"] for tag in call.body["tags"]]
    metadefs(call).replace_tags(call.ctx, call.path["namespace"], names, append)
    return Reply({"tags": [{"name": name} for name in names]}, 201)


# -- schemas -------------------------------------------------------------------------
def _schema(name: str, body: dict) -> Callable[[Call], dict]:
    document = {"name": name, "properties": body.get("properties", {}), "required": body.get("required", []),
                "additionalProperties": body.get("additionalProperties", False)}
    return lambda call: document


def _collection(name: str, member: str, item: dict) -> Callable[[Call], dict]:
    document = {"name": name, "properties": {member: {"type": "array", "items": item}, "first": {"type": "string"},
                                             "next": {"type": "string"}, "schema": {"type": "string"}},
                "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                          {"rel": "describedby", "href": "{schema}"}]}
    return lambda call: document


SCHEMAS = {
    "namespace": _schema("namespace", schemas.metadef_namespace),
    "namespaces": _collection("namespaces", "namespaces", schemas.metadef_namespace),
    "resource_type": _schema("resource_type_association", schemas.metadef_association),
    "resource_types": _collection("resource_type_associations", "resource_type_associations",
                                  schemas.metadef_association),
    "object": _schema("object", schemas.metadef_object),
    "objects": _collection("objects", "objects", schemas.metadef_object),
    "property": _schema("property", schemas.metadef_property),
    "properties": _collection("properties", "properties", schemas.metadef_property),
    "tag": _schema("tag", schemas.metadef_tag),
    "tags": _collection("tags", "tags", schemas.metadef_tag),
}

ROUTES = [
    route("/v2/metadefs/namespaces", "GET", list_namespaces),
    route("/v2/metadefs/namespaces", "POST", create_namespace, schema=schemas.metadef_namespace),
    route(NS, "GET", show_namespace),
    route(NS, "PUT", update_namespace, schema=schemas.metadef_namespace),
    route(NS, "DELETE", delete_namespace),
    route("/v2/metadefs/resource_types", "GET", list_resource_types),
    route(f"{NS}/resource_types", "GET", list_associations),
    route(f"{NS}/resource_types", "POST", add_association, schema=schemas.metadef_association),
    route(f"{NS}/resource_types/{{name}}", "DELETE", remove_association),
    route(f"{NS}/tags", "POST", create_tags, schema=schemas.metadef_tags),
    *_entry_routes("objects", views.metadef_object, list, schemas.metadef_object),
    *_entry_routes("properties", lambda e, ns: views.metadef_property(e),
                   lambda shown: {p.pop("name"): p for p in shown}, schemas.metadef_property),
    *_entry_routes("tags", lambda e, ns: views.metadef_tag(e), list, schemas.metadef_tag),
    *[route(f"/v2/schemas/metadefs/{name}", "GET", fn) for name, fn in SCHEMAS.items()],
]
