"""/v3/{project_id}/os-services and /os-availability-zone: this cloud's one scheduler and a volume service
per backend, in its one zone; the file backends' pools (/scheduler-stats/get_pools), capabilities
(/capabilities/{host}) and hosts (/os-hosts)."""

from __future__ import annotations

import datetime

from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.routing import Call
from onestack.services.volume import views
from onestack.services.volume.api.paths import v3
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import VolumeService
from onestack.services.volume.service.volumes import AVAILABILITY_ZONE

STARTED = datetime.datetime.now(datetime.UTC)


def services(call: Call) -> dict:
    authorize(call.ctx, "volume_extension:services:index")
    return {"services": views.services(STARTED, call.version, call.query.get("host"), call.query.get("binary"),
                                       service(call).stores.names())}


def change_service(call: Call) -> dict:
    """PUT /os-services/{action}: the requests are checked as Cinder checks them; enabling the (always
    enabled) services answers as Cinder does, while disabling them or freezing the host is not provided."""
    authorize(call.ctx, "volume_extension:services:update")
    action, body = call.path["action"], call.body if isinstance(call.body, dict) else {}
    known = views.services(STARTED, call.version, body.get("host"), body.get("binary"), service(call).stores.names())
    if action in ("freeze", "thaw"):
        if not isinstance(body.get("host"), str) or not known:
            raise BadRequest(f"Invalid input received: host {body.get('host')!r} is not a volume host.")
        raise Conflict(f"{action.capitalize()} of the volume host is not provided by this cloud (no replication).")
    if action not in ("enable", "disable", "disable-log-reason"):
        raise NotFound(f"Unknown action {action}.")
    if not isinstance(body.get("host"), str) or not isinstance(body.get("binary"), str):
        raise BadRequest("Invalid input received: host and binary are required.")
    if action == "disable-log-reason":
        reason = body.get("disabled_reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
            raise BadRequest("Invalid input received: disabled_reason must be a string of 1 to 255 characters.")
    if not known:
        raise NotFound(f"Service {body['binary']} on host {body['host']} could not be found.")
    if action != "enable":
        raise Conflict("Disabling this cloud's volume services is not provided.")
    return {"host": body["host"], "binary": body["binary"], "status": "enabled", "disabled": False,
            "disabled_reason": None}


def pools(call: Call) -> dict:
    detail = (call.query.get("detail") or "").lower() in ("true", "1", "yes", "on")
    return {"pools": [views.pool(name, capabilities, detail) for name, capabilities in
                      service(call).backend.pools(call.ctx)]}


def capabilities(call: Call) -> dict:
    return views.backend_capabilities(service(call).backend.host_capabilities(call.ctx, call.path["host"]))


def hosts(call: Call) -> dict:
    return {"hosts": [views.host(binary, host, STARTED) for binary, host in service(call).backend.hosts(call.ctx)]}


def host(call: Call) -> dict:
    return {"host": [{"resource": views.host_usage(row, call.path["host"])}
                     for row in service(call).backend.host_usage(call.ctx, call.path["host"])]}


def zones(call: Call) -> dict:
    authorize(call.ctx, "volume_extension:availability_zone_list")
    return {"availabilityZoneInfo": [{"zoneName": AVAILABILITY_ZONE, "zoneState": {"available": True}}]}


def service(call: Call) -> VolumeService:
    return call.runtime.volume


ROUTES = [*v3("/os-services", "GET", services), *v3("/os-services/{action}", "PUT", change_service), *v3("/os-availability-zone", "GET", zones),
          *v3("/scheduler-stats/get_pools", "GET", pools), *v3("/capabilities/{host}", "GET", capabilities),
          *v3("/os-hosts", "GET", hosts), *v3("/os-hosts/{host}", "GET", host)]
