"""/v2.1/os-floating-ips and /v2.1/os-floating-ip-pools (gone at 2.36) and the addFloatingIp /
removeFloatingIp server actions (gone at 2.44): Nova's proxy to the network service's floating IPs."""

from __future__ import annotations

import ipaddress

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.floating_ip_proxy import FloatingIPProxy
from onestack.services.compute.versions import FLOATING_IP_ACTIONS_LAST, PROXY_LAST, served_until


def _proxy(call: Call, policy: str | None = None, last: str = PROXY_LAST) -> FloatingIPProxy:
    served_until(call.version, last)
    if policy is not None:
        authorize(call.ctx, policy)
    return compute(call).floating_ip_proxy


def list_floating_ips(call: Call) -> dict:
    found = _proxy(call, "os_compute_api:os-floating-ips:list").list(call.ctx)
    return {"floating_ips": [views.proxied_floating_ip(f) for f in found]}


def show_floating_ip(call: Call) -> dict:
    found = _proxy(call, "os_compute_api:os-floating-ips:show").show(call.ctx, call.path["fip_id"])
    return {"floating_ip": views.proxied_floating_ip(found)}


def allocate_floating_ip(call: Call) -> dict:
    proxy = _proxy(call, "os_compute_api:os-floating-ips:create")
    pool = call.body.get("pool") if isinstance(call.body, dict) else None
    return {"floating_ip": views.proxied_floating_ip(proxy.allocate(call.ctx, pool))}


def release_floating_ip(call: Call) -> Reply:
    _proxy(call, "os_compute_api:os-floating-ips:delete").release(call.ctx, call.path["fip_id"])
    return Reply(status=202)


def list_pools(call: Call) -> dict:
    pools = _proxy(call, "os_compute_api:os-floating-ip-pools").pools(call.ctx)
    return {"floating_ip_pools": [{"name": n.name} for n in pools]}


# -- server actions ------------------------------------------------------------------------------
def _address(args, key: str, required: bool = True) -> str | None:
    value = args.get(key) if isinstance(args, dict) else None
    if value is None and not required:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}. "
                         f"{value!r} is not a 'ip_address'") from None


def add_floating_ip(call: Call, args) -> Reply:
    served_until(call.version, FLOATING_IP_ACTIONS_LAST)
    address, fixed = _address(args, "address"), _address(args, "fixed_address", required=False)
    instance = compute(call).servers.show(call.ctx, call.path["server_id"], "os_compute_api:os-floating-ips:add")
    _proxy(call, last=FLOATING_IP_ACTIONS_LAST).associate(call.ctx, instance.id, address, fixed)
    return Reply(status=202)


def remove_floating_ip(call: Call, args) -> Reply:
    served_until(call.version, FLOATING_IP_ACTIONS_LAST)
    address = _address(args, "address")
    instance = compute(call).servers.show(call.ctx, call.path["server_id"], "os_compute_api:os-floating-ips:remove")
    _proxy(call, last=FLOATING_IP_ACTIONS_LAST).disassociate(call.ctx, instance.id, address)
    return Reply(status=202)


ROUTES = [
    route("/v2.1/os-floating-ips", "GET", list_floating_ips),
    route("/v2.1/os-floating-ips", "POST", allocate_floating_ip),
    route("/v2.1/os-floating-ips/{fip_id}", "GET", show_floating_ip),
    route("/v2.1/os-floating-ips/{fip_id}", "DELETE", release_floating_ip),
    route("/v2.1/os-floating-ip-pools", "GET", list_pools),
]
