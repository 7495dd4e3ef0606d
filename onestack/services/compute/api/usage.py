"""/os-simple-tenant-usage (what projects' servers used over a period) and /os-instance_usage_audit_log."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import next_link, page, parse_limit
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import usage


def _period(call: Call):
    start, end = usage.parse_time(call.query.get("start")), usage.parse_time(call.query.get("end"))
    if start > end:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, end


def _page(call: Call, instances: list, path: str, links_key: str) -> tuple[list, dict]:
    """From 2.40 the servers counted are paged with ``limit`` and ``marker`` (a server uuid)."""
    if not at_least(call.version, "2.40"):
        return instances, {}
    try:
        instances, next_marker = page(instances, call.query, parse_limit(call.query))
    except NotFound as exc:  # an unknown marker is a 400 here in Nova
        raise BadRequest(exc.message) from None
    if next_marker is None:
        return instances, {}
    return instances, {links_key: [next_link(call.url, f"/v2.1/{path}", call.query, next_marker)]}


def list_usages(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-simple-tenant-usage:list")
    start, end = _period(call)
    detailed = schemas.as_bool(call.query.get("detailed", "0"))
    instances, links = _page(call, compute(call).usage_reports.servers_in_period(start, end),
                             "os-simple-tenant-usage", "tenant_usages_links")
    return {"tenant_usages": usage.tenant_usages(instances, start, end, detailed), **links}


def show_usage(call: Call) -> dict:
    project_id = call.path["tenant_id"]
    authorize(call.ctx, "os_compute_api:os-simple-tenant-usage:show", project_id=project_id)
    start, end = _period(call)
    instances, links = _page(call, compute(call).usage_reports.servers_in_period(start, end, project_id),
                             f"os-simple-tenant-usage/{project_id}", "tenant_usage_links")
    found = usage.tenant_usages(instances, start, end, detailed=True)
    # A project without servers in the period has an empty usage, as Nova answers.
    return {"tenant_usage": found[0] if found else {}, **links}


def list_audit_logs(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-instance-usage-audit-log:list")
    return {"instance_usage_audit_logs": compute(call).usage_reports.audit_log(usage.parse_time(None))}


def show_audit_log(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-instance-usage-audit-log:show")
    text = call.path["before_timestamp"]
    try:
        before = usage.parse_time(text, ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"))
    except BadRequest:
        raise BadRequest(f"Invalid timestamp for date {text}") from None
    return {"instance_usage_audit_log": compute(call).usage_reports.audit_log(before)}


ROUTES = [
    route("/v2.1/os-simple-tenant-usage", "GET", list_usages),
    route("/v2.1/os-simple-tenant-usage/{tenant_id}", "GET", show_usage),
    route("/v2.1/os-instance_usage_audit_log", "GET", list_audit_logs),
    route("/v2.1/os-instance_usage_audit_log/{before_timestamp}", "GET", show_audit_log),
]
