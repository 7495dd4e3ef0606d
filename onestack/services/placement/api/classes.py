"""/resource_classes (1.2): the standard ones and CUSTOM_* ones."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.placement import responses, schemas, views
from onestack.services.placement.api.common import href, placement, reply, since
from onestack.services.placement.policies import authorize


def list_classes(call: Call) -> Reply:
    since(call, "1.2")
    authorize(call.ctx, "resource_classes")
    names = placement(call).resource_classes()
    return reply(call, {"resource_classes": [views.resource_class(n, href(call, "")) for n in names]})


def create_class(call: Call) -> Reply:
    since(call, "1.2")
    authorize(call.ctx, "resource_classes")
    name = call.body["name"]
    placement(call).create_resource_class(name)
    return Reply(None, 201, {"Location": call.url(f"/resource_classes/{name}")})


def show_class(call: Call) -> Reply:
    since(call, "1.2")
    authorize(call.ctx, "resource_classes")
    name = call.path["name"]
    row = placement(call).resource_class(name)
    return reply(call, views.resource_class(name, href(call, "")), row.updated_at if row else None)


def put_class(call: Call) -> Reply:
    """Before 1.7: rename a custom class.  From 1.7: create it if missing (201), else nothing (204)."""
    since(call, "1.2")
    authorize(call.ctx, "resource_classes")
    name = call.path["name"]
    if not call.version.at_least("1.7"):
        new = call.body["name"]
        placement(call).rename_resource_class(name, new)
        return reply(call, views.resource_class(new, href(call, "")))
    if not placement(call).ensure_resource_class(name):
        return Reply(None, 204)
    return Reply(None, 201, {"Location": call.url(f"/resource_classes/{name}")})


def delete_class(call: Call) -> Reply:
    since(call, "1.2")
    authorize(call.ctx, "resource_classes")
    placement(call).delete_resource_class(call.path["name"])
    return Reply(None, 204)


ROUTES = [
    route("/resource_classes", "GET", list_classes, response=responses.RESOURCE_CLASSES),
    route("/resource_classes", "POST", create_class, schema=schemas.NEW_RESOURCE_CLASS),
    route("/resource_classes/{name}", "GET", show_class, response=responses.RESOURCE_CLASS),
    route("/resource_classes/{name}", "PUT", put_class, schema=schemas.RENAMED_RESOURCE_CLASS),
    route("/resource_classes/{name}", "DELETE", delete_class),
]
