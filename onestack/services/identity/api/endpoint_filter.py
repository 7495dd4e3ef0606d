"""/v3/OS-EP-FILTER: endpoint groups and the endpoints and groups given to projects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from onestack.http.routing import Call, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, no_content, path_ids, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.endpoint_filter import EndpointFilter
from onestack.services.identity.views import EP_FILTER as BASE
from onestack.services.identity.views import Views

READ, MANAGE = "identity:get_endpoint_group", "identity:manage_endpoint_groups"
FAMILY = attrgetter("endpoint_filter")
GROUPS = resource(f"{BASE}/endpoint_groups", "endpoint_group", "group_id", FAMILY, Views.endpoint_group)
_linking = functools.partial(no_content, FAMILY)


def list_groups(call: Call) -> dict:
    authorize(call.ctx, READ)
    v = views(call)
    rows = identity(call).endpoint_filter.list_groups(call.query.get("name"))
    return v.listing("endpoint_groups", [v.endpoint_group(g) for g in rows], call.url(f"{BASE}/endpoint_groups"))


def _related(key: str, view: Callable[[Views, Any], dict], method: Callable[..., list],
             *ids: str) -> Callable[[Call], dict]:
    """GET what is tied to the rows the path names: ``method(endpoint_filter, *ids)``, each rendered by ``view``."""
    def related(call: Call) -> dict:
        authorize(call.ctx, READ)
        v = views(call)
        rows = method(identity(call).endpoint_filter, *path_ids(call, ids))
        return v.listing(key, [view(v, row) for row in rows], call.url(call.request.url.path))
    related.__name__ = method.__name__
    return related


def show_group_project(call: Call) -> dict:
    authorize(call.ctx, READ)
    project = identity(call).endpoint_filter.group_project(call.path["group_id"], call.path["project_id"])
    return {"project": views(call).project(project)}


GROUP = f"{BASE}/endpoint_groups/{{group_id}}"
PROJECT = f"{BASE}/projects/{{project_id}}"
ROUTES = [
    GROUPS.create(MANAGE, EndpointFilter.create_group, schemas.endpoint_group_create),
    route(f"{BASE}/endpoint_groups", "GET", list_groups),
    GROUPS.show(READ, EndpointFilter.get_group),
    GROUPS.update(MANAGE, EndpointFilter.update_group, schemas.endpoint_group_update),
    GROUPS.delete(MANAGE, EndpointFilter.delete_group),
    route(f"{GROUP}/endpoints", "GET", _related("endpoints", Views.endpoint, EndpointFilter.group_endpoints,
                                                "group_id")),
    route(f"{GROUP}/projects", "GET", _related("projects", Views.project, EndpointFilter.group_projects,
                                               "group_id")),
    route(f"{GROUP}/projects/{{project_id}}", "PUT",
          _linking(MANAGE, EndpointFilter.add_group_to_project, "group_id", "project_id")),
    route(f"{GROUP}/projects/{{project_id}}", "GET", show_group_project),
    route(f"{GROUP}/projects/{{project_id}}", "DELETE",
          _linking(MANAGE, EndpointFilter.remove_group_from_project, "group_id", "project_id")),
    route(f"{PROJECT}/endpoint_groups", "GET",
          _related("endpoint_groups", Views.endpoint_group, EndpointFilter.project_groups, "project_id")),
    route(f"{PROJECT}/endpoints", "GET",
          _related("endpoints", Views.endpoint, EndpointFilter.project_endpoints, "project_id")),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "PUT",
          _linking(MANAGE, EndpointFilter.add_endpoint_to_project, "project_id", "endpoint_id")),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "HEAD",
          _linking(READ, EndpointFilter.check_endpoint_in_project, "project_id", "endpoint_id")),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "DELETE",
          _linking(MANAGE, EndpointFilter.remove_endpoint_from_project, "project_id", "endpoint_id")),
    route(f"{BASE}/endpoints/{{endpoint_id}}/projects", "GET",
          _related("projects", Views.project, EndpointFilter.endpoint_projects, "endpoint_id")),
]
