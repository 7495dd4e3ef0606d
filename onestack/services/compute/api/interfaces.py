"""/servers/{id}/os-interface: the server's ports, attached and detached while it runs."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute, request_id
from onestack.services.compute.service.interfaces import tags


def list_interfaces(call: Call) -> dict:
    instance, ports = compute(call).interfaces.listing(call.ctx, call.path["server_id"])
    attached = tags(instance)
    return {"interfaceAttachments": [views.interface(p, attached.get(p.id), call.version) for p in ports]}


def show_interface(call: Call) -> dict:
    instance, port = compute(call).interfaces.show(call.ctx, call.path["server_id"], call.path["port_id"])
    return {"interfaceAttachment": views.interface(port, tags(instance).get(port.id), call.version)}


def attach_interface(call: Call) -> dict:
    request = (call.body or {}).get("interfaceAttachment") or {}
    port = compute(call).interfaces.attach(call.ctx, call.path["server_id"], request, request_id(call))
    return {"interfaceAttachment": views.interface(port, request.get("tag"), call.version)}


def detach_interface(call: Call) -> Reply:
    compute(call).interfaces.detach(call.ctx, call.path["server_id"], call.path["port_id"], request_id(call))
    return Reply(status=202)


ROUTES = [
    route("/v2.1/servers/{server_id}/os-interface", "GET", list_interfaces),
    route("/v2.1/servers/{server_id}/os-interface", "POST", attach_interface, schema=schemas.INTERFACE_ATTACH),
    route("/v2.1/servers/{server_id}/os-interface/{port_id}", "GET", show_interface),
    route("/v2.1/servers/{server_id}/os-interface/{port_id}", "DELETE", detach_interface, status=202),
]
