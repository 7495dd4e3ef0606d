"""/servers/{id}/os-volume_attachments: the server's volumes, attached and detached while it runs."""

from __future__ import annotations

from onestack.http.listing import parse_limit, parse_offset
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute, request_id


def list_attachments(call: Call) -> dict:
    _, rows = compute(call).volume_attachments.listing(call.ctx, call.path["server_id"], parse_limit(call.query),
                                                       parse_offset(call.query))
    return {"volumeAttachments": [views.volume_attachment(row, call.version) for row in rows]}


def show_attachment(call: Call) -> dict:
    row = compute(call).volume_attachments.show(call.ctx, call.path["server_id"], call.path["volume_id"])
    return {"volumeAttachment": views.volume_attachment(row, call.version)}


def attach_volume(call: Call) -> dict:
    row = compute(call).volume_attachments.attach(call.ctx, call.path["server_id"], call.body["volumeAttachment"],
                                                  call.version, request_id(call))
    return {"volumeAttachment": views.volume_attachment(row, call.version, made=True)}


def update_attachment(call: Call) -> Reply:
    compute(call).volume_attachments.update(call.ctx, call.path["server_id"], call.path["volume_id"],
                                            call.body["volumeAttachment"], call.version, request_id(call))
    return Reply(status=202)


def detach_volume(call: Call) -> Reply:
    compute(call).volume_attachments.detach(call.ctx, call.path["server_id"], call.path["volume_id"], call.version,
                                            request_id(call))
    return Reply(status=202)


ROUTES = [
    route("/v2.1/servers/{server_id}/os-volume_attachments", "GET", list_attachments),
    route("/v2.1/servers/{server_id}/os-volume_attachments", "POST", attach_volume, schema=schemas.VOLUME_ATTACH),
    route("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}", "GET", show_attachment),
    route("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}", "PUT", update_attachment,
          schema=schemas.VOLUME_ATTACHMENT_UPDATE, status=202),
    route("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}", "DELETE", detach_volume, status=202),
]
