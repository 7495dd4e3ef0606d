"""/servers/{id}/os-interface: the server's ports, attached and detached while it runs."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute, request_id
from onestack.services.compute.service import interfaces
from onestack.services.compute.service.servers import authorize


def _server(call: Call, policy: str):
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, policy, instance)
    return instance


def list_interfaces(call: Call) -> dict:
    instance = _server(call, "os_compute_api:os-attach-interfaces:list")
    tags = interfaces.tags(instance)
    return {"interfaceAttachments": [views.interface(p, tags.get(p.id), call.version)
                                     for p in compute(call).networking.interfaces(instance.id)]}


def show_interface(call: Call) -> dict:
    instance = _server(call, "os_compute_api:os-attach-interfaces:show")
    port = interfaces.find(compute(call), instance.id, call.path["port_id"])
    return {"interfaceAttachment": views.interface(port, interfaces.tags(instance).get(port.id), call.version)}


def attach_interface(call: Call) -> dict:
    schemas.check(call.body, schemas.interface_attach(call.version))
    request = (call.body or {}).get("interfaceAttachment") or {}
    port = interfaces.attach(compute(call), call.ctx, call.path["server_id"], request, request_id(call))
    return {"interfaceAttachment": views.interface(port, request.get("tag"), call.version)}


def detach_interface(call: Call) -> Reply:
    interfaces.detach(compute(call), call.ctx, call.path["server_id"], call.path["port_id"], request_id(call))
    return Reply(status=202)


ROUTES = [
    route("/v2.1/servers/{server_id}/os-interface", "GET", list_interfaces),
    route("/v2.1/servers/{server_id}/os-interface", "POST", attach_interface),
    route("/v2.1/servers/{server_id}/os-interface/{port_id}", "GET", show_interface),
    route("/v2.1/servers/{server_id}/os-interface/{port_id}", "DELETE", detach_interface, status=202),
]
