"""/v3/domains and /v3/projects (one table: a domain is a project with is_domain), and project tags."""

from __future__ import annotations

from operator import attrgetter

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import responses, schemas
from onestack.services.identity.api.common import check, identity, listing, truthy, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service import projects
from onestack.services.identity.service.projects import Projects
from onestack.services.identity.views import Views, nested_ids


# -- domains ---------------------------------------------------------------
def create_domain(call: Call) -> Reply:
    authorize(call.ctx, "identity:create_domain")
    return Reply({"domain": views(call).domain(identity(call).projects.create_domain(call.body["domain"]))}, 201)


def get_domain(call: Call) -> dict:
    did = call.path["domain_id"]
    authorize(call.ctx, "identity:get_domain", {"domain_id": did})
    return {"domain": views(call).domain(identity(call).projects.domain(did))}


def update_domain(call: Call) -> dict:
    did = call.path["domain_id"]
    authorize(call.ctx, "identity:update_domain", {"domain_id": did})
    return {"domain": views(call).domain(identity(call).projects.update_domain(did, call.body["domain"]))}


def delete_domain(call: Call) -> Reply:
    did = call.path["domain_id"]
    authorize(call.ctx, "identity:delete_domain", {"domain_id": did})
    identity(call).projects.delete_domain(did)
    return Reply(status=204)


# -- projects --------------------------------------------------------------
def _caller_domain(call: Call) -> str:
    ctx = call.ctx
    return ctx.domain_id or ctx.project_domain_id or "default"


def create_project(call: Call) -> Reply:
    row = identity(call).projects.create(call.body["project"], lambda: _caller_domain(call),
                                         check(call, "identity:create_project"), check(call, "identity:create_domain"))
    return Reply({"project": views(call).project(row)}, 201)


def list_projects(call: Call) -> dict:
    ctx = call.ctx
    domain_id = call.query.get("domain_id")
    authorize(ctx, "identity:list_projects", {"domain_id": domain_id or ctx.domain_id})
    if not (ctx.is_admin or ctx.is_system) and domain_id is None:
        domain_id = ctx.domain_id
    v = views(call)
    rows = identity(call).projects.list(domain_id, call.query)
    return v.collection("projects", [v.project(p) for p in rows], "projects", str(call.query))


def get_project(call: Call) -> dict:
    q = call.query
    as_list = {"parents": truthy(q.get("parents_as_list")), "subtree": truthy(q.get("subtree_as_list"))}
    as_ids = {"parents": truthy(q.get("parents_as_ids")), "subtree": truthy(q.get("subtree_as_ids"))}
    row, parents, below = identity(call).projects.get(
        call.path["project_id"], check(call, "identity:get_project"),
        parents=as_list["parents"] or as_ids["parents"], below=as_list["subtree"] or as_ids["subtree"])
    v = views(call)
    body = v.project(row)
    if parents is not None:
        if as_list["parents"]:
            body["parents"] = [{"project": v.project(p)} for p in parents]
        else:
            body["parents"] = nested_ids({}, [p.id for p in parents], row.id, upward=True)
    if below is not None:
        if as_list["subtree"]:
            body["subtree"] = [{"project": v.project(p)} for p in below]
        else:
            body["subtree"] = nested_ids({p.id: p.parent_id for p in below}, [p.id for p in below], row.id,
                                         upward=False)
    return {"project": body}


def update_project(call: Call) -> dict:
    row = identity(call).projects.update(call.path["project_id"], call.body["project"],
                                         check(call, "identity:update_project"))
    return {"project": views(call).project(row)}


def delete_project(call: Call) -> Reply:
    identity(call).projects.delete(call.path["project_id"], truthy(call.query.get("cascade")),
                                   check(call, "identity:delete_project"))
    return Reply(status=204)


# -- project tags ------------------------------------------------------------
def list_tags(call: Call) -> dict:
    return {"tags": identity(call).projects.tags(call.path["project_id"], check(call, "identity:project_tags"))}


def _change_tags(call: Call, change) -> list:
    return identity(call).projects.change_tags(call.path["project_id"], change,
                                               check(call, "identity:update_project_tags"))


def replace_tags(call: Call) -> dict:
    return {"tags": _change_tags(call, lambda _old: list(dict.fromkeys(call.body["tags"])))}


def clear_tags(call: Call) -> Reply:
    _change_tags(call, lambda _old: [])
    return Reply(status=204)


def check_tag(call: Call) -> Reply:
    tags = list_tags(call)["tags"]
    if call.path["tag"] not in tags:
        raise NotFound(f"Tag {call.path['tag']} not found.")
    return Reply(status=204)


def add_tag(call: Call) -> Reply:
    tag = call.path["tag"]
    schema_ok = tag and len(tag) <= 255 and "," not in tag and "/" not in tag
    if not schema_ok:
        raise BadRequest(f"Invalid tag: {tag}.")
    _change_tags(call, lambda old: old if tag in old else [*old, tag])
    return Reply(status=201, headers={"Location": call.url(f"/v3/projects/{call.path['project_id']}/tags/{tag}")})


def remove_tag(call: Call) -> Reply:
    tag = call.path["tag"]

    def drop(old: list) -> list:
        if tag not in old:
            raise NotFound(f"Tag {tag} not found.")
        return [t for t in old if t != tag]

    _change_tags(call, drop)
    return Reply(status=204)


ROUTES = [
    route("/v3/domains", "POST", create_domain, schema=schemas.domain_create, status=201, response=responses.DOMAIN),
    route("/v3/domains", "GET",
          listing(attrgetter("projects"), "identity:list_domains", "domains", Views.domain, Projects.domains),
          query=projects.DOMAIN_QUERY, response=responses.DOMAINS),
    route("/v3/domains/{domain_id}", "GET", get_domain, response=responses.DOMAIN),
    route("/v3/domains/{domain_id}", "PATCH", update_domain, schema=schemas.domain_update,
          response=responses.DOMAIN),
    route("/v3/domains/{domain_id}", "DELETE", delete_domain),
    route("/v3/projects", "POST", create_project, schema=schemas.project_create, status=201,
          response=responses.PROJECT),
    route("/v3/projects", "GET", list_projects, query=projects.QUERY, response=responses.PROJECTS),
    route("/v3/projects/{project_id}", "GET", get_project, response=responses.PROJECT),
    route("/v3/projects/{project_id}", "PATCH", update_project, schema=schemas.project_update,
          response=responses.PROJECT),
    route("/v3/projects/{project_id}", "DELETE", delete_project),
    route("/v3/projects/{project_id}/tags", "GET", list_tags),
    route("/v3/projects/{project_id}/tags", "PUT", replace_tags, schema=schemas.project_tags),
    route("/v3/projects/{project_id}/tags", "DELETE", clear_tags),
    route("/v3/projects/{project_id}/tags/{tag}", "GET", check_tag),
    route("/v3/projects/{project_id}/tags/{tag}", "PUT", add_tag),
    route("/v3/projects/{project_id}/tags/{tag}", "DELETE", remove_tag),
]
