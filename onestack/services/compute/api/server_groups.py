"""/os-server-groups: affinity and anti-affinity groups the scheduler honours."""

from __future__ import annotations

from onestack.http.listing import STRING, query_parameters
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import responses, schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def create_group(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-server-groups:create")
    group = compute(call).server_groups.create(call.ctx, call.body["server_group"], at_least(call.version, "2.64"))
    return {"server_group": views.server_group(group, [], call.version)}


def list_groups(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-server-groups:index")
    found = compute(call).server_groups.listing(call.ctx, call.query.get("all_projects") is not None)
    return {"server_groups": [views.server_group(g, members, call.version) for g, members in found]}


def show_group(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-server-groups:index")
    return {"server_group": views.server_group(*compute(call).server_groups.get(call.ctx, call.path["group_id"]),
                                               call.version)}


def delete_group(call: Call) -> Reply:
    authorize(call.ctx, "os_compute_api:os-server-groups:delete")
    compute(call).server_groups.delete(call.ctx, call.path["group_id"])
    return Reply(status=204)


ROUTES = [
    route("/v2.1/os-server-groups", "POST", create_group, schema=schemas.server_group_create,
          response=responses.SERVER_GROUP),
    route("/v2.1/os-server-groups", "GET", list_groups, response=responses.SERVER_GROUPS,
          query=query_parameters(paging=(), all_projects=STRING)),
    route("/v2.1/os-server-groups/{group_id}", "GET", show_group, response=responses.SERVER_GROUP),
    route("/v2.1/os-server-groups/{group_id}", "DELETE", delete_group),
]
