"""``/servers/{id}/os-server-password``: what the guest posted to the metadata service's ``password``
(encrypted by the guest with its SSH key; the cloud never sees it in clear), and clearing it so the guest
may post a new one."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.compute.api.servers import compute
from onestack.services.compute.service.servers import authorize


def show(call: Call) -> dict:
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-server-password:show", instance)
        return {"password": instance.password or ""}


def clear(call: Call) -> Reply:
    svc = compute(call)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-server-password:clear", instance)
        instance.password = None
    return Reply(status=204)


ROUTES = [
    route("/v2.1/servers/{server_id}/os-server-password", "GET", show),
    route("/v2.1/servers/{server_id}/os-server-password", "DELETE", clear, status=204),
]
