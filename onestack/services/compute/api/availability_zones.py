"""/os-availability-zone: the zones compute hosts are in, and (for admins) their hosts."""

from __future__ import annotations

from sqlalchemy import select

from onestack.http.routing import Call, route
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import ComputeHost
from onestack.services.compute.service.servers import authorize
from onestack.services.compute.views import zulu as stamp


def _zones(call: Call, detail: bool = False) -> dict[str, list[ComputeHost]]:
    # The detail names hosts and services: admins only, as in Nova.
    authorize(call.ctx, "os_compute_api:os-availability-zone:detail" if detail else
              "os_compute_api:os-availability-zone:list")
    zones: dict[str, list[ComputeHost]] = {}
    with compute(call).db.read() as session:
        for host in session.scalars(select(ComputeHost).order_by(ComputeHost.host)):
            zones.setdefault(host.availability_zone, []).append(host)
    return zones


def list_zones(call: Call) -> dict:
    return {"availabilityZoneInfo": [{"zoneName": name, "zoneState": {"available": any(not h.disabled for h in hosts)},
                                      "hosts": None} for name, hosts in _zones(call).items()]}


def list_zones_detail(call: Call) -> dict:
    found = [{"zoneName": "internal", "zoneState": {"available": True}, "hosts": {}}]
    for name, hosts in _zones(call, detail=True).items():
        found.append({"zoneName": name, "zoneState": {"available": any(not h.disabled for h in hosts)},
                      "hosts": {h.host: {"nova-compute": {"available": not h.forced_down, "active": not h.disabled,
                                                          "updated_at": stamp(h.heartbeat_at)}} for h in hosts}})
    return {"availabilityZoneInfo": found}


ROUTES = [route("/v2.1/os-availability-zone", "GET", list_zones),
          route("/v2.1/os-availability-zone/detail", "GET", list_zones_detail)]
