"""/os-availability-zone: the zones compute hosts are in, and (for admins) their hosts."""

from __future__ import annotations

from onestack.http.routing import Call, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def list_zones(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-availability-zone:list")
    return {"availabilityZoneInfo": views.zones(compute(call).host_records.zones())}


def list_zones_detail(call: Call) -> dict:
    # The detail names hosts and services: admins only, as in Nova.
    authorize(call.ctx, "os_compute_api:os-availability-zone:detail")
    return {"availabilityZoneInfo": views.zones_detail(compute(call).host_records.zones())}


ROUTES = [route("/v2.1/os-availability-zone", "GET", list_zones),
          route("/v2.1/os-availability-zone/detail", "GET", list_zones_detail)]
