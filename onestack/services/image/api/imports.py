"""Interoperable import (/v2/images/{id}/import, /v2/info/import) and the tasks that carry it out."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import apply_sort, page, parse_limit, sort_params
from onestack.http.policy import enforce
from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.api.images import images
from onestack.services.image.models import ImageTask
from onestack.services.image.policies import RULES
from onestack.services.image.service import authorize

TASK_SORTABLE = {k: k for k in ("id", "type", "status", "created_at", "updated_at")}


def info_import(call: Call) -> dict:
    authorize(call.ctx, "get_images")
    return {"import-methods": {"description": "Import methods available.", "type": "array",
                               "value": list(images(call).import_rules.enabled_methods)}}


def import_image(call: Call) -> Reply:
    svc = images(call)
    request_id = call.request.scope.get("onestack.request_id")
    with svc.db.write() as session:
        task = svc.start_import(session, call.ctx, call.path["image_id"], call.body, request_id)
    if task is not None:
        svc.importer.submit(task.id)
    return Reply(status=202)


def create_task(call: Call) -> Reply:
    """Glance's older ``import`` task: an image made from ``image_properties`` and filled from a URL,
    which is today's web-download under another name (a URL the filters refuse is a 400 at once)."""
    enforce(call.ctx, "tasks_api_access", RULES["tasks_api_access"])
    svc = images(call)
    given = call.body["input"]
    request_id = call.request.scope.get("onestack.request_id")
    with svc.db.write() as session:
        image = svc.create(session, call.ctx, dict(given["image_properties"]))
        task = svc.start_import(session, call.ctx, image.id, {"method": {"name": "web-download",
                                                                        "uri": given["import_from"]}}, request_id)
        task.type, task.input = "import", given
        session.flush()
        body = views.task(task)
    svc.importer.submit(task.id)
    return Reply(body, 201)


def image_tasks(call: Call) -> dict:
    svc = images(call)
    with svc.db.read() as session:
        return {"tasks": [views.task(t) for t in svc.image_tasks(session, call.ctx, call.path["image_id"])]}


def show_task(call: Call) -> dict:
    svc = images(call)
    with svc.db.read() as session:
        return views.task(svc.task(session, call.ctx, call.path["task_id"]))


def list_tasks(call: Call) -> dict:
    enforce(call.ctx, "tasks_api_access", RULES["tasks_api_access"])
    q = call.query
    limit = parse_limit(q, 25)
    stmt = select(ImageTask)
    for key in ("type", "status"):
        if key in q:
            stmt = stmt.where(getattr(ImageTask, key) == q[key])
    stmt = apply_sort(stmt, ImageTask, *sort_params(q), TASK_SORTABLE, default="created_at", default_dir="desc")
    with images(call).db.read() as session:
        rows = session.scalars(stmt).all()
    try:
        shown, next_marker = page(rows, q, limit)
    except NotFound:
        raise BadRequest(f"Invalid marker: {q.get('marker')}") from None
    body = {"tasks": [views.task_stub(t) for t in shown], "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
    if next_marker:
        body["next"] = f"/v2/tasks?limit={limit}&marker={next_marker}"
    return body


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
