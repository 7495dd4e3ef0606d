"""``/servers/{id}/os-server-password``: what the guest posted to the metadata service's ``password``
(encrypted by the guest with its SSH key; the cloud never sees it in clear), and clearing it so the guest
may post a new one."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.compute.api.servers import compute


def show(call: Call) -> dict:
    return {"password": compute(call).details.password(call.ctx, call.path["server_id"])}


def clear(call: Call) -> Reply:
    compute(call).details.clear_password(call.ctx, call.path["server_id"])
    return Reply(status=204)


ROUTES = [
    route("/v2.1/servers/{server_id}/os-server-password", "GET", show),
    route("/v2.1/servers/{server_id}/os-server-password", "DELETE", clear, status=204),
]
