"""Admin panels of Block Storage: volume types (extra specs, access of private types, their QoS) and QoS
specs (consumer, keys, the types they are associated with)."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.admin import project_names
from onestack.dashboard.web import Page, panel


@panel(admin=True)
async def volume_types(page: Page) -> Response:
    types, qos = await asyncio.gather(page.cloud.get("block-storage", "/types", is_public="None"),
                                      page.cloud.get("block-storage", "/qos-specs"))
    qos_names = {q["id"]: q["name"] for q in qos["qos_specs"]}
    return page.render("admin_volume_types.html", title="Volume types",
                       rows=sorted(({**t, "qos": qos_names.get(t.get("qos_specs_id") or "", "")}
                                    for t in types["volume_types"]), key=lambda t: t["name"]))


@panel(admin=True, back="/admin/volume-types")
async def create_volume_type(page: Page) -> Response:
    form = page.form
    body = {"name": form.get("name"), "os-volume-type-access:is_public": form.get("public", "yes") == "yes"}
    if form.get("description"):
        body["description"] = form.get("description")
    specs = form.key_values("extra_specs")
    if specs:
        body["extra_specs"] = specs
    made = (await page.cloud.post("block-storage", "/types", {"volume_type": body}))["volume_type"]
    return page.done(f"Volume type {made['name']} created.", f"/admin/volume-types/{made['id']}")


@panel(admin=True, back="/admin/volume-types")
async def delete_volume_type(page: Page) -> Response:
    await page.cloud.delete("block-storage", f"/types/{page.request.path_params['id']}")
    return page.done("Volume type deleted.", "/admin/volume-types")


@panel(admin=True)
async def volume_type_detail(page: Page) -> Response:
    type_id = page.request.path_params["id"]
    found, qos, names = await asyncio.gather(page.cloud.get("block-storage", f"/types/{type_id}"),
                                             page.cloud.get("block-storage", "/qos-specs"), project_names(page))
    vtype = found["volume_type"]
    access = []
    if not vtype.get("os-volume-type-access:is_public", vtype.get("is_public", True)):
        access = (await page.cloud.get("block-storage", f"/types/{type_id}/os-volume-type-access"))["volume_type_access"]
    granted = {a["project_id"] for a in access}
    return page.render("admin_volume_type.html", title="Volume type", vtype=vtype, qos=qos["qos_specs"],
                       access=[{"id": a["project_id"], "name": names.get(a["project_id"], a["project_id"])} for a in access],
                       projects=sorted(({"id": i, "name": n} for i, n in names.items() if i not in granted),
                                       key=lambda p: p["name"]))


@panel(admin=True, back="/admin/volume-types")
async def volume_type_change(page: Page) -> Response:
    """One change to a type: extra specs set or one unset, a project's access, the QoS associated."""
    type_id, what, form = page.request.path_params["id"], page.request.path_params["what"], page.form
    here = f"/admin/volume-types/{type_id}"
    if what == "set-specs":
        specs = form.key_values("extra_specs")
        if not specs:
            raise ApiError(400, "Give at least one key=value line.")
        await page.cloud.post("block-storage", f"/types/{type_id}/extra_specs", {"extra_specs": specs})
        return page.done("Extra specs set.", here)
    if what == "unset-spec":
        await page.cloud.delete("block-storage", f"/types/{type_id}/extra_specs/{form.get('key')}")
        return page.done(f"Extra spec {form.get('key')} removed.", here)
    if what in ("add-access", "remove-access"):
        action = "addProjectAccess" if what == "add-access" else "removeProjectAccess"
        await page.cloud.post("block-storage", f"/types/{type_id}/action", {action: {"project": form.get("project")}})
        return page.done("Access granted." if what == "add-access" else "Access removed.", here)
    if what == "qos":
        current = form.get("current")
        if current:
            # Cinder (dis)associates by a GET that answers 202 with no body
            await page.cloud.call("GET", "block-storage", f"/qos-specs/{current}/disassociate",
                                  params={"vol_type_id": type_id})
        if form.get("qos"):
            await page.cloud.call("GET", "block-storage", f"/qos-specs/{form.get('qos')}/associate",
                                  params={"vol_type_id": type_id})
        return page.done("QoS associated." if form.get("qos") else "QoS disassociated.", here)
    raise ApiError(404, f"There is no volume type change {what}.")


@panel(admin=True)
async def qos_specs(page: Page) -> Response:
    found = (await page.cloud.get("block-storage", "/qos-specs"))["qos_specs"]

    async def associated(spec: dict) -> dict:
        links = (await page.cloud.get("block-storage", f"/qos-specs/{spec['id']}/associations"))["qos_associations"]
        return {**spec, "types": [a["name"] for a in links]}

    rows = await asyncio.gather(*(associated(q) for q in found))
    return page.render("admin_qos.html", title="QoS specs", rows=sorted(rows, key=lambda q: q["name"]))


@panel(admin=True, back="/admin/qos")
async def create_qos(page: Page) -> Response:
    consumer = page.form.get("consumer") or "back-end"
    if consumer not in ("front-end", "back-end", "both"):
        raise ApiError(400, "The consumer is front-end, back-end or both.")
    body = {"name": page.form.get("name"), "consumer": consumer, **page.form.key_values("specs")}
    made = (await page.cloud.post("block-storage", "/qos-specs", {"qos_specs": body}))["qos_specs"]
    return page.done(f"QoS spec {made['name']} created.", "/admin/qos")


@panel(admin=True, back="/admin/qos")
async def delete_qos(page: Page) -> Response:
    await page.cloud.call("DELETE", "block-storage", f"/qos-specs/{page.request.path_params['id']}",
                          params={"force": "true" if page.form.get("force") else "false"})
    return page.done("QoS spec deleted.", "/admin/qos")


@panel(admin=True, back="/admin/qos")
async def qos_keys(page: Page) -> Response:
    """Set keys of a QoS spec from key=value lines, or remove one (Cinder's ``delete_keys``)."""
    qos_id, verb = page.request.path_params["id"], page.request.path_params["verb"]
    if verb == "set":
        keys = page.form.key_values("specs")
        if not keys:
            raise ApiError(400, "Give at least one key=value line.")
        await page.cloud.put("block-storage", f"/qos-specs/{qos_id}", {"qos_specs": keys})
        return page.done("QoS keys set.", "/admin/qos")
    if verb == "unset" and page.form.get("key"):
        await page.cloud.put("block-storage", f"/qos-specs/{qos_id}/delete_keys", {"keys": [page.form.get("key")]})
        return page.done(f"QoS key {page.form.get('key')} removed.", "/admin/qos")
    raise ApiError(404, f"There is no QoS key action {verb}.")


def routes() -> list[Route]:
    return [Route("/admin/volume-types", volume_types, methods=["GET"]),
            Route("/admin/volume-types", create_volume_type, methods=["POST"]),
            Route("/admin/volume-types/{id}", volume_type_detail, methods=["GET"]),
            Route("/admin/volume-types/{id}/delete", delete_volume_type, methods=["POST"]),
            Route("/admin/volume-types/{id}/{what}", volume_type_change, methods=["POST"]),
            Route("/admin/qos", qos_specs, methods=["GET"]), Route("/admin/qos", create_qos, methods=["POST"]),
            Route("/admin/qos/{id}/delete", delete_qos, methods=["POST"]),
            Route("/admin/qos/{id}/keys/{verb}", qos_keys, methods=["POST"])]
