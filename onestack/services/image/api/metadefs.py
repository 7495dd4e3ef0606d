"""/v2/metadefs: namespaces, resource type associations, objects, properties and tags, and their schemas."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import apply_sort, page, parse_limit, sort_params
from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.models import MetadefEntry, MetadefNamespace
from onestack.services.image.service import authorize, metadefs

NS = "/v2/metadefs/namespaces/{namespace}"
SORTABLE = {k: k for k in ("namespace", "created_at", "updated_at")}


def _db(call: Call):
    return call.runtime.image.db


def _ns(session, call: Call) -> MetadefNamespace:
    return metadefs.namespace(session, call.ctx, call.path["namespace"])


def _full(session, row: MetadefNamespace) -> dict:
    """A namespace with what it holds, each part shown only when it has something (as Glance does)."""
    body = views.namespace(row)
    links = [views.association(link, name) for link, name in metadefs.associations(session, row)]
    parts = {"resource_type_associations": links,
             "properties": {e.name: e.body for e in metadefs.entries(session, row, "property")},
             "objects": [views.metadef_object(e, row.namespace) for e in metadefs.entries(session, row, "object")],
             "tags": [views.metadef_tag(e) for e in metadefs.entries(session, row, "tag")]}
    body.update({key: value for key, value in parts.items() if value})
    return body


# -- namespaces -------------------------------------------------------------------
def list_namespaces(call: Call) -> dict:
    authorize(call.ctx, "get_images")  # any authenticated caller
    q = call.query
    limit = parse_limit(q, 25)
    stmt = select(MetadefNamespace).where(metadefs.readable(call.ctx))
    if q.get("visibility"):
        stmt = stmt.where(MetadefNamespace.visibility == q["visibility"])
    stmt = apply_sort(stmt, MetadefNamespace, *sort_params(q), SORTABLE, default="created_at", default_dir="asc")
    wanted = {t for t in q.get("resource_types", "").split(",") if t}
    with _db(call).read() as session:
        rows = session.scalars(stmt).all()
        shown = []
        for row in rows:
            body = views.namespace(row)
            links = [views.association(link, name) for link, name in metadefs.associations(session, row)]
            if wanted and not wanted & {link["name"] for link in links}:
                continue
            if links:
                body["resource_type_associations"] = links
            shown.append(body)
    try:
        shown, next_marker = page(shown, q, limit, key=lambda b: b["namespace"])
    except NotFound:
        raise BadRequest(f"Invalid marker: {q.get('marker')}") from None
    body = {"namespaces": shown, "first": "/v2/metadefs/namespaces", "schema": "/v2/schemas/metadefs/namespaces"}
    if next_marker:
        body["next"] = f"/v2/metadefs/namespaces?limit={limit}&marker={next_marker}"
    return body


def create_namespace(call: Call) -> Reply:
    with _db(call).write() as session:
        row = metadefs.create_namespace(session, call.ctx, call.body)
        return Reply(_full(session, row), 201)


def show_namespace(call: Call) -> dict:
    with _db(call).read() as session:
        return _full(session, _ns(session, call))


def update_namespace(call: Call) -> dict:
    with _db(call).write() as session:
        row = _ns(session, call)
        metadefs.update_namespace(session, call.ctx, row, call.body)
        session.flush()
        return views.namespace(row)


def delete_namespace(call: Call) -> Reply:
    with _db(call).write() as session:
        metadefs.delete_namespace(session, call.ctx, _ns(session, call))
    return Reply(status=204)


# -- resource types ------------------------------------------------------------------
def list_resource_types(call: Call) -> dict:
    authorize(call.ctx, "get_images")
    with _db(call).read() as session:
        return {"resource_types": [{"name": t.name, "created_at": views.stamp(t.created_at),
                                    "updated_at": views.stamp(t.updated_at)} for t in metadefs.resource_types(session)]}


def list_associations(call: Call) -> dict:
    with _db(call).read() as session:
        row = _ns(session, call)
        return {"resource_type_associations": [views.association(link, name)
                                               for link, name in metadefs.associations(session, row)]}


def add_association(call: Call) -> Reply:
    with _db(call).write() as session:
        link = metadefs.associate(session, call.ctx, _ns(session, call), call.body)
        return Reply(views.association(link, call.body["name"]), 201)


def remove_association(call: Call) -> Reply:
    with _db(call).write() as session:
        metadefs.dissociate(session, call.ctx, _ns(session, call), call.path["name"])
    return Reply(status=204)


# -- objects, properties and tags: one set of handlers, three kinds -------------------
def _entry_routes(plural: str, show: Callable[[MetadefEntry, str], dict], listed: Callable[[list[dict]], object],
                  schema: dict) -> list:
    kind = metadefs.KINDS[plural]

    def list_all(call: Call) -> dict:
        with _db(call).read() as session:
            row = _ns(session, call)
            body = {plural: listed([show(e, row.namespace) for e in metadefs.entries(session, row, kind)])}
        if kind == "object":
            body["schema"] = "v2/schemas/metadefs/objects"
        return body

    def create(call: Call) -> Reply:
        with _db(call).write() as session:
            row = _ns(session, call)
            body = {"name": call.path["name"]} if kind == "tag" else call.body
            return Reply(show(metadefs.add_entry(session, call.ctx, row, kind, body), row.namespace), 201)

    def get(call: Call) -> dict:
        with _db(call).read() as session:
            row = _ns(session, call)
            return show(metadefs.entry(session, row, kind, call.path["name"]), row.namespace)

    def update(call: Call) -> dict:
        with _db(call).write() as session:
            row = _ns(session, call)
            item = metadefs.entry(session, row, kind, call.path["name"])
            metadefs.update_entry(session, call.ctx, row, item, call.body)
            session.flush()
            return show(item, row.namespace)

    def remove(call: Call) -> Reply:
        with _db(call).write() as session:
            row = _ns(session, call)
            metadefs.delete_entry(session, call.ctx, metadefs.entry(session, row, kind, call.path["name"]))
        return Reply(status=204)

    def remove_all(call: Call) -> Reply:
        with _db(call).write() as session:
            metadefs.delete_all(session, call.ctx, _ns(session, call), kind)
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
    with _db(call).write() as session:
        metadefs.replace_tags(session, call.ctx, _ns(session, call), names, append)
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
