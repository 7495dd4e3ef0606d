"""/os-services: the compute hosts as Nova's services API shows them (admins only).

Before 2.53 services are named by integer ids, from 2.53 by uuid (``PUT /os-services/{id}`` replaces the
enable, disable and force-down calls).
"""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def list_services(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-services:list")
    if call.query.get("binary") not in (None, "nova-compute"):
        return {"services": []}
    return {"services": [views.service(s, call.version)
                         for s in compute(call).host_records.services(call.query.get("host"))]}


def _set_status(call: Call, disabled: bool) -> dict:
    if at_least(call.version, "2.53"):  # replaced by PUT /os-services/{id}
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-services:list")
    body = call.body or {}
    if not isinstance(body, dict) or "host" not in body:
        raise BadRequest("Invalid input: 'host' and 'binary' are required.")
    host = compute(call).host_records.set_disabled(body["host"], disabled, body.get("disabled_reason"))
    reply = {"host": host.host, "binary": "nova-compute", "status": "disabled" if disabled else "enabled"}
    if disabled and body.get("disabled_reason"):
        reply["disabled_reason"] = body["disabled_reason"]
    return {"service": reply}


def enable_service(call: Call) -> dict:
    return _set_status(call, False)


def disable_service(call: Call) -> dict:
    return _set_status(call, True)


def update_service(call: Call) -> dict:
    if not at_least(call.version, "2.53"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-services:update")
    body = dict(call.body)
    if "disabled_reason" in body and body.get("status") != "disabled":
        raise BadRequest("Specifying 'disabled_reason' with status other than 'disabled' is invalid.")
    if "forced_down" in body:
        body["forced_down"] = schemas.as_bool(body["forced_down"])
    return {"service": views.service(compute(call).host_records.update_service(call.path["service_id"], body),
                                     call.version)}


def force_down(call: Call) -> dict:
    """PUT /os-services/force-down (2.11 to 2.52)."""
    if not at_least(call.version, "2.11") or at_least(call.version, "2.53"):
        raise NotFound("The resource could not be found.")
    authorize(call.ctx, "os_compute_api:os-services:update")
    body = call.body or {}
    if not isinstance(body, dict) or "host" not in body or "forced_down" not in body:
        raise BadRequest("Invalid input: 'host', 'binary' and 'forced_down' are required.")
    host = compute(call).host_records.force_down(body["host"], schemas.as_bool(body["forced_down"]))
    return {"service": {"host": host.host, "binary": "nova-compute", "forced_down": host.forced_down}}


ROUTES = [
    route("/v2.1/os-services", "GET", list_services),
    route("/v2.1/os-services/enable", "PUT", enable_service),
    route("/v2.1/os-services/disable", "PUT", disable_service),
    route("/v2.1/os-services/disable-log-reason", "PUT", disable_service),
    route("/v2.1/os-services/force-down", "PUT", force_down, schema=schemas.FORCE_DOWN),
    route("/v2.1/os-services/{service_id}", "PUT", update_service, schema=schemas.SERVICE_UPDATE),
]
