"""/v2/images/{id}/members: offering a shared image to other projects, and their answers."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.api.images import images


def add_member(call: Call) -> dict:
    return views.member(images(call).add_member(call.ctx, call.path["image_id"], call.body["member"]))


def list_members(call: Call) -> dict:
    return views.members(images(call).members(call.ctx, call.path["image_id"]))


def show_member(call: Call) -> dict:
    return views.member(images(call).member(call.ctx, call.path["image_id"], call.path["member_id"]))


def update_member(call: Call) -> dict:
    return views.member(images(call).answer(call.ctx, call.path["image_id"], call.path["member_id"],
                                            call.body["status"]))


def remove_member(call: Call) -> Reply:
    images(call).remove_member(call.ctx, call.path["image_id"], call.path["member_id"])
    return Reply(status=204)


ROUTES = [
    route("/v2/images/{image_id}/members", "POST", add_member, schema=schemas.member_create,
          response=schemas.SHOWN_MEMBER),
    route("/v2/images/{image_id}/members", "GET", list_members, response=schemas.shown_members()),
    route("/v2/images/{image_id}/members/{member_id}", "GET", show_member, response=schemas.SHOWN_MEMBER),
    route("/v2/images/{image_id}/members/{member_id}", "PUT", update_member, schema=schemas.member_update,
          response=schemas.SHOWN_MEMBER),
    route("/v2/images/{image_id}/members/{member_id}", "DELETE", remove_member),
]
