"""Admin panels, for users with the admin role in the current project (others get 403): projects,
users, groups and their members, roles and role assignments, domains, hypervisors and every project's instances
and volumes.  The APIs enforce their own policies as well."""

from __future__ import annotations

import asyncio
import re

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.instances import servers_page
from onestack.dashboard.pages.volumes import volumes_page
from onestack.dashboard.web import Page, panel


@panel(admin=True)
async def projects(page: Page) -> Response:
    found, domains = await asyncio.gather(page.cloud.get("identity", "/projects"), page.cloud.get("identity", "/domains"))
    names = {d["id"]: d["name"] for d in domains["domains"]}
    rows = sorted(({**p, "domain": names.get(p["domain_id"], p["domain_id"])} for p in found["projects"]),
                  key=lambda p: (p["domain"], p["name"]))
    return page.render("admin_projects.html", title="Projects", rows=rows, domains=domains["domains"])


@panel(admin=True, back="/admin/projects")
async def create_project(page: Page) -> Response:
    body = {"name": page.form.get("name"), "description": page.form.get("description"),
            "domain_id": page.form.get("domain") or "default", "enabled": True}
    project = (await page.cloud.post("identity", "/projects", {"project": body}))["project"]
    return page.done(f"Project {project['name']} created.", "/admin/projects")


@panel(admin=True, back="/admin/projects")
async def delete_project(page: Page) -> Response:
    if page.request.path_params["id"] == page.project_id:
        raise ApiError(409, "This is the project you are working in; switch to another one first.")
    await page.cloud.delete("identity", f"/projects/{page.request.path_params['id']}")
    return page.done("Project deleted.", "/admin/projects")


@panel(admin=True)
async def users(page: Page) -> Response:
    found, all_projects, roles = await asyncio.gather(
        page.cloud.get("identity", "/users"), page.cloud.get("identity", "/projects"), page.cloud.get("identity", "/roles"))
    names = {p["id"]: p["name"] for p in all_projects["projects"]}
    rows = sorted(({**u, "project": names.get(u.get("default_project_id") or "", "")} for u in found["users"]),
                  key=lambda u: u["name"])
    return page.render("admin_users.html", title="Users", rows=rows, projects=all_projects["projects"],
                       roles=sorted(r["name"] for r in roles["roles"]))


@panel(admin=True, back="/admin/users")
async def create_user(page: Page) -> Response:
    form = page.form
    body = {"name": form.get("name"), "password": form.get("password"), "enabled": True}
    if form.get("email"):
        body["email"] = form.get("email")
    if form.get("project"):
        body["default_project_id"] = form.get("project")
    user = (await page.cloud.post("identity", "/users", {"user": body}))["user"]
    if form.get("project") and form.get("role"):
        role = (await page.cloud.get("identity", "/roles", name=form.get("role")))["roles"]
        if not role:
            raise ApiError(400, f"There is no role {form.get('role')}; the user was created without one.")
        await page.cloud.put("identity", f"/projects/{form.get('project')}/users/{user['id']}/roles/{role[0]['id']}")
    return page.done(f"User {user['name']} created.", "/admin/users")


@panel(admin=True, back="/admin/users")
async def delete_user(page: Page) -> Response:
    if page.request.path_params["id"] == page.session.user["id"]:
        raise ApiError(409, "You cannot delete yourself.")
    await page.cloud.delete("identity", f"/users/{page.request.path_params['id']}")
    return page.done("User deleted.", "/admin/users")


async def project_names(page: Page) -> dict[str, str]:
    """Every project's name by id, for the tables that show other projects' objects."""
    return {p["id"]: p["name"] for p in (await page.cloud.get("identity", "/projects"))["projects"]}


@panel(admin=True)
async def groups(page: Page) -> Response:
    found, domains = await asyncio.gather(page.cloud.get("identity", "/groups"), page.cloud.get("identity", "/domains"))
    names = {d["id"]: d["name"] for d in domains["domains"]}
    rows = sorted(({**g, "domain": names.get(g.get("domain_id"), g.get("domain_id"))} for g in found["groups"]),
                  key=lambda g: g["name"])
    return page.render("admin_groups.html", title="Groups", rows=rows, domains=domains["domains"])


@panel(admin=True, back="/admin/groups")
async def create_group(page: Page) -> Response:
    body = {"name": page.form.get("name"), "description": page.form.get("description"),
            "domain_id": page.form.get("domain") or "default"}
    group = (await page.cloud.post("identity", "/groups", {"group": body}))["group"]
    return page.done(f"Group {group['name']} created.", f"/admin/groups/{group['id']}")


@panel(admin=True, back="/admin/groups")
async def delete_group(page: Page) -> Response:
    await page.cloud.delete("identity", f"/groups/{page.request.path_params['id']}")
    return page.done("Group deleted.", "/admin/groups")


@panel(admin=True)
async def group_detail(page: Page) -> Response:
    group_id = page.request.path_params["id"]
    group, members, users_ = await asyncio.gather(
        page.cloud.get("identity", f"/groups/{group_id}"), page.cloud.get("identity", f"/groups/{group_id}/users"),
        page.cloud.get("identity", "/users"))
    inside = {u["id"] for u in members["users"]}
    return page.render("admin_group.html", title="Group", group=group["group"],
                       members=sorted(members["users"], key=lambda u: u["name"]),
                       others=sorted((u for u in users_["users"] if u["id"] not in inside), key=lambda u: u["name"]))


@panel(admin=True, back="/admin/groups")
async def group_member(page: Page) -> Response:
    group_id, verb = page.request.path_params["id"], page.request.path_params["verb"]
    user_id = page.form.get("user")
    if verb not in ("add", "remove") or not user_id:
        raise ApiError(400, "Choose a user to add or remove.")
    path = f"/groups/{group_id}/users/{user_id}"
    await (page.cloud.put("identity", path) if verb == "add" else page.cloud.delete("identity", path))
    return page.done("Member added." if verb == "add" else "Member removed.", f"/admin/groups/{group_id}")


@panel(admin=True)
async def roles(page: Page) -> Response:
    found = (await page.cloud.get("identity", "/roles"))["roles"]
    return page.render("admin_roles.html", title="Roles", rows=sorted(found, key=lambda r: r["name"]))


@panel(admin=True, back="/admin/roles")
async def create_role(page: Page) -> Response:
    body = {"name": page.form.get("name")}
    if page.form.get("description"):
        body["description"] = page.form.get("description")
    role = (await page.cloud.post("identity", "/roles", {"role": body}))["role"]
    return page.done(f"Role {role['name']} created.", "/admin/roles")


@panel(admin=True, back="/admin/roles")
async def delete_role(page: Page) -> Response:
    await page.cloud.delete("identity", f"/roles/{page.request.path_params['id']}")
    return page.done("Role deleted.", "/admin/roles")


def _assignment_row(a: dict) -> dict:
    actor_kind = "user" if "user" in a else "group"
    actor = a.get(actor_kind) or {}
    scope = a.get("scope") or {}
    scope_kind = next((k for k in ("project", "domain", "system") if k in scope), "")
    target = scope.get(scope_kind) or {}
    return {"actor_kind": actor_kind, "actor_id": actor.get("id", ""), "actor": actor.get("name") or actor.get("id", ""),
            "role_id": a["role"]["id"], "role": a["role"].get("name") or a["role"]["id"],
            "scope_kind": scope_kind, "scope_id": target.get("id", "") if isinstance(target, dict) else "",
            "scope": (target.get("name") or target.get("id", "")) if isinstance(target, dict) and scope_kind != "system"
            else "system", "inherited": bool(scope.get("OS-INHERIT:inherited_to"))}


@panel(admin=True)
async def assignments(page: Page) -> Response:
    project = page.request.query_params.get("project") or None
    found, projects_, users_, groups_, roles_, domains = await asyncio.gather(
        page.cloud.get("identity", "/role_assignments", include_names="true", **{"scope.project.id": project}),
        page.cloud.get("identity", "/projects"), page.cloud.get("identity", "/users"),
        page.cloud.get("identity", "/groups"), page.cloud.get("identity", "/roles"), page.cloud.get("identity", "/domains"))
    rows = sorted((_assignment_row(a) for a in found["role_assignments"]),
                  key=lambda r: (r["scope_kind"], r["scope"], r["actor"], r["role"]))
    by_name = lambda items: sorted(items, key=lambda i: i["name"])  # noqa: E731
    return page.render("admin_assignments.html", title="Role assignments", rows=rows, project=project or "",
                       projects=by_name(projects_["projects"]), users=by_name(users_["users"]),
                       groups=by_name(groups_["groups"]), roles=by_name(roles_["roles"]),
                       domains=by_name(domains["domains"]))


def _grant_path(form) -> str:
    """The Keystone grant a form names: a user or group, a role, and a project, a domain or the system
    (the grant form names its domain in ``domain_id``, a row's revoke form in ``scope_id``)."""
    actor_kind, scope_kind = form.get("actor_kind"), form.get("scope_kind") or "project"
    actor_id = form.get("user") if actor_kind == "user" else form.get("group")
    scope_id = (form.get("domain_id") or form.get("scope_id")) if scope_kind == "domain" else form.get("scope_id")
    if actor_kind not in ("user", "group") or scope_kind not in ("project", "domain", "system") or not actor_id:
        raise ApiError(400, "Choose a user or a group, a role and where it applies.")
    if not form.get("role") or (scope_kind != "system" and not scope_id):
        raise ApiError(400, "Choose a user or a group, a role and where it applies.")
    ids = [actor_id, form.get("role")] + ([scope_id] if scope_kind != "system" else [])
    if not all(re.fullmatch(r"[A-Za-z0-9_.-]+", i) for i in ids):
        raise ApiError(400, "That is not the id of a user, group, role, project or domain.")
    where = "/system" if scope_kind == "system" else f"/{scope_kind}s/{scope_id}"
    return f"{where}/{actor_kind}s/{actor_id}/roles/{form.get('role')}"


@panel(admin=True, back="/admin/assignments")
async def grant(page: Page) -> Response:
    await page.cloud.put("identity", _grant_path(page.form))
    return page.done("Role granted.", "/admin/assignments")


@panel(admin=True, back="/admin/assignments")
async def revoke(page: Page) -> Response:
    await page.cloud.delete("identity", _grant_path(page.form))
    return page.done("Role revoked.", "/admin/assignments")


@panel(admin=True)
async def domains(page: Page) -> Response:
    found = (await page.cloud.get("identity", "/domains"))["domains"]
    return page.render("admin_domains.html", title="Domains", rows=sorted(found, key=lambda d: d["name"]))


@panel(admin=True, back="/admin/domains")
async def domain_action(page: Page) -> Response:
    """Create a domain; enable or disable one; delete one (Keystone deletes only a disabled domain)."""
    domain_id, verb = page.request.path_params.get("id"), page.request.path_params.get("verb", "create")
    if verb == "create":
        body = {"name": page.form.get("name"), "description": page.form.get("description"), "enabled": True}
        made = (await page.cloud.post("identity", "/domains", {"domain": body}))["domain"]
        return page.done(f"Domain {made['name']} created.", "/admin/domains")
    if verb in ("enable", "disable"):
        await page.cloud.call("PATCH", "identity", f"/domains/{domain_id}", json={"domain": {"enabled": verb == "enable"}})
        return page.done(f"Domain {verb}d.", "/admin/domains")
    if verb == "delete":
        await page.cloud.delete("identity", f"/domains/{domain_id}")
        return page.done("Domain deleted.", "/admin/domains")
    raise ApiError(404, f"There is no domain action {verb}.")


@panel(admin=True)
async def hypervisors(page: Page) -> Response:
    found = (await page.cloud.get("compute", "/os-hypervisors/detail"))["hypervisors"]
    return page.render("admin_hypervisors.html", title="Hypervisors",
                       rows=sorted(found, key=lambda h: h.get("hypervisor_hostname") or ""))


async def _all_instances(page: Page) -> dict:
    listing, names = await asyncio.gather(servers_page(page, all_projects=True), project_names(page))
    for row in listing["rows"]:
        row["project_id"] = names.get(row["project_id"], row["project_id"])
    return listing


@panel(admin=True)
async def all_instances(page: Page) -> Response:
    return page.render("instances.html", title="All instances", **await _all_instances(page))


@panel(admin=True)
async def all_instance_rows(page: Page) -> Response:
    return page.fragment("_instance_rows.html", **await _all_instances(page))


async def _all_volumes(page: Page) -> dict:
    listing, names = await asyncio.gather(volumes_page(page, all_projects=True), project_names(page))
    for row in listing["rows"]:
        row["project_id"] = names.get(row["project_id"], row["project_id"])
    return listing


@panel(admin=True)
async def all_volumes(page: Page) -> Response:
    return page.render("admin_volumes.html", title="All volumes", **await _all_volumes(page))


@panel(admin=True)
async def all_volume_rows(page: Page) -> Response:
    return page.fragment("_volume_rows.html", **await _all_volumes(page))


def routes() -> list[Route]:
    return [Route("/admin/projects", projects, methods=["GET"]),
            Route("/admin/projects", create_project, methods=["POST"]),
            Route("/admin/projects/{id}/delete", delete_project, methods=["POST"]),
            Route("/admin/users", users, methods=["GET"]), Route("/admin/users", create_user, methods=["POST"]),
            Route("/admin/users/{id}/delete", delete_user, methods=["POST"]),
            Route("/admin/domains", domains, methods=["GET"]), Route("/admin/domains", domain_action, methods=["POST"]),
            Route("/admin/domains/{id}/{verb}", domain_action, methods=["POST"]),
            Route("/admin/groups", groups, methods=["GET"]), Route("/admin/groups", create_group, methods=["POST"]),
            Route("/admin/groups/{id}", group_detail, methods=["GET"]),
            Route("/admin/groups/{id}/delete", delete_group, methods=["POST"]),
            Route("/admin/groups/{id}/members/{verb}", group_member, methods=["POST"]),
            Route("/admin/roles", roles, methods=["GET"]), Route("/admin/roles", create_role, methods=["POST"]),
            Route("/admin/roles/{id}/delete", delete_role, methods=["POST"]),
            Route("/admin/assignments", assignments, methods=["GET"]),
            Route("/admin/assignments/grant", grant, methods=["POST"]),
            Route("/admin/assignments/revoke", revoke, methods=["POST"]),
            Route("/admin/hypervisors", hypervisors, methods=["GET"]),
            Route("/admin/instances", all_instances, methods=["GET"]),
            Route("/admin/instances/rows", all_instance_rows, methods=["GET"]),
            Route("/admin/volumes", all_volumes, methods=["GET"]),
            Route("/admin/volumes/rows", all_volume_rows, methods=["GET"])]
