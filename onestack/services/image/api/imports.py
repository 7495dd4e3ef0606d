"""Interoperable import (/v2/images/{id}/import, /v2/info/import) and the tasks that carry it out."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import next_query, page, parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.api.images import images
from onestack.services.image.policies import authorize


def info_import(call: Call) -> dict:
    authorize(call.ctx, "get_images")
    return {"import-methods": {"description": "Import methods available.", "type": "array",
                               "value": list(images(call).import_rules.enabled_methods)}}


def import_image(call: Call) -> Reply:
    request_id = call.request.scope.get("onestack.request_id")
    images(call).import_image(call.ctx, call.path["image_id"], call.body, request_id,
                              call.headers.get("x-image-meta-store"))
    return Reply(status=202)


def create_task(call: Call) -> Reply:
    """Glance's older ``import`` task (see ``ImageService.create_import_task``)."""
    authorize(call.ctx, "tasks_api_access")
    request_id = call.request.scope.get("onestack.request_id")
    return Reply(views.task(images(call).create_import_task(call.ctx, call.body["input"], request_id)), 201)


def image_tasks(call: Call) -> dict:
    return {"tasks": [views.task(t) for t in images(call).image_tasks(call.ctx, call.path["image_id"])]}


def show_task(call: Call) -> dict:
    return views.task(images(call).task(call.ctx, call.path["task_id"]))


def list_tasks(call: Call) -> dict:
    authorize(call.ctx, "tasks_api_access")
    q = call.query
    limit = parse_limit(q, 25)
    rows = images(call).list_tasks(q)
    try:
        shown, next_marker = page(rows, q, limit)
    except NotFound:
        raise BadRequest(f"Invalid marker: {q.get('marker')}") from None
    return views.tasks(shown, next_query(q, next_marker, limit) if next_marker else None)


def _task_schema(hidden: tuple[str, ...] = ()) -> dict:
    props = {k: v for k, v in schemas.TASK_PROPERTIES.items() if k not in hidden}
    return {"name": "task", "properties": props, "additionalProperties": False,
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "describedby", "href": "{schema}"}]}


def task_schema(call: Call) -> dict:
    return _task_schema()


def tasks_schema(call: Call) -> dict:
    return {"name": "tasks", "properties": {
        "tasks": {"type": "array", "items": _task_schema(("input", "result", "message"))},
        "schema": {"type": "string"}, "first": {"type": "string"}, "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}


ROUTES = [
    route("/v2/info/import", "GET", info_import),
    route("/v2/images/{image_id}/import", "POST", import_image, schema=schemas.image_import),
    route("/v2/images/{image_id}/tasks", "GET", image_tasks),
    route("/v2/tasks", "GET", list_tasks),
    route("/v2/tasks", "POST", create_task, schema=schemas.legacy_task),
    route("/v2/tasks/{task_id}", "GET", show_task),
    route("/v2/schemas/task", "GET", task_schema),
    route("/v2/schemas/tasks", "GET", tasks_schema),
]
