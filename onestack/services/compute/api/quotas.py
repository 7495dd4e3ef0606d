"""/v2.1/os-quota-sets and /v2.1/os-quota-class-sets: Nova's legacy (database) quotas."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.models.quota_resources import (
    UNLIMITED,
    quota_class_resources,
    quota_set_resources,
)
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import ComputeService


def compute(call: Call) -> ComputeService:
    return call.runtime.compute


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
    svc = compute(call)
    with svc.db.read() as session:
        limits = svc.quotas.limits(session, project_id, call.query.get("user_id"))
    return {"quota_set": views.limits_set(limits, quota_set_resources(call.version), project_id)}


def show_quota_set_detail(call: Call) -> dict:
    project_id = _project(call, "detail")
    svc = compute(call)
    with svc.db.read() as session:
        details = svc.quotas.details(session, project_id, call.query.get("user_id"))
    return {"quota_set": views.limits_set(details, quota_set_resources(call.version), project_id)}


def show_default_quota_set(call: Call) -> dict:
    project_id = _project(call, "defaults")
    svc = compute(call)
    with svc.db.read() as session:
        defaults = svc.quotas.class_limits(session)
    return {"quota_set": views.limits_set(defaults, quota_set_resources(call.version), project_id)}


def update_quota_set(call: Call) -> dict:
    project_id = _project(call, "update")
    schemas.check(call.body, schemas.quota_set_update(call.version))
    given = dict(call.body["quota_set"])
    force = schemas.as_bool(given.pop("force", False))
    user_id = call.query.get("user_id")
    svc = compute(call)
    with svc.db.write() as session:
        svc.quotas.update(session, project_id, user_id, _limit_values(given), force)
        session.flush()
        limits = svc.quotas.limits(session, project_id, user_id)
    return {"quota_set": views.limits_set(limits, quota_set_resources(call.version))}


def delete_quota_set(call: Call) -> Reply:
    project_id = _project(call, "delete")
    svc = compute(call)
    with svc.db.write() as session:
        svc.quotas.reset(session, project_id, call.query.get("user_id"))
    return Reply(status=202)


def show_quota_class_set(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-quota-class-sets:show")
    class_name = call.path["class_name"]
    svc = compute(call)
    with svc.db.read() as session:
        limits = svc.quotas.class_limits(session, class_name)
    return {"quota_class_set": views.limits_set(limits, quota_class_resources(call.version), class_name)}


def update_quota_class_set(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-quota-class-sets:update")
    schemas.check(call.body, schemas.quota_class_update(call.version))
    class_name = call.path["class_name"]
    svc = compute(call)
    with svc.db.write() as session:
        svc.quotas.update_class(session, class_name, _limit_values(call.body["quota_class_set"]))
        session.flush()
        limits = svc.quotas.class_limits(session, class_name)
    return {"quota_class_set": views.limits_set(limits, quota_class_resources(call.version))}


_SETS = "/v2.1/os-quota-sets/{project_id}"
_CLASSES = "/v2.1/os-quota-class-sets/{class_name}"
ROUTES = [
    route(_SETS, "GET", show_quota_set),
    route(_SETS, "PUT", update_quota_set),
    route(_SETS, "DELETE", delete_quota_set),
    route(_SETS + "/detail", "GET", show_quota_set_detail),
    route(_SETS + "/defaults", "GET", show_default_quota_set),
    route(_CLASSES, "GET", show_quota_class_set),
    route(_CLASSES, "PUT", update_quota_class_set),
]
