"""/v3/{project_id}/attachments (3.27+): reserve a volume for a server, connect it, complete (3.44), let
it go."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import next_links, v3
from onestack.services.volume.service import VolumeService


def service(call: Call, since: str = "3.27") -> VolumeService:
    if not call.version.at_least(since):
        raise NotFound(f"The attachments API needs microversion {since} or later.")
    return call.runtime.volume


def create(call: Call) -> dict:
    asked = call.body["attachment"]
    mode = asked.get("mode", "rw") if call.version.at_least("3.54") else "rw"
    row, connection = service(call).attachments.create(call.ctx, asked["volume_uuid"], asked.get("instance_uuid"),
                                                       asked.get("connector"), mode)
    return {"attachment": views.attachment(row, connection)}


def _listing(call: Call, detail: bool) -> dict:
    rows, marker = service(call).attachments.listing(call.ctx, call.query)
    return {"attachments": [views.attachment(r, None, detail) for r in rows], **next_links(call, "attachments",
                                                                                             marker)}


def index(call: Call) -> dict:
    return _listing(call, detail=False)


def detail(call: Call) -> dict:
    return _listing(call, detail=True)


def show(call: Call) -> dict:
    return {"attachment": views.attachment(*service(call).attachments.show(call.ctx, call.path["attachment_id"]))}


def update(call: Call) -> dict:
    row, connection = service(call).attachments.update(call.ctx, call.path["attachment_id"],
                                                       call.body["attachment"]["connector"])
    return {"attachment": views.attachment(row, connection)}


def complete(call: Call) -> Reply:
    service(call, "3.44").attachments.complete(call.ctx, call.path["attachment_id"])
    return Reply(status=204)


def delete(call: Call) -> dict:
    remaining = service(call).attachments.delete(call.ctx, call.path["attachment_id"])
    return {"attachments": [views.attachment(r, None, detail=False) for r in remaining]}


ROUTES = [
    *v3("/attachments", "POST", create, schema=schemas.ATTACHMENT_CREATE),
    *v3("/attachments", "GET", index),
    *v3("/attachments/detail", "GET", detail),
    *v3("/attachments/{attachment_id}", "GET", show),
    *v3("/attachments/{attachment_id}", "PUT", update, schema=schemas.ATTACHMENT_UPDATE),
    *v3("/attachments/{attachment_id}", "DELETE", delete),
    *v3("/attachments/{attachment_id}/action", "POST", complete, schema=schemas.ATTACHMENT_ACTION),
]
