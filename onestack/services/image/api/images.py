"""/v2/images: metadata, tags and the admin actions."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound, UnsupportedMediaType
from onestack.http.listing import next_query, page, parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.policies import authorize
from onestack.services.image.service import LIST_QUERY, ImageService

PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")
DEFAULT_LIMIT = 25


def images(call: Call) -> ImageService:
    return call.runtime.image


def create_image(call: Call) -> Reply:
    svc = images(call)
    image = svc.create_image(call.ctx, call.body)
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
    rows = images(call).list_images(ctx, q, None if visibility == "all" else visibility, member_status,
                                        limit)
    try:
        shown, next_marker = page(rows, q, limit)
    except NotFound:
        raise BadRequest(f"Invalid marker: {q.get('marker')}") from None
    # The next page keeps every filter and sort of this one, as Glance's links do.
    return views.images(shown, next_query(q, next_marker, limit) if next_marker else None)


def show_image(call: Call) -> dict:
    return views.image(images(call).show_image(call.ctx, call.path["image_id"]))


def update_image(call: Call) -> dict:
    content_type = call.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in PATCH_TYPES:
        raise UnsupportedMediaType(f"Unsupported Content-Type {content_type}; use {PATCH_TYPES[0]}.")
    changes = call.body
    if content_type == PATCH_TYPES[1] and isinstance(changes, list):
        changes = [_from_v20(change) for change in changes]
    return views.image(images(call).update_image(call.ctx, call.path["image_id"], changes))


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
    images(call).delete_image(call.ctx, call.path["image_id"])
    return Reply(status=204)


def delete_from_store(call: Call) -> Reply:
    images(call).delete_from_store(call.ctx, call.path["store_id"], call.path["image_id"])
    return Reply(status=204)


def add_tag(call: Call) -> Reply:
    images(call).add_tag(call.ctx, call.path["image_id"], call.path["tag"])
    return Reply(status=204)


def delete_tag(call: Call) -> Reply:
    images(call).remove_tag(call.ctx, call.path["image_id"], call.path["tag"])
    return Reply(status=204)


def deactivate(call: Call) -> Reply:
    images(call).change_status(call.ctx, call.path["image_id"], "deactivate", "active", "deactivated")
    return Reply(status=204)


def reactivate(call: Call) -> Reply:
    images(call).change_status(call.ctx, call.path["image_id"], "reactivate", "deactivated", "active")
    return Reply(status=204)


ROUTES = [
    route("/v2/images", "POST", create_image, schema=schemas.image_create, status=201,
          response=schemas.shown_image()),
    route("/v2/images", "GET", list_images, response=schemas.shown_images(), query=LIST_QUERY),
    route("/v2/images/{image_id}", "GET", show_image, response=schemas.shown_image()),
    route("/v2/images/{image_id}", "PATCH", update_image, response=schemas.shown_image()),
    route("/v2/images/{image_id}", "DELETE", delete_image),
    route("/v2/stores/{store_id}/{image_id}", "DELETE", delete_from_store),
    route("/v2/images/{image_id}/tags/{tag}", "PUT", add_tag),
    route("/v2/images/{image_id}/tags/{tag}", "DELETE", delete_tag),
    route("/v2/images/{image_id}/actions/deactivate", "POST", deactivate),
    route("/v2/images/{image_id}/actions/reactivate", "POST", reactivate),
]
