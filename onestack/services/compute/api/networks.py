"""/v2.1/os-networks and /v2.1/os-tenant-networks (gone at 2.36): Nova's read-only views of the network
service's networks.  What nova-network once did (create, delete, associate, add) Nova now answers with
410 Gone, and so does this."""

from __future__ import annotations

from onestack.http.errors import Gone
from onestack.http.routing import Call, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.network_proxy import NetworkProxy
from onestack.services.compute.versions import PROXY_LAST, served_until


def _proxy(call: Call, policy: str | None = None) -> NetworkProxy:
    served_until(call.version, PROXY_LAST)
    if policy is not None:
        authorize(call.ctx, policy)
    return compute(call).network_proxy


def list_networks(call: Call) -> dict:
    networks = _proxy(call, "os_compute_api:os-networks:list").visible(call.ctx)
    return {"networks": [views.proxied_network(n, call.ctx.is_admin) for n in networks]}


def show_network(call: Call) -> dict:
    network = _proxy(call, "os_compute_api:os-networks:view").get(call.ctx, call.path["network_id"])
    return {"network": views.proxied_network(network, call.ctx.is_admin)}


def list_tenant_networks(call: Call) -> dict:
    networks = _proxy(call, "os_compute_api:os-tenant-networks:list").visible(call.ctx)
    return {"networks": [views.tenant_network(n) for n in networks]}


def show_tenant_network(call: Call) -> dict:
    network = _proxy(call, "os_compute_api:os-tenant-networks:show").get(call.ctx, call.path["network_id"])
    return {"network": views.tenant_network(network)}


def gone(call: Call) -> None:
    """nova-network's operations: removed from Nova, which answers 410 (404 past 2.35, like the rest)."""
    _proxy(call)
    raise Gone("This resource is no longer available in the API.")


ROUTES = [
    route("/v2.1/os-networks", "GET", list_networks),
    route("/v2.1/os-networks", "POST", gone),
    route("/v2.1/os-networks/add", "POST", gone),
    route("/v2.1/os-networks/{network_id}", "GET", show_network),
    route("/v2.1/os-networks/{network_id}", "DELETE", gone),
    route("/v2.1/os-networks/{network_id}/action", "POST", gone),
    route("/v2.1/os-tenant-networks", "GET", list_tenant_networks),
    route("/v2.1/os-tenant-networks", "POST", gone),
    route("/v2.1/os-tenant-networks/{network_id}", "GET", show_tenant_network),
    route("/v2.1/os-tenant-networks/{network_id}", "DELETE", gone),
]
