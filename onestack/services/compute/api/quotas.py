"""/v2.1/os-quota-sets and /v2.1/os-quota-class-sets: Nova's legacy (database) quotas."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models.quota_resources import (
    UNLIMITED,
    quota_class_resources,
    quota_set_resources,
)
from onestack.services.compute.policies import authorize


def _project(call: Call, action: str) -> str:
    project_id = call.path["project_id"]
    authorize(call.ctx, f"os_compute_api:os-quota-sets:{action}", project_id=project_id)
    return project_id


def _limit_values(given: dict) -> dict[str, int]:
    """Limits from a body the schema accepted (strings of digits included)."""
    values = {}
    for resource, raw in given.items():
        value = int(raw)
        if value < UNLIMITED:
            raise BadRequest(f"Quota limit {value} for {resource} must be -1 or greater.")
        values[resource] = value
    return values


def show_quota_set(call: Call) -> dict:
    project_id = _project(call, "show")
    limits = compute(call).quota_sets.limits(project_id, call.query.get("user_id"))
    return {"quota_set": views.limits_set(limits, quota_set_resources(call.version), project_id)}


def show_quota_set_detail(call: Call) -> dict:
    project_id = _project(call, "detail")
    details = compute(call).quota_sets.details(project_id, call.query.get("user_id"))
    return {"quota_set": views.limits_set(details, quota_set_resources(call.version), project_id)}


def show_default_quota_set(call: Call) -> dict:
    project_id = _project(call, "defaults")
    defaults = compute(call).quota_sets.class_limits()
    return {"quota_set": views.limits_set(defaults, quota_set_resources(call.version), project_id)}


def update_quota_set(call: Call) -> dict:
    project_id = _project(call, "update")
    given = dict(call.body["quota_set"])
    force = schemas.as_bool(given.pop("force", False))
    limits = compute(call).quota_sets.update(project_id, call.query.get("user_id"), _limit_values(given), force)
    return {"quota_set": views.limits_set(limits, quota_set_resources(call.version))}


def delete_quota_set(call: Call) -> Reply:
    project_id = _project(call, "delete")
    compute(call).quota_sets.reset(project_id, call.query.get("user_id"))
    return Reply(status=202)


def show_quota_class_set(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-quota-class-sets:show")
    class_name = call.path["class_name"]
    limits = compute(call).quota_sets.class_limits(class_name)
    return {"quota_class_set": views.limits_set(limits, quota_class_resources(call.version), class_name)}


def update_quota_class_set(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-quota-class-sets:update")
    limits = compute(call).quota_sets.update_class(call.path["class_name"],
                                                   _limit_values(call.body["quota_class_set"]))
    return {"quota_class_set": views.limits_set(limits, quota_class_resources(call.version))}


_SETS = "/v2.1/os-quota-sets/{project_id}"
_CLASSES = "/v2.1/os-quota-class-sets/{class_name}"
ROUTES = [
    route(_SETS, "GET", show_quota_set),
    route(_SETS, "PUT", update_quota_set, schema=schemas.QUOTA_SET_UPDATE),
    route(_SETS, "DELETE", delete_quota_set),
    route(_SETS + "/detail", "GET", show_quota_set_detail),
    route(_SETS + "/defaults", "GET", show_default_quota_set),
    route(_CLASSES, "GET", show_quota_class_set),
    route(_CLASSES, "PUT", update_quota_class_set, schema=schemas.QUOTA_CLASS_UPDATE),
]
