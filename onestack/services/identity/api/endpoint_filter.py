"""/v3/OS-EP-FILTER: endpoint groups and the endpoints and groups given to projects."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.endpoint_filter import EndpointFilter
from onestack.services.identity.views import EP_FILTER as BASE
from onestack.services.identity.views import Views

GROUPS = resource(f"{BASE}/endpoint_groups", "endpoint_group", "group_id", lambda i: i.endpoint_filter,
                  Views.endpoint_group)


def _here(call: Call) -> str:
    return call.url(call.request.url.path)


def list_groups(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    v = views(call)
    rows = identity(call).endpoint_filter.list_groups(call.query.get("name"))
    return v.listing("endpoint_groups", [v.endpoint_group(g) for g in rows], call.url(f"{BASE}/endpoint_groups"))


def group_endpoints(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    v = views(call)
    rows = identity(call).endpoint_filter.group_endpoints(call.path["group_id"])
    return v.listing("endpoints", [v.endpoint(e) for e in rows], _here(call))


def group_projects(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    v = views(call)
    rows = identity(call).endpoint_filter.group_projects(call.path["group_id"])
    return v.listing("projects", [v.project(p) for p in rows], _here(call))


def add_group_to_project(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_endpoint_groups")
    identity(call).endpoint_filter.add_group_to_project(call.path["group_id"], call.path["project_id"])
    return Reply(status=204)


def show_group_project(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    project = identity(call).endpoint_filter.group_project(call.path["group_id"], call.path["project_id"])
    return {"project": views(call).project(project)}


def remove_group_from_project(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_endpoint_groups")
    identity(call).endpoint_filter.remove_group_from_project(call.path["group_id"], call.path["project_id"])
    return Reply(status=204)


def project_groups(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    v = views(call)
    rows = identity(call).endpoint_filter.project_groups(call.path["project_id"])
    return v.listing("endpoint_groups", [v.endpoint_group(g) for g in rows], _here(call))


def add_endpoint_to_project(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_endpoint_groups")
    identity(call).endpoint_filter.add_endpoint_to_project(call.path["project_id"], call.path["endpoint_id"])
    return Reply(status=204)


def check_endpoint_in_project(call: Call) -> Reply:
    authorize(call.ctx, "identity:get_endpoint_group")
    identity(call).endpoint_filter.check_endpoint_in_project(call.path["project_id"], call.path["endpoint_id"])
    return Reply(status=204)


def remove_endpoint_from_project(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_endpoint_groups")
    identity(call).endpoint_filter.remove_endpoint_from_project(call.path["project_id"], call.path["endpoint_id"])
    return Reply(status=204)


def project_endpoints(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    v = views(call)
    rows = identity(call).endpoint_filter.project_endpoints(call.path["project_id"])
    return v.listing("endpoints", [v.endpoint(e) for e in rows], _here(call))


def endpoint_projects(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint_group")
    v = views(call)
    rows = identity(call).endpoint_filter.endpoint_projects(call.path["endpoint_id"])
    return v.listing("projects", [v.project(p) for p in rows], _here(call))


GROUP = f"{BASE}/endpoint_groups/{{group_id}}"
PROJECT = f"{BASE}/projects/{{project_id}}"
ROUTES = [
    GROUPS.create("identity:manage_endpoint_groups", EndpointFilter.create_group,
                  schemas.endpoint_group_create),
    route(f"{BASE}/endpoint_groups", "GET", list_groups),
    GROUPS.show("identity:get_endpoint_group", EndpointFilter.get_group),
    GROUPS.update("identity:manage_endpoint_groups", EndpointFilter.update_group,
                  schemas.endpoint_group_update),
    GROUPS.delete("identity:manage_endpoint_groups", EndpointFilter.delete_group),
    route(f"{GROUP}/endpoints", "GET", group_endpoints),
    route(f"{GROUP}/projects", "GET", group_projects),
    route(f"{GROUP}/projects/{{project_id}}", "PUT", add_group_to_project),
    route(f"{GROUP}/projects/{{project_id}}", "GET", show_group_project),
    route(f"{GROUP}/projects/{{project_id}}", "DELETE", remove_group_from_project),
    route(f"{PROJECT}/endpoint_groups", "GET", project_groups),
    route(f"{PROJECT}/endpoints", "GET", project_endpoints),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "PUT", add_endpoint_to_project),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "HEAD", check_endpoint_in_project),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "DELETE", remove_endpoint_from_project),
    route(f"{BASE}/endpoints/{{endpoint_id}}/projects", "GET", endpoint_projects),
]
