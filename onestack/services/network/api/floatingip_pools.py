"""``GET /v2.0/floatingip_pools`` (Neutron's ``floatingip-pools``): where floating IPs can come from."""

from __future__ import annotations

from onestack.http.routing import Call, route


def list_floatingip_pools(call: Call) -> dict:
    net = call.runtime.network
    with net.db.read() as session:
        visible = net.networks.scope(session, call.ctx)
        return {"floatingip_pools": net.floatingips.pools(session, visible)}


ROUTES = [route("/v2.0/floatingip_pools", "GET", list_floatingip_pools)]
