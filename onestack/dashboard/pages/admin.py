"""Admin panels, for users with the admin role in the current project (others get 403): projects,
users, hypervisors and every project's instances and volumes.  The APIs enforce their own policies as well."""

from __future__ import annotations

import asyncio

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


@panel(admin=True)
async def hypervisors(page: Page) -> Response:
    found = (await page.cloud.get("compute", "/os-hypervisors/detail"))["hypervisors"]
    return page.render("admin_hypervisors.html", title="Hypervisors",
                       rows=sorted(found, key=lambda h: h.get("hypervisor_hostname") or ""))


async def _all_instances(page: Page) -> dict:
    listing, found = await asyncio.gather(servers_page(page, all_projects=True), page.cloud.get("identity", "/projects"))
    names = {p["id"]: p["name"] for p in found["projects"]}
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
    listing, found = await asyncio.gather(volumes_page(page, all_projects=True), page.cloud.get("identity", "/projects"))
    names = {p["id"]: p["name"] for p in found["projects"]}
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
            Route("/admin/hypervisors", hypervisors, methods=["GET"]),
            Route("/admin/instances", all_instances, methods=["GET"]),
            Route("/admin/instances/rows", all_instance_rows, methods=["GET"]),
            Route("/admin/volumes", all_volumes, methods=["GET"]),
            Route("/admin/volumes/rows", all_volume_rows, methods=["GET"])]
