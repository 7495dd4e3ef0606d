"""/v2/images/{id}/members: offering a shared image to other projects, and their answers."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.image import schemas, views
from onestack.services.image.api.images import images


def _image(session, call: Call):
    return images(call).get(session, call.ctx, call.path["image_id"])


def add_member(call: Call) -> dict:
    svc = images(call)
    with svc.db.write() as session:
        return views.member(svc.add_member(session, call.ctx, _image(session, call), call.body["member"]))


def list_members(call: Call) -> dict:
    svc = images(call)
    with svc.db.read() as session:
        rows = svc.members(session, call.ctx, _image(session, call))
    return {"members": [views.member(m) for m in rows], "schema": "/v2/schemas/members"}


def show_member(call: Call) -> dict:
    svc = images(call)
    with svc.db.read() as session:
        return views.member(svc.member(session, call.ctx, _image(session, call), call.path["member_id"]))


def update_member(call: Call) -> dict:
    svc = images(call)
    with svc.db.write() as session:
        row = svc.answer(session, call.ctx, _image(session, call), call.path["member_id"], call.body["status"])
        session.flush()
        return views.member(row)


def remove_member(call: Call) -> Reply:
    svc = images(call)
    with svc.db.write() as session:
        svc.remove_member(session, call.ctx, _image(session, call), call.path["member_id"])
    return Reply(status=204)


ROUTES = [
    route("/v2/images/{image_id}/members", "POST", add_member, schema=schemas.member_create),
    route("/v2/images/{image_id}/members", "GET", list_members),
    route("/v2/images/{image_id}/members/{member_id}", "GET", show_member),
    route("/v2/images/{image_id}/members/{member_id}", "PUT", update_member, schema=schemas.member_update),
    route("/v2/images/{image_id}/members/{member_id}", "DELETE", remove_member),
]
