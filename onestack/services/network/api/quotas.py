"""``/v2.0/quotas``: Neutron's quota management (quotas, quota_details extensions).

Limits live in ``Quota`` rows only where a project has its own; everything else is the default
from the settings.  Enforcement happens where resources are created (``Quotas.check``).
"""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.numbers import decimal
from onestack.http.routing import Call, Reply, route
from onestack.services.network import views
from onestack.services.network.policies import authorize
from onestack.services.network.service.quotas import UNLIMITED

# Neutron stores limits as a signed 32-bit column.
MAX_LIMIT = 2**31 - 1


def _quotas(call: Call):
    return call.runtime.network.quotas


def _project(call: Call) -> str:
    """The project in the path (Neutron also answers the ``.json`` form its older clients use)."""
    project = call.path["project_id"]
    return project[:-5] if project.endswith(".json") else project


def _limit(resource: str, value) -> int:
    limit = value if isinstance(value, int) and not isinstance(value, bool) else \
        decimal(value.strip(), signed=True) if isinstance(value, str) else None
    if limit is None:
        raise BadRequest(f"Invalid input for {resource}. Reason: '{value}' is not an integer.", kind="HTTPBadRequest")
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
    authorize(call.ctx, "update", "quota", {"project_id": None})  # Neutron: only admins see other projects' quotas
    return {"quotas": [views.project_quota(project, limits) for project, limits in _quotas(call).customised().items()]}


def own_tenant(call: Call) -> dict:
    return {"tenant": {"tenant_id": call.ctx.project_id}}


def own_project(call: Call) -> dict:
    return {"project": {"project_id": call.ctx.project_id}}


def _allowed(call: Call, verb: str) -> str:
    """The project in the path, once the caller may ``verb`` its quota."""
    project = _project(call)
    authorize(call.ctx, verb, "quota", {"project_id": project})
    return project


def show_quota(call: Call) -> dict:
    return {"quota": _quotas(call).limits(_allowed(call, "get"))}


def show_default_quota(call: Call) -> dict:
    _allowed(call, "get")
    return {"quota": dict(_quotas(call).defaults)}


def show_quota_details(call: Call) -> dict:
    return {"quota": _quotas(call).details(_allowed(call, "get"))}


def update_quota(call: Call) -> dict:
    project = _allowed(call, "update")
    quotas = _quotas(call)
    limits, check_limit = _requested(call, quotas.defaults)
    return {"quota": quotas.set_limits(project, limits, check_limit)}


def delete_quota(call: Call) -> Reply:
    _quotas(call).reset(_allowed(call, "delete"))
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
