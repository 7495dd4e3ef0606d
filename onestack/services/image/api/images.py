"""/v2/images: metadata, tags and the admin actions."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from onestack.http.errors import BadRequest, Forbidden, NotFound, UnsupportedMediaType
from onestack.http.jsonbody import validate
from onestack.http.listing import apply_sort, page, parse_limit, sort_params
from onestack.http.routing import Call, Reply, route
from onestack.http.times import time_filters
from onestack.services.image import schemas, views
from onestack.services.image.models import Image
from onestack.services.image.service import ImageService, authorize

PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
SORTABLE = {k: k for k in ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
                           "updated_at", "visibility", "owner", "min_disk", "min_ram")}
DEFAULT_LIMIT = 25
# the list's own filters, paging and sorting; any other query parameter names a custom property
LIST_PARAMETERS = frozenset(("name", "status", "owner", "disk_format", "container_format", "id", "protected",
                             "os_hidden", "size_min", "size_max", "created_at", "updated_at", "visibility",
                             "member_status", "limit", "marker", "sort_key", "sort_dir", "sort", "tag"))


def images(call: Call) -> ImageService:
    return call.runtime.image


def create_image(call: Call) -> Reply:
    svc = images(call)
    with svc.db.write() as session:
        image = svc.create(session, call.ctx, call.body)
        headers = {"Location": call.url(f"/v2/images/{image.id}")}
        if svc.import_rules.enabled_methods:
            # Clients (openstacksdk's use_import) learn the import methods from this header, as from Glance.
            headers["OpenStack-image-import-methods"] = ",".join(svc.import_rules.enabled_methods)
        return Reply(views.image(image), 201, headers)


def list_images(call: Call) -> dict:
    ctx = call.ctx
    authorize(ctx, "get_images")
    q = call.query
    visibility = q.get("visibility")
    if visibility not in (None, "all", *schemas.VISIBILITIES):
        raise BadRequest(f"Invalid visibility value: {visibility}")
    member_status = q.get("member_status", "accepted")
    if member_status not in ("all", *schemas.MEMBER_STATUSES):
        raise BadRequest(f"Invalid member_status value: {member_status}")
    limit = parse_limit(q, DEFAULT_LIMIT)
    with images(call).db.read() as session:
        shown_visibility = None if visibility == "all" else visibility
        stmt = select(Image).where(images(call).visible_to(ctx, shown_visibility, member_status))
        for key in ("name", "status", "owner", "disk_format", "container_format", "id"):
            if key in q:
                stmt = stmt.where(getattr(Image, key) == q[key])
        for key in ("protected", "os_hidden"):
            if key in q:
                stmt = stmt.where(getattr(Image, key) == (q[key].lower() == "true"))
        if "os_hidden" not in q:
            stmt = stmt.where(Image.os_hidden.is_(False))
        for key, op in (("size_min", "__ge__"), ("size_max", "__le__")):
            if key in q:
                if not q[key].isdigit():
                    raise BadRequest(f"{key} must be a non-negative integer.")
                stmt = stmt.where(getattr(Image.size, op)(int(q[key])))
        for key in ("created_at", "updated_at"):
            if key in q:
                for op, moment in time_filters(q[key], key):
                    stmt = stmt.where(op(getattr(Image, key), moment))
        stmt = apply_sort(stmt, Image, *sort_params(q), SORTABLE, default="created_at", default_dir="desc")
        rows = session.scalars(stmt).all()
    wanted_tags = q.getlist("tag")
    rows = [r for r in rows if all(t in (r.tags or []) for t in wanted_tags)]
    # any other parameter filters on a custom property, as in Glance (Nova finds a server's backups so)
    wanted = {k: v for k, v in q.items() if k not in LIST_PARAMETERS}
    rows = [r for r in rows if all((r.properties or {}).get(k) == v for k, v in wanted.items())]
    try:
        shown, next_marker = page(rows, q, limit)
    except NotFound:
        raise BadRequest(f"Invalid marker: {q.get('marker')}") from None
    body = {"images": [views.image(r) for r in shown], "first": "/v2/images", "schema": "/v2/schemas/images"}
    if next_marker:
        # The next page keeps every filter and sort of this one, as Glance's links do.
        kept = [(k, v) for k, v in q.multi_items() if k not in ("marker", "limit")]
        body["next"] = "/v2/images?" + urlencode([*kept, ("limit", limit), ("marker", next_marker)])
    return body


def show_image(call: Call) -> dict:
    svc = images(call)
    with svc.db.read() as session:
        return views.image(svc.get(session, call.ctx, call.path["image_id"]))


def update_image(call: Call) -> dict:
    content_type = call.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in PATCH_TYPES:
        raise UnsupportedMediaType(f"Unsupported Content-Type {content_type}; use {PATCH_TYPES[0]}.")
    changes = call.body
    if content_type == PATCH_TYPES[1] and isinstance(changes, list):
        changes = [_from_v20(change) for change in changes]
    validate(changes, schemas.json_patch)
    svc = images(call)
    with svc.db.write() as session:
        image = svc.get(session, call.ctx, call.path["image_id"])
        svc.patch(session, call.ctx, image, changes)
        session.flush()
        return views.image(image)


def _from_v20(change):
    """The 2.0 patch dialect names the operation as the key: ``{"replace": "/name", "value": ...}``."""
    if not isinstance(change, dict):
        return change
    ops = [op for op in ("add", "replace", "remove") if op in change]
    if len(ops) != 1:
        return change
    converted = {"op": ops[0], "path": change[ops[0]]}
    if "value" in change:
        converted["value"] = change["value"]
    return converted


def delete_image(call: Call) -> Reply:
    svc = images(call)
    with svc.db.write() as session:
        image = svc.get(session, call.ctx, call.path["image_id"])
        svc.delete(session, call.ctx, image)
    svc.store.delete(call.path["image_id"])
    svc.staging.delete(call.path["image_id"])
    return Reply(status=204)


def _tags(call: Call, change) -> Reply:
    svc = images(call)
    with svc.db.write() as session:
        image = svc.get(session, call.ctx, call.path["image_id"])
        authorize(call.ctx, "modify_image", image)
        image.tags = change(list(image.tags or []))
    return Reply(status=204)


def add_tag(call: Call) -> Reply:
    tag = call.path["tag"]
    if len(tag) > 255:
        raise BadRequest("A tag is at most 255 characters.")

    def add(tags: list) -> list:
        if tag not in tags and len(tags) >= schemas.MAX_TAGS:
            raise Forbidden(f"An image has at most {schemas.MAX_TAGS} tags.")
        return tags if tag in tags else [*tags, tag]

    return _tags(call, add)


def delete_tag(call: Call) -> Reply:
    tag = call.path["tag"]

    def remove(tags: list) -> list:
        if tag not in tags:
            raise NotFound(f"Tag {tag} not found.")
        return [t for t in tags if t != tag]

    return _tags(call, remove)


def _transition(call: Call, action: str, source: str, target: str) -> Reply:
    svc = images(call)
    with svc.db.write() as session:
        image = svc.get(session, call.ctx, call.path["image_id"])
        authorize(call.ctx, action, image)
        if image.status not in (source, target):
            raise BadRequest(f"Not allowed to {action} an image in status '{image.status}'.")
        image.status = target
    return Reply(status=204)


def deactivate(call: Call) -> Reply:
    return _transition(call, "deactivate", "active", "deactivated")


def reactivate(call: Call) -> Reply:
    return _transition(call, "reactivate", "deactivated", "active")


ROUTES = [
    route("/v2/images", "POST", create_image, schema=schemas.image_create),
    route("/v2/images", "GET", list_images),
    route("/v2/images/{image_id}", "GET", show_image),
    route("/v2/images/{image_id}", "PATCH", update_image),
    route("/v2/images/{image_id}", "DELETE", delete_image),
    route("/v2/images/{image_id}/tags/{tag}", "PUT", add_tag),
    route("/v2/images/{image_id}/tags/{tag}", "DELETE", delete_tag),
    route("/v2/images/{image_id}/actions/deactivate", "POST", deactivate),
    route("/v2/images/{image_id}/actions/reactivate", "POST", reactivate),
]
