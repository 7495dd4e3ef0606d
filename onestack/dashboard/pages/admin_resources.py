"""Admin panels for what the services hold across projects: flavors and their access lists; every
project's images, networks, routers and floating IPs (paged as the APIs page); the services and their
state; default and per-project quotas of compute, network and Block Storage."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.admin import project_names
from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.pages.paging import api_page
from onestack.dashboard.web import Page, panel

# Each across-projects panel: the service, its collection path, the body's list key, the page's title
# and the filter naming a project (Glance calls the project an image's owner).
COLLECTIONS = {
    "images": ("image", "/images", "images", "All images", "owner"),
    "networks": ("network", "/networks", "networks", "All networks", "project_id"),
    "routers": ("network", "/routers", "routers", "All routers", "project_id"),
    "floating-ips": ("network", "/floatingips", "floatingips", "All floating IPs", "project_id"),
}
# Quota keys a person sets; the rest (Cinder's per-type keys, Nova's legacy ones) stay as they are.
QUOTA_KEYS = {
    "compute": ["instances", "cores", "ram", "key_pairs", "server_groups", "server_group_members", "metadata_items"],
    "network": ["network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule"],
    "block-storage": ["volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes", "per_volume_gigabytes"],
}
SERVICE_LABELS = {"compute": "Compute", "network": "Network", "block-storage": "Block Storage"}


@panel(admin=True)
async def collection(page: Page) -> Response:
    kind = page.request.path_params["kind"]
    if kind not in COLLECTIONS:
        raise ApiError(404, f"There is no admin panel {kind}.")
    service, path, key, title, by_project = COLLECTIONS[kind]
    project = page.request.query_params.get("project") or ""
    filters = {by_project: project} if project else {}
    listing, names = await asyncio.gather(api_page(page, service, path, key, **filters), project_names(page))
    rows = [{**item, "project": names.get(item.get("owner") or item.get("project_id") or "", item.get("owner") or
                                          item.get("project_id") or ""),
             "status_class": status_class(item.get("status"))} for item in listing["items"]]
    externals = []
    if kind == "routers":  # to name each router's gateway network
        externals = (await page.cloud.get("network", "/networks", **{"router:external": "true"}))["networks"]
    return page.render(f"admin_{kind.replace('-', '_')}.html", title=title, kind=kind, rows=rows,
                       marker=listing["marker"], next_marker=listing["next_marker"], project=project,
                       projects=sorted(({"id": i, "name": n} for i, n in names.items()), key=lambda p: p["name"]),
                       externals={n["id"]: n.get("name") or n["id"] for n in externals})


@panel(admin=True, back="/admin/networks")
async def delete_in_collection(page: Page) -> Response:
    kind, item_id = page.request.path_params["kind"], page.request.path_params["id"]
    if kind not in COLLECTIONS:
        raise ApiError(404, f"There is no admin panel {kind}.")
    service, path = COLLECTIONS[kind][:2]
    await page.cloud.delete(service, f"{path}/{item_id}")
    return page.done("Released." if kind == "floating-ips" else "Deleted.", f"/admin/{kind}")


@panel(admin=True, back="/admin/networks")
async def create_network(page: Page) -> Response:
    form = page.form
    body = {"name": form.get("name"), "shared": bool(form.get("shared")),
            "router:external": bool(form.get("external"))}
    if form.get("project"):
        body["project_id"] = form.get("project")
    net = (await page.cloud.post("network", "/networks", {"network": body}))["network"]
    return page.done(f"Network {net['name'] or net['id']} created.", "/admin/networks")


@panel(admin=True)
async def flavors(page: Page) -> Response:
    found = (await page.cloud.get("compute", "/flavors/detail", is_public="none", limit=1000))["flavors"]
    return page.render("admin_flavors.html", title="Flavors",
                       rows=sorted(found, key=lambda f: (f["vcpus"], f["ram"], f["disk"], f["name"])))


@panel(admin=True, back="/admin/flavors")
async def create_flavor(page: Page) -> Response:
    form = page.form
    body = {"name": form.get("name"), "vcpus": form.int("vcpus", 1), "ram": form.int("ram", 512),
            "disk": form.int("disk", 0), "OS-FLV-EXT-DATA:ephemeral": form.int("ephemeral", 0),
            "os-flavor-access:is_public": form.get("public") == "yes"}
    if form.get("id"):
        body["id"] = form.get("id")
    if form.get("description"):
        body["description"] = form.get("description")
    flavor = (await page.cloud.post("compute", "/flavors", {"flavor": body}))["flavor"]
    to = "/admin/flavors" if body["os-flavor-access:is_public"] else f"/admin/flavors/{flavor['id']}"
    return page.done(f"Flavor {flavor['name']} created.", to)


@panel(admin=True, back="/admin/flavors")
async def delete_flavor(page: Page) -> Response:
    await page.cloud.delete("compute", f"/flavors/{page.request.path_params['id']}")
    return page.done("Flavor deleted.", "/admin/flavors")


@panel(admin=True)
async def flavor_detail(page: Page) -> Response:
    flavor_id = page.request.path_params["id"]
    flavor, names = await asyncio.gather(page.cloud.get("compute", f"/flavors/{flavor_id}"), project_names(page))
    flavor = flavor["flavor"]
    access = []
    if not flavor.get("os-flavor-access:is_public", True):
        access = (await page.cloud.get("compute", f"/flavors/{flavor_id}/os-flavor-access"))["flavor_access"]
    granted = {a["tenant_id"] for a in access}
    return page.render("admin_flavor.html", title="Flavor", flavor=flavor,
                       access=[{"id": a["tenant_id"], "name": names.get(a["tenant_id"], a["tenant_id"])} for a in access],
                       projects=sorted(({"id": i, "name": n} for i, n in names.items() if i not in granted),
                                       key=lambda p: p["name"]))


@panel(admin=True, back="/admin/flavors")
async def flavor_access(page: Page) -> Response:
    flavor_id, verb = page.request.path_params["id"], page.request.path_params["verb"]
    if verb not in ("add", "remove") or not page.form.get("project"):
        raise ApiError(400, "Choose a project.")
    action = "addTenantAccess" if verb == "add" else "removeTenantAccess"
    await page.cloud.post("compute", f"/flavors/{flavor_id}/action", {action: {"tenant": page.form.get("project")}})
    return page.done("Access granted." if verb == "add" else "Access removed.", f"/admin/flavors/{flavor_id}")


async def _optional(call) -> tuple[list, str]:
    """A listing a cloud may not offer (no Block Storage, no agents): its rows, or why there are none."""
    try:
        return await call, ""
    except ApiError as err:
        return [], err.message


async def _listed(page: Page, service: str, path: str, key: str) -> list:
    if not page.cloud.has(service):
        raise ApiError(503, "not in this cloud's catalog")
    return (await page.cloud.get(service, path))[key]


@panel(admin=True)
async def services(page: Page) -> Response:
    (compute, compute_err), (volume, volume_err), (agents, agents_err), catalog = await asyncio.gather(
        _optional(_listed(page, "compute", "/os-services", "services")),
        _optional(_listed(page, "block-storage", "/os-services", "services")),
        _optional(_listed(page, "network", "/agents", "agents")),
        page.cloud.get("identity", "/services"))
    for row in [*compute, *volume]:
        row["state_class"] = status_class(row.get("state"))
    for row in agents:
        row["state_class"] = "ok" if row.get("alive") else "bad"
    return page.render("admin_services.html", title="Services", compute=compute, compute_err=compute_err,
                       volume=volume, volume_err=volume_err, agents=agents, agents_err=agents_err,
                       catalog=sorted(catalog["services"], key=lambda s: s.get("type", "")))


@panel(admin=True, back="/admin/services")
async def compute_service(page: Page) -> Response:
    service_id = page.request.path_params["id"]
    if page.form.get("status") == "disabled":
        body = {"status": "disabled", "disabled_reason": page.form.get("reason") or "disabled in the dashboard"}
    else:
        body = {"status": "enabled"}
    await page.cloud.put("compute", f"/os-services/{service_id}", body)
    return page.done(f"Compute service {body['status']}.", "/admin/services")


def _quota_paths(project: str | None) -> dict[str, str]:
    """Where each service keeps a project's quotas, or (``None``) the defaults every project starts with."""
    if project is None:
        return {"compute": "/os-quota-class-sets/default", "network": "/quotas/defaults",
                "block-storage": "/os-quota-class-sets/default"}
    return {"compute": f"/os-quota-sets/{project}", "network": f"/quotas/{project}",
            "block-storage": f"/os-quota-sets/{project}"}


async def _quotas(page: Page, project: str | None) -> list[dict]:
    async def one(service: str, path: str) -> dict:
        if not page.cloud.has(service):
            return {"service": service, "label": SERVICE_LABELS[service], "values": [], "error": "not in the catalog"}
        try:
            body = await page.cloud.get(service, path)
        except ApiError as err:
            return {"service": service, "label": SERVICE_LABELS[service], "values": [], "error": err.message}
        found = next(iter(body.values()))
        return {"service": service, "label": SERVICE_LABELS[service], "error": "",
                "values": [(k, found[k]) for k in QUOTA_KEYS[service] if k in found],
                # Neutron has no API for its defaults: they are the server's configuration
                "editable": not (project is None and service == "network")}
    return list(await asyncio.gather(*(one(s, p) for s, p in _quota_paths(project).items())))


@panel(admin=True)
async def quotas(page: Page) -> Response:
    project = page.request.query_params.get("project") or None
    names, found = await asyncio.gather(project_names(page), _quotas(page, project))
    if project is not None and project not in names:
        raise ApiError(404, f"There is no project {project}.")
    return page.render("admin_quotas.html", title="Quotas", quotas=found, project=project or "",
                       project_name=names.get(project or "", ""),
                       projects=sorted(({"id": i, "name": n} for i, n in names.items()), key=lambda p: p["name"]))


@panel(admin=True, back="/admin/quotas")
async def update_quotas(page: Page) -> Response:
    service, project = page.request.path_params["service"], page.form.get("project") or None
    if service not in QUOTA_KEYS or (project is None and service == "network"):
        raise ApiError(404, f"There are no quotas of {service} to set here.")
    values = {k: page.form.int(k) for k in QUOTA_KEYS[service] if page.form.get(k)}
    for key, value in values.items():
        if value < -1:
            raise ApiError(400, f"{key} must be -1 (unlimited) or more.")
    wrapper = "quota" if service == "network" else ("quota_set" if project else "quota_class_set")
    await page.cloud.put(service, _quota_paths(project)[service], {wrapper: values})
    to = f"/admin/quotas?project={project}" if project else "/admin/quotas"
    return page.done(f"{SERVICE_LABELS[service]} quotas {'of the project' if project else 'defaults'} saved.", to)


@panel(admin=True, back="/admin/flavors")
async def flavor_specs(page: Page) -> Response:
    """Set extra specs from key=value lines, or remove one."""
    flavor_id, verb = page.request.path_params["id"], page.request.path_params["verb"]
    if verb == "set":
        specs = page.form.key_values("extra_specs")
        if not specs:
            raise ApiError(400, "Give at least one key=value line.")
        await page.cloud.post("compute", f"/flavors/{flavor_id}/os-extra_specs", {"extra_specs": specs})
        return page.done("Extra specs set.", f"/admin/flavors/{flavor_id}")
    if verb == "unset" and page.form.get("key"):
        await page.cloud.delete("compute", f"/flavors/{flavor_id}/os-extra_specs/{quote(page.form.get('key'), safe='')}")
        return page.done(f"Extra spec {page.form.get('key')} removed.", f"/admin/flavors/{flavor_id}")
    raise ApiError(404, f"There is no extra spec action {verb}.")


def routes() -> list[Route]:
    return [Route("/admin/flavors", flavors, methods=["GET"]), Route("/admin/flavors", create_flavor, methods=["POST"]),
            Route("/admin/flavors/{id}", flavor_detail, methods=["GET"]),
            Route("/admin/flavors/{id}/delete", delete_flavor, methods=["POST"]),
            Route("/admin/flavors/{id}/access/{verb}", flavor_access, methods=["POST"]),
            Route("/admin/flavors/{id}/specs/{verb}", flavor_specs, methods=["POST"]),
            Route("/admin/services", services, methods=["GET"]),
            Route("/admin/services/compute/{id}", compute_service, methods=["POST"]),
            Route("/admin/quotas", quotas, methods=["GET"]),
            Route("/admin/quotas/{service}", update_quotas, methods=["POST"]),
            Route("/admin/networks/create", create_network, methods=["POST"]),
            Route("/admin/{kind}", collection, methods=["GET"]),
            Route("/admin/{kind}/{id}/delete", delete_in_collection, methods=["POST"])]
