"""/v3/{project_id}/os-services and /os-availability-zone: this cloud's one scheduler and one volume
service (its backend: files in the data dir), in its one zone."""

from __future__ import annotations

import datetime
import socket

from onestack.http.routing import Call
from onestack.services.volume import views
from onestack.services.volume.api.paths import v3
from onestack.services.volume.policies import authorize
from onestack.services.volume.service.volumes import AVAILABILITY_ZONE

STARTED = datetime.datetime.now(datetime.UTC)


def services(call: Call) -> dict:
    authorize(call.ctx, "volume_extension:services:index")
    rows = views.services(socket.gethostname(), STARTED, call.version)
    for field in ("host", "binary"):
        if field in call.query:
            rows = [r for r in rows if r[field] == call.query[field]]
    return {"services": rows}


def zones(call: Call) -> dict:
    authorize(call.ctx, "volume_extension:availability_zone_list")
    return {"availabilityZoneInfo": [{"zoneName": AVAILABILITY_ZONE, "zoneState": {"available": True}}]}


ROUTES = [*v3("/os-services", "GET", services), *v3("/os-availability-zone", "GET", zones)]
