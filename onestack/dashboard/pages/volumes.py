"""Block Storage: volumes whose status refreshes itself, created blank, from an image or from a snapshot;
extend, snapshot, back up, attach to and detach from an instance (through compute's
``os-volume_attachments``, as Nova attaches), retype, delete; a volume's own page (its facts, metadata,
attachments and snapshots; edit, retype); snapshots and backups (restore to a new volume); the volume
types a volume can be made with."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError, Cloud
from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.web import Page, panel

PAGE_SIZE = 50
# What a volume in each status may be asked to do (Cinder refuses the rest with a 400 anyway).
BY_STATUS = {
    "available": ["extend", "snapshot", "backup", "upload", "attach", "retype", "delete"],
    "in-use": ["snapshot", "backup", "detach", "retype"],
    "error": ["delete"],
    "error_extending": ["delete"],
    "error_restoring": ["delete"],
}


async def _server_names(cloud: Cloud, ids: set[str]) -> dict[str, str]:
    """The names of the instances some volumes are attached to (one page's worth at most)."""

    async def one(server_id: str) -> tuple[str, str]:
        try:
            return server_id, (await cloud.get("compute", f"/servers/{server_id}"))["server"].get("name") or server_id
        except ApiError:
            return server_id, server_id

    return dict(await asyncio.gather(*(one(i) for i in sorted(ids))))


def _volume_row(volume: dict, servers: dict[str, str]) -> dict:
    status = volume.get("status", "")
    attached = [{"server_id": a.get("server_id", ""), "server": servers.get(a.get("server_id", ""), a.get("server_id", "")),
                 "device": a.get("device") or ""} for a in volume.get("attachments") or []]
    return {"id": volume["id"], "name": volume.get("name") or "", "size": volume.get("size"), "status": status,
            "status_class": status_class(status), "type": volume.get("volume_type") or "",
            "bootable": volume.get("bootable") == "true", "attached": attached,
            "project_id": volume.get("os-vol-tenant-attr:tenant_id", ""), "actions": BY_STATUS.get(status, [])}


async def volumes_page(page: Page, *, all_projects: bool = False) -> dict:
    """One page of volumes as table rows (every project's for the admin panel), and the next page's marker."""
    marker = page.request.query_params.get("marker") or None
    listing = await page.cloud.get("block-storage", "/volumes/detail", limit=PAGE_SIZE, marker=marker,
                                   all_tenants="1" if all_projects else None)
    volumes = listing["volumes"]
    attached = {a["server_id"] for v in volumes for a in v.get("attachments") or [] if a.get("server_id")}
    # another project's instance is not the admin's to look up by name here: its id is shown
    servers = await _server_names(page.cloud, attached) if attached and not all_projects else {}
    more = any(link.get("rel") == "next" for link in listing.get("volumes_links", []))
    return {"rows": [_volume_row(v, servers) for v in volumes], "marker": marker or "", "all_projects": all_projects,
            "next_marker": volumes[-1]["id"] if more and volumes else ""}


@panel()
async def volumes(page: Page) -> Response:
    listing, types, images, snapshots = await asyncio.gather(
        volumes_page(page), page.cloud.get("block-storage", "/types"),
        page.cloud.get("image", "/images", status="active", limit=1000),
        page.cloud.get("block-storage", "/snapshots", status="available"))
    return page.render("volumes.html", title="Volumes", types=types["volume_types"],
                       images=sorted(images["images"], key=lambda i: i.get("name") or ""),
                       snapshots=snapshots["snapshots"], chosen=page.request.query_params.get("source", ""),
                       **listing)


@panel()
async def volume_rows(page: Page) -> Response:
    return page.fragment("_volume_rows.html", **await volumes_page(page))


@panel()
async def volume_detail(page: Page) -> Response:
    volume_id = page.request.path_params["id"]
    volume, snaps, types = await asyncio.gather(
        page.cloud.get("block-storage", f"/volumes/{volume_id}"),
        page.cloud.get("block-storage", "/snapshots", volume_id=volume_id), page.cloud.get("block-storage", "/types"))
    volume = volume["volume"]
    attached = {a["server_id"] for a in volume.get("attachments") or [] if a.get("server_id")}
    row = _volume_row(volume, await _server_names(page.cloud, attached) if attached else {})
    return page.render("volume.html", title="Volume", volume=volume, row=row,
                       snapshots=[{**sn, "status_class": status_class(sn.get("status"))} for sn in snaps["snapshots"]],
                       types=[t for t in types["volume_types"] if t["name"] != volume.get("volume_type")])


@panel()
async def attach_form(page: Page) -> Response:
    volume_id = page.request.path_params["id"]
    volume, servers = await asyncio.gather(page.cloud.get("block-storage", f"/volumes/{volume_id}"),
                                           page.cloud.get("compute", "/servers", limit=1000))
    return page.render("volume_attach.html", title="Attach volume", volume=volume["volume"],
                       servers=sorted(servers["servers"], key=lambda s: s.get("name") or ""))


@panel(back="/volumes")
async def create_volume(page: Page) -> Response:
    form = page.form
    body: dict = {"name": form.get("name") or None, "size": form.int("size")}
    if form.get("description"):
        body["description"] = form.get("description")
    if form.get("volume_type"):
        body["volume_type"] = form.get("volume_type")
    kind, _, source = form.get("source").partition(":")
    if kind == "image" and source:
        body["imageRef"] = source
    elif kind == "snapshot" and source:
        body["snapshot_id"] = source
        if body["size"] is None:
            del body["size"]  # the snapshot's size
    if body.get("size", 0) is None:
        raise ApiError(400, "A volume needs a size in GB.")
    await page.cloud.post("block-storage", "/volumes", {"volume": body})
    return page.done(f"Creating volume {body['name']}." if body["name"] else "Creating the volume.", "/volumes")


@panel(back="/volumes")
async def volume_action(page: Page) -> Response:
    volume_id, action = page.request.path_params["id"], page.request.path_params["action"]
    form, cloud = page.form, page.cloud
    if action == "delete":
        await cloud.delete("block-storage", f"/volumes/{volume_id}")
        return page.done("Deleting the volume.", "/volumes")
    if action == "extend":
        size = form.int("new_size")
        if size is None:
            raise ApiError(400, "Extending needs the new size in GB.")
        await cloud.post("block-storage", f"/volumes/{volume_id}/action", {"os-extend": {"new_size": size}})
        return page.done(f"Extending the volume to {size} GB.", "/volumes")
    if action == "snapshot":
        await cloud.post("block-storage", "/snapshots", {"snapshot": {
            "volume_id": volume_id, "name": form.get("name") or None, "force": True}})
        return page.done("Creating a snapshot of the volume.", "/snapshots")
    if action == "backup":
        await cloud.post("block-storage", "/backups", {"backup": {
            "volume_id": volume_id, "name": form.get("name") or None, "force": True,
            "incremental": bool(form.get("incremental"))}})
        return page.done("Backing up the volume.", "/backups")
    if action == "upload":
        image_name = form.get("image_name")
        if not image_name:
            raise ApiError(400, "The image needs a name.")
        await cloud.post("block-storage", f"/volumes/{volume_id}/action", {"os-volume_upload_image": {
            "image_name": image_name, "disk_format": form.get("disk_format") or "raw",
            "container_format": "bare", "force": False}})
        return page.done(f"Uploading the volume to image {image_name}.", "/images")
    if action == "attach":
        server_id = form.get("server_id")
        if not server_id:
            raise ApiError(400, "Choose the instance to attach the volume to.")
        await cloud.post("compute", f"/servers/{server_id}/os-volume_attachments",
                         {"volumeAttachment": {"volumeId": volume_id}})
        return page.done("Attaching the volume.", "/volumes")
    if action == "retype":
        if not form.get("new_type"):
            raise ApiError(400, "Choose the volume type to change to.")
        policy = "on-demand" if form.get("migration_policy") == "on-demand" else "never"
        await cloud.post("block-storage", f"/volumes/{volume_id}/action", {"os-retype": {
            "new_type": form.get("new_type"), "migration_policy": policy}})
        return page.done(f"Changing the volume's type to {form.get('new_type')}.", f"/volumes/{volume_id}")
    if action == "update":
        body = {"name": form.get("name"), "description": form.get("description")}
        await cloud.call("PUT", "block-storage", f"/volumes/{volume_id}", json={"volume": body})
        return page.done("Volume updated.", f"/volumes/{volume_id}")
    if action == "set-metadata":
        metadata = form.key_values("metadata")
        if not metadata:
            raise ApiError(400, "Give at least one key=value line.")
        await cloud.post("block-storage", f"/volumes/{volume_id}/metadata", {"metadata": metadata})
        return page.done("Metadata set.", f"/volumes/{volume_id}")
    if action == "unset-metadata" and form.get("key"):
        await cloud.delete("block-storage", f"/volumes/{volume_id}/metadata/{quote(form.get('key'), safe='')}")
        return page.done(f"Metadata {form.get('key')} removed.", f"/volumes/{volume_id}")
    if action == "detach":
        await cloud.delete("compute", f"/servers/{form.get('server_id')}/os-volume_attachments/{volume_id}")
        return page.done("Detaching the volume.", "/volumes")
    raise ApiError(404, f"There is no volume action {action}.")


async def _snapshots(page: Page) -> dict:
    listing, volumes = await asyncio.gather(page.cloud.get("block-storage", "/snapshots/detail"),
                                            page.cloud.get("block-storage", "/volumes", limit=1000))
    names = {v["id"]: v.get("name") or v["id"] for v in volumes["volumes"]}
    return {"rows": [{"id": s["id"], "name": s.get("name") or "", "size": s.get("size"), "status": s["status"],
                      "status_class": status_class(s["status"]), "volume": names.get(s["volume_id"], s["volume_id"])}
                     for s in listing["snapshots"]]}


@panel()
async def snapshots(page: Page) -> Response:
    return page.render("snapshots.html", title="Volume snapshots", **await _snapshots(page))


@panel()
async def snapshot_rows(page: Page) -> Response:
    return page.fragment("_snapshot_rows.html", **await _snapshots(page))


@panel(back="/snapshots")
async def delete_snapshot(page: Page) -> Response:
    await page.cloud.delete("block-storage", f"/snapshots/{page.request.path_params['id']}")
    return page.done("Deleting the snapshot.", "/snapshots")


async def _backups(page: Page) -> dict:
    listing, volumes = await asyncio.gather(page.cloud.get("block-storage", "/backups/detail"),
                                            page.cloud.get("block-storage", "/volumes", limit=1000))
    names = {v["id"]: v.get("name") or v["id"] for v in volumes["volumes"]}
    return {"rows": [{"id": b["id"], "name": b.get("name") or "", "size": b.get("size"), "status": b["status"],
                      "status_class": status_class(b["status"]), "incremental": b.get("is_incremental"),
                      "volume": names.get(b.get("volume_id"), b.get("volume_id") or "")}
                     for b in listing["backups"]]}


@panel()
async def backups(page: Page) -> Response:
    return page.render("backups.html", title="Volume backups", **await _backups(page))


@panel()
async def backup_rows(page: Page) -> Response:
    return page.fragment("_backup_rows.html", **await _backups(page))


@panel(back="/backups")
async def backup_action(page: Page) -> Response:
    backup_id, action = page.request.path_params["id"], page.request.path_params["action"]
    if action == "delete":
        await page.cloud.delete("block-storage", f"/backups/{backup_id}")
        return page.done("Deleting the backup.", "/backups")
    if action == "restore":
        restore = {"name": page.form.get("name")} if page.form.get("name") else {}
        await page.cloud.post("block-storage", f"/backups/{backup_id}/restore", {"restore": restore})
        return page.done("Restoring the backup to a new volume.", "/volumes")
    raise ApiError(404, f"There is no backup action {action}.")


def routes() -> list[Route]:
    return [Route("/volumes", volumes, methods=["GET"]), Route("/volumes", create_volume, methods=["POST"]),
            Route("/volumes/rows", volume_rows, methods=["GET"]),
            Route("/volumes/{id}", volume_detail, methods=["GET"]),
            Route("/volumes/{id}/attach", attach_form, methods=["GET"]),
            Route("/volumes/{id}/{action}", volume_action, methods=["POST"]),
            Route("/snapshots", snapshots, methods=["GET"]), Route("/snapshots/rows", snapshot_rows, methods=["GET"]),
            Route("/snapshots/{id}/delete", delete_snapshot, methods=["POST"]),
            Route("/backups", backups, methods=["GET"]), Route("/backups/rows", backup_rows, methods=["GET"]),
            Route("/backups/{id}/{action}", backup_action, methods=["POST"])]
