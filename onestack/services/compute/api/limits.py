"""/v2.1/limits: the project's absolute limits and what it uses (rate limits are long gone from Nova)."""

from __future__ import annotations

from onestack.http.routing import Call, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def show_limits(call: Call) -> dict:
    ctx = call.ctx
    authorize(ctx, "os_compute_api:limits")
    project_id = call.query.get("tenant_id") or ctx.project_id or ""
    if project_id != ctx.project_id:
        authorize(ctx, "os_compute_api:limits:other_project", project_id=project_id)
    return views.limits(*compute(call).quota_sets.limits_and_usage(project_id), call.version)


ROUTES = [route("/v2.1/limits", "GET", show_limits)]
