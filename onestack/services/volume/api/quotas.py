"""/v3/{project_id}/os-quota-sets, /os-quota-class-sets and /limits."""

from __future__ import annotations

from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import flag, v3
from onestack.services.volume.service import VolumeService


def service(call: Call) -> VolumeService:
    return call.runtime.volume


def show(call: Call) -> dict:
    target = call.path["target_project"]
    values = service(call).quota_limits(call.ctx, target, usage=flag(call.query.get("usage", False)))
    return {"quota_set": views.quota_set(target, values)}


def defaults(call: Call) -> dict:
    target = call.path["target_project"]
    return {"quota_set": views.quota_set(target, service(call).quota_defaults(call.ctx, target))}


def update(call: Call) -> dict:
    return {"quota_set": service(call).update_quotas(call.ctx, call.path["target_project"],
                                                     call.body["quota_set"])}


def delete(call: Call) -> Reply:
    service(call).reset_quotas(call.ctx, call.path["target_project"])
    return Reply(status=200)


def show_class(call: Call) -> dict:
    name = call.path["class_name"]
    return {"quota_class_set": {"id": name, **service(call).quota_class(call.ctx, name)}}


def update_class(call: Call) -> dict:
    return {"quota_class_set": service(call).quota_class(call.ctx, call.path["class_name"],
                                                         call.body["quota_class_set"])}


def limits(call: Call) -> dict:
    # From 3.39 an admin may ask for another project's limits.
    asked = call.query.get("project_id") if call.version.at_least("3.39") else None
    return {"limits": views.absolute_limits(*service(call).absolute_limits(call.ctx, asked))}


ROUTES = [
    *v3("/os-quota-sets/{target_project}", "GET", show),
    *v3("/os-quota-sets/{target_project}/defaults", "GET", defaults),
    *v3("/os-quota-sets/{target_project}", "PUT", update, schema=schemas.QUOTA_SET),
    *v3("/os-quota-sets/{target_project}", "DELETE", delete),
    *v3("/os-quota-class-sets/{class_name}", "GET", show_class),
    *v3("/os-quota-class-sets/{class_name}", "PUT", update_class, schema=schemas.QUOTA_CLASS_SET),
    *v3("/limits", "GET", limits),
]
