"""``GET /v2.0/floatingip_pools`` (Neutron's ``floatingip-pools``): where floating IPs can come from."""

from __future__ import annotations

from onestack.http.routing import Call, route


def list_floatingip_pools(call: Call) -> dict:
    return {"floatingip_pools": call.runtime.network.floatingips.pools(call.ctx)}


ROUTES = [route("/v2.0/floatingip_pools", "GET", list_floatingip_pools)]
