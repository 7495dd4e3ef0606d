"""``/v2.0/quotas``: Neutron's quota management (quotas, quota_details extensions).

Limits live in ``Quota`` rows only where a project has its own; everything else is the default
from the settings.  Enforcement happens where resources are created (``Quotas.check``).
"""

from __future__ import annotations

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.http.policy import enforce
from onestack.http.routing import Call, Reply, route
from onestack.services.network import policies
from onestack.services.network.quotas import UNLIMITED

# Neutron stores limits as a signed 32-bit column.
MAX_LIMIT = 2**31 - 1


def _quotas(call: Call):
    return call.runtime.network.quotas


def _project(call: Call) -> str:
    """The project in the path (Neutron also answers the ``.json`` form its older clients use)."""
    project = call.path["project_id"]
    return project[:-5] if project.endswith(".json") else project


def _authorize(ctx: Context, verb: str, project_id: str | None = None) -> None:
    enforce(ctx, f"{verb}_quota", policies.rule(verb, "quota"), {"project_id": project_id})


def _limit(resource: str, value) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and
                                                                  value.strip().lstrip("-").isdigit())):
        raise BadRequest(f"Invalid input for {resource}. Reason: '{value}' is not an integer.", kind="HTTPBadRequest")
    limit = int(value)
    if limit < UNLIMITED:
        raise BadRequest(f"Invalid input for {resource}. Reason: '{limit}' is too small - must be at least "
                         f"'{UNLIMITED}'.", kind="HTTPBadRequest")
    if limit > MAX_LIMIT:
        raise BadRequest(f"Invalid input for {resource}. Reason: '{limit}' is too large - must be no larger than "
                         f"'{MAX_LIMIT}'.", kind="HTTPBadRequest")
    return limit


def _requested(call: Call, known: dict) -> tuple[dict[str, int], bool]:
    """The limits a PUT asks for, and whether it asked to refuse limits below current usage."""
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise BadRequest("Unable to find 'quota' in request body", kind="HTTPBadRequest")
    wanted = dict(body["quota"])
    check_limit = wanted.pop("check_limit", False)
    if not isinstance(check_limit, bool):
        raise BadRequest(f"Invalid input for check_limit. Reason: '{check_limit}' is not a valid boolean value.",
                         kind="HTTPBadRequest")
    unknown = sorted(k for k in wanted if k not in known)
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'", kind="HTTPBadRequest")
    return {name: _limit(name, value) for name, value in wanted.items()}, check_limit


def list_quotas(call: Call) -> dict:
    _authorize(call.ctx, "update")  # Neutron: only admins see other projects' quotas
    quotas = _quotas(call)
    with call.runtime.network.db.read() as session:
        return {"quotas": [{**quotas.limits(session, project), "project_id": project, "tenant_id": project}
                           for project in quotas.customised(session)]}


def own_tenant(call: Call) -> dict:
    return {"tenant": {"tenant_id": call.ctx.project_id}}


def own_project(call: Call) -> dict:
    return {"project": {"project_id": call.ctx.project_id}}


def show_quota(call: Call) -> dict:
    project = _project(call)
    _authorize(call.ctx, "get", project)
    with call.runtime.network.db.read() as session:
        return {"quota": _quotas(call).limits(session, project)}


def show_default_quota(call: Call) -> dict:
    project = _project(call)
    _authorize(call.ctx, "get", project)
    return {"quota": dict(_quotas(call).defaults)}


def show_quota_details(call: Call) -> dict:
    project = _project(call)
    _authorize(call.ctx, "get", project)
    with call.runtime.network.db.read() as session:
        return {"quota": _quotas(call).details(session, project)}


def update_quota(call: Call) -> dict:
    project = _project(call)
    _authorize(call.ctx, "update", project)
    quotas = _quotas(call)
    limits, check_limit = _requested(call, quotas.defaults)
    with call.runtime.network.db.write() as session:
        if check_limit:
            below = sorted(name for name, limit in limits.items() if limit != UNLIMITED and name in quotas.counted
                           and quotas.used(session, project, name) > limit)
            if below:
                raise Conflict(f"Change would make usage less than 0 for the following resources: {below}.",
                               kind="InvalidQuotaValue")
        quotas.set_limits(session, project, limits)
        session.flush()
        return {"quota": quotas.limits(session, project)}


def delete_quota(call: Call) -> Reply:
    project = _project(call)
    _authorize(call.ctx, "delete", project)
    with call.runtime.network.db.write() as session:
        _quotas(call).reset(session, project)
    return Reply(status=204)


ROUTES = [
    route("/v2.0/quotas", "GET", list_quotas),
    route("/v2.0/quotas/tenant", "GET", own_tenant),
    route("/v2.0/quotas/project", "GET", own_project),
    route("/v2.0/quotas/{project_id}", "GET", show_quota),
    route("/v2.0/quotas/{project_id}", "PUT", update_quota),
    route("/v2.0/quotas/{project_id}", "DELETE", delete_quota),
    route("/v2.0/quotas/{project_id}/default", "GET", show_default_quota),
    route("/v2.0/quotas/{project_id}/details", "GET", show_quota_details),
    route("/v2.0/quotas/{project_id}/details.json", "GET", show_quota_details),
]
