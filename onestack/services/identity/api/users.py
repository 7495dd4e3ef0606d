"""/v3/users and /v3/groups, membership, and a user's own password."""

from __future__ import annotations

from operator import attrgetter

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import responses, schemas
from onestack.services.identity.api.common import check, checked_no_content, identity, truthy, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service import groups, users
from onestack.services.identity.service.groups import Groups
from onestack.services.identity.service.users import Users


def _domain_for(call: Call, body: dict) -> str:
    ctx = call.ctx
    return body.get("domain_id") or ctx.domain_id or ctx.project_domain_id or "default"


def _listed_domain(call: Call, action: str) -> str | None:
    """The domain a listing covers: the one asked for, else for all but admins the caller's own."""
    ctx = call.ctx
    domain_id = call.query.get("domain_id")
    authorize(ctx, action, {"domain_id": domain_id or ctx.domain_id})
    if not (ctx.is_admin or ctx.is_system) and domain_id is None:
        domain_id = ctx.domain_id
    return domain_id


# -- users -------------------------------------------------------------------
def change_password(call: Call) -> Reply:
    body = call.body["user"]
    identity(call).users.change_password(call.path["user_id"], body["original_password"], body["password"])
    return Reply(status=204)


def create_user(call: Call) -> Reply:
    body = call.body["user"]
    domain_id = _domain_for(call, body)
    authorize(call.ctx, "identity:create_user", {"domain_id": domain_id})
    return Reply({"user": views(call).user(*identity(call).users.create(domain_id, body))}, 201)


def list_users(call: Call) -> dict:
    domain_id = _listed_domain(call, "identity:list_users")
    v = views(call)
    found = identity(call).users.list(domain_id, call.query)
    return v.collection("users", [v.user(*d) for d in found], "users", str(call.query))


def get_user(call: Call) -> dict:
    return {"user": views(call).user(*identity(call).users.get(call.path["user_id"], check(call, "identity:get_user")))}


def update_user(call: Call) -> dict:
    described = identity(call).users.update(call.path["user_id"], call.body["user"],
                                            check(call, "identity:update_user"))
    return {"user": views(call).user(*described)}


def user_groups(call: Call) -> dict:
    v = views(call)
    user, groups = identity(call).users.groups(call.path["user_id"], check(call, "identity:list_groups_for_user"))
    return v.collection("groups", [v.group(g) for g in groups], f"users/{user.id}/groups")


def user_projects(call: Call) -> dict:
    q = call.query
    wanted = {key: q[key] for key in ("name", "domain_id") if key in q}
    if "enabled" in q:
        wanted["enabled"] = truthy(q["enabled"])
    v = views(call)
    user, projects = identity(call).users.projects(call.path["user_id"], wanted,
                                                   check(call, "identity:list_user_projects"))
    return v.collection("projects", [v.project(p) for p in projects], f"users/{user.id}/projects")


# -- groups ------------------------------------------------------------------
def create_group(call: Call) -> Reply:
    body = call.body["group"]
    domain_id = _domain_for(call, body)
    authorize(call.ctx, "identity:create_group", {"domain_id": domain_id})
    return Reply({"group": views(call).group(identity(call).groups.create(domain_id, body))}, 201)


def list_groups(call: Call) -> dict:
    domain_id = _listed_domain(call, "identity:list_groups")
    v = views(call)
    rows = identity(call).groups.list(domain_id, call.query)
    return v.collection("groups", [v.group(g) for g in rows], "groups", str(call.query))


def get_group(call: Call) -> dict:
    return {"group": views(call).group(identity(call).groups.get(call.path["group_id"],
                                                                 check(call, "identity:get_group")))}


def update_group(call: Call) -> dict:
    row = identity(call).groups.update(call.path["group_id"], call.body["group"], check(call, "identity:update_group"))
    return {"group": views(call).group(row)}


def group_users(call: Call) -> dict:
    v = views(call)
    group, users = identity(call).groups.users(call.path["group_id"], check(call, "identity:list_users_in_group"))
    return v.collection("users", [v.user(*d) for d in users], f"groups/{group.id}/users")


USERS, GROUPS = attrgetter("users"), attrgetter("groups")
MEMBER, MEMBER_IDS = "/v3/groups/{group_id}/users/{user_id}", ("group_id", "user_id")
ROUTES = [
    route("/v3/users", "POST", create_user, schema=schemas.user_create, status=201, response=responses.USER),
    route("/v3/users", "GET", list_users, query=users.QUERY, response=responses.USERS),
    route("/v3/users/{user_id}", "GET", get_user, response=responses.USER),
    route("/v3/users/{user_id}", "PATCH", update_user, schema=schemas.user_update, response=responses.USER),
    route("/v3/users/{user_id}", "DELETE", checked_no_content(USERS, "identity:delete_user", Users.delete, "user_id")),
    # the original password is the credential (a user whose password expired has no token)
    route("/v3/users/{user_id}/password", "POST", change_password, schema=schemas.password_change, public=True),
    route("/v3/users/{user_id}/groups", "GET", user_groups),
    route("/v3/users/{user_id}/projects", "GET", user_projects),
    route("/v3/groups", "POST", create_group, schema=schemas.group_create, status=201, response=responses.GROUP),
    route("/v3/groups", "GET", list_groups, query=groups.QUERY, response=responses.GROUPS),
    route("/v3/groups/{group_id}", "GET", get_group, response=responses.GROUP),
    route("/v3/groups/{group_id}", "PATCH", update_group, schema=schemas.group_update,
          response=responses.GROUP),
    route("/v3/groups/{group_id}", "DELETE",
          checked_no_content(GROUPS, "identity:delete_group", Groups.delete, "group_id")),
    route("/v3/groups/{group_id}/users", "GET", group_users),
    route(MEMBER, "PUT", checked_no_content(GROUPS, "identity:add_user_to_group", Groups.add_member, *MEMBER_IDS)),
    route(MEMBER, "HEAD",
          checked_no_content(GROUPS, "identity:check_user_in_group", Groups.check_member, *MEMBER_IDS)),
    route(MEMBER, "DELETE",
          checked_no_content(GROUPS, "identity:remove_user_from_group", Groups.remove_member, *MEMBER_IDS)),
]
