"""/v3/roles, implied roles, and grants (incl. OS-INHERIT and system)."""

from __future__ import annotations

from operator import attrgetter

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import responses, schemas
from onestack.services.identity.api.common import check, identity, listing, no_content, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service import roles
from onestack.services.identity.service.grants import Grant
from onestack.services.identity.service.roles import Roles
from onestack.services.identity.views import Views

FAMILY = attrgetter("roles")
ROLES = resource("/v3/roles", "role", "role_id", FAMILY, Views.role, responses.ROLE_ENTITY)


# -- implied roles -----------------------------------------------------------
def create_implied(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_implied_roles")
    prior, implied = identity(call).roles.imply(call.path["prior_role_id"], call.path["implied_role_id"])
    return Reply(views(call).implication(prior, implied), 201)


def get_implied(call: Call) -> dict:
    authorize(call.ctx, "identity:implied_roles")
    return views(call).implication(*identity(call).roles.implication(call.path["prior_role_id"],
                                                                     call.path["implied_role_id"]))


def list_implied(call: Call) -> dict:
    authorize(call.ctx, "identity:implied_roles")
    return views(call).inference(*identity(call).roles.implied(call.path["prior_role_id"]))


def role_inferences(call: Call) -> dict:
    authorize(call.ctx, "identity:implied_roles")
    return views(call).inferences(identity(call).roles.inferences())


# -- grants ------------------------------------------------------------------
def _action(kind: str, manage: bool) -> str:
    if kind == "system":
        return "identity:manage_system_grants" if manage else "identity:list_system_grants"
    return "identity:manage_grants" if manage else "identity:list_grants"


def grant_handlers(kind: str, actors: str, inherited: bool):
    def grant(call: Call) -> Grant:
        target = {} if kind == "system" else {"target_id": call.path["target_id"]}
        return Grant(kind, actors, inherited, call.path["actor_id"], role_id=call.path.get("role_id"), **target)

    def put(call: Call) -> Reply:
        identity(call).grants.give(grant(call), check(call, _action(kind, True)))
        return Reply(status=204)

    def head(call: Call) -> Reply:
        identity(call).grants.exists(grant(call), check(call, _action(kind, False)))
        return Reply(status=204)

    def revoke(call: Call) -> Reply:
        identity(call).grants.take(grant(call), check(call, _action(kind, True)))
        return Reply(status=204)

    def list_(call: Call) -> dict:
        v = views(call)
        roles = identity(call).grants.roles(grant(call), check(call, _action(kind, False)))
        return v.collection("roles", [v.role(r) for r in roles], call.request.url.path.split("/v3/", 1)[1])

    return put, head, revoke, list_


def _grant_routes() -> list:
    routes = []
    specs = [("projects", "/v3/projects/{target_id}", False), ("domains", "/v3/domains/{target_id}", False),
             ("system", "/v3/system", False),
             ("domains", "/v3/OS-INHERIT/domains/{target_id}", True),
             ("projects", "/v3/OS-INHERIT/projects/{target_id}", True)]
    for kind, base, inherited in specs:
        for actors in ("users", "groups"):
            put, head, revoke, list_ = grant_handlers(kind, actors, inherited)
            suffix = "/inherited_to_projects" if inherited else ""
            one = f"{base}/{actors}/{{actor_id}}/roles/{{role_id}}{suffix}"
            many = f"{base}/{actors}/{{actor_id}}/roles{suffix}"
            routes += [route(one, "PUT", put), route(one, "GET", head),
                       route(one, "DELETE", revoke), route(many, "GET", list_)]
    return routes


ROUTES = [
    ROLES.create("identity:create_role", Roles.create, schemas.role_create),
    route("/v3/roles", "GET", listing(FAMILY, "identity:list_roles", "roles", Views.role, Roles.list),
          query=roles.QUERY, response=responses.ROLES),
    ROLES.show("identity:get_role", Roles.get),
    ROLES.update("identity:update_role", Roles.update, schemas.role_update),
    ROLES.delete("identity:delete_role", Roles.delete),
    route("/v3/roles/{prior_role_id}/implies", "GET", list_implied),
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "PUT", create_implied),
    # HEAD first: Starlette lets a GET route answer HEAD too.
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "HEAD",
          no_content(FAMILY, "identity:implied_roles", Roles.implication, "prior_role_id", "implied_role_id")),
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "GET", get_implied),
    route("/v3/roles/{prior_role_id}/implies/{implied_role_id}", "DELETE",
          no_content(FAMILY, "identity:manage_implied_roles", Roles.unimply, "prior_role_id", "implied_role_id")),
    route("/v3/role_inferences", "GET", role_inferences),
    *_grant_routes(),
]
