"""/resource_classes (1.2): the standard ones and CUSTOM_* ones."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.placement import catalog, schemas, standard, views
from onestack.services.placement.api.common import at_least, authorize, body, href, placement, reply, since


def list_classes(call: Call) -> Reply:
    since(call, 1, 2)
    authorize(call, "resource_classes")
    with placement(call).read() as session:
        names = catalog.resource_classes(session)
    return reply(call, {"resource_classes": [views.resource_class(n, href(call, "")) for n in names]})


def create_class(call: Call) -> Reply:
    since(call, 1, 2)
    authorize(call, "resource_classes")
    name = body(call, schemas.RESOURCE_CLASS)["name"]
    with placement(call).write() as session:
        catalog.create_resource_class(session, name)
    return Reply(None, 201, {"Location": call.url(f"/resource_classes/{name}")})


def show_class(call: Call) -> Reply:
    since(call, 1, 2)
    authorize(call, "resource_classes")
    name = call.path["name"]
    with placement(call).read() as session:
        row = catalog.get_resource_class(session, name)
    return reply(call, views.resource_class(name, href(call, "")), row.updated_at if row else None)


def put_class(call: Call) -> Reply:
    """Before 1.7: rename a custom class.  From 1.7: create it if missing (201), else nothing (204)."""
    since(call, 1, 2)
    authorize(call, "resource_classes")
    name = call.path["name"]
    if not at_least(call, 1, 7):
        new = body(call, schemas.RESOURCE_CLASS)["name"]
        with placement(call).write() as session:
            catalog.rename_resource_class(session, name, new)
        return reply(call, views.resource_class(new, href(call, "")))
    with placement(call).write() as session:
        if catalog.resource_class_exists(session, name):
            return Reply(None, 204)
        if not standard.is_custom(name) or len(name) > 255:
            raise BadRequest(f"Resource class name {name} must start with CUSTOM_ and use only A-Z, 0-9 and _.")
        catalog.create_resource_class(session, name)
    return Reply(None, 201, {"Location": call.url(f"/resource_classes/{name}")})


def delete_class(call: Call) -> Reply:
    since(call, 1, 2)
    authorize(call, "resource_classes")
    with placement(call).write() as session:
        catalog.delete_resource_class(session, call.path["name"])
    return Reply(None, 204)


ROUTES = [
    route("/resource_classes", "GET", list_classes),
    route("/resource_classes", "POST", create_class),
    route("/resource_classes/{name}", "GET", show_class),
    route("/resource_classes/{name}", "PUT", put_class),
    route("/resource_classes/{name}", "DELETE", delete_class),
]
