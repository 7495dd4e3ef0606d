"""Images: the project's images with live status, create from a URL (Glance's interoperable import,
``web-download``, fetched on the cloud's side: queued, importing, then active) or from a file the browser
uploads (with a progress bar), delete; images other projects shared with this one, to accept or reject."""

from __future__ import annotations

import asyncio
import json

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.web import Page, panel

PAGE_SIZE = 50
DISK_FORMATS = ["qcow2", "raw", "iso", "vmdk", "vdi", "vhd", "vhdx", "ami", "ari", "aki", "ploop"]
CONTAINER_FORMATS = ["bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"]


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:g} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _row(image: dict, project_id: str) -> dict:
    failed = image["status"] == "queued" and bool(image.get("os_glance_failed_import"))
    return {"id": image["id"], "name": image.get("name") or "", "status": "import failed" if failed else image["status"],
            "status_class": "bad" if failed else status_class(image["status"]), "visibility": image.get("visibility"),
            "disk_format": image.get("disk_format") or "", "size": _size(image.get("size")),
            "protected": image.get("protected"), "mine": image.get("owner") == project_id}


async def _listing(page: Page) -> dict:
    marker = page.request.query_params.get("marker") or None
    body = await page.cloud.get("image", "/images", limit=PAGE_SIZE, marker=marker, sort="created_at:desc")
    images = body["images"]
    return {"rows": [_row(i, page.project_id) for i in images], "marker": marker or "",
            "next_marker": images[-1]["id"] if body.get("next") and images else ""}


async def _offers(page: Page) -> list[dict]:
    """Images other projects shared with this one that it has not accepted (pending, or rejected and still
    open to a change of mind): Glance lists a shared image with the project's own only once it is accepted."""
    found = await asyncio.gather(*(page.cloud.get("image", "/images", visibility="shared", member_status=status,
                                                  limit=PAGE_SIZE) for status in ("pending", "rejected")))
    return [{**_row(i, page.project_id), "owner": i.get("owner") or "", "member_status": status}
            for status, listing in zip(("pending", "rejected"), found, strict=True)
            for i in listing["images"] if i.get("owner") != page.project_id]


@panel()
async def images(page: Page) -> Response:
    listing, offers = await asyncio.gather(_listing(page), _offers(page))
    return page.render("images.html", title="Images", disk_formats=DISK_FORMATS, container_formats=CONTAINER_FORMATS,
                       offers=offers, **listing)


@panel(back="/images")
async def answer_offer(page: Page) -> Response:
    """Accept (the image is then listed and can be launched) or reject an image shared with the project."""
    image_id, status = page.request.path_params["id"], page.form.get("status")
    if status not in ("accepted", "rejected"):
        raise ApiError(400, "Accept or reject the image.")
    await page.cloud.put("image", f"/images/{image_id}/members/{page.project_id}", {"status": status})
    return page.done("Image accepted: it is listed with the project's images." if status == "accepted"
                     else "Image rejected.", "/images")


@panel()
async def image_rows(page: Page) -> Response:
    return page.fragment("_image_rows.html", **await _listing(page))


@panel(back="/images")
async def create_from_url(page: Page) -> Response:
    form = page.form
    url, name = form.get("url"), form.get("name")
    if not url or not name:
        raise ApiError(400, "An image from a URL needs a name and the URL.")
    body = {"name": name, "disk_format": form.get("disk_format") or "qcow2",
            "container_format": form.get("container_format") or "bare",
            "visibility": form.get("visibility") or "private"}
    for field in ("min_disk", "min_ram"):
        if form.get(field):
            body[field] = form.int(field)
    if form.get("protected"):
        body["protected"] = True
    image = await page.cloud.post("image", "/images", body)
    try:
        await page.cloud.post("image", f"/images/{image['id']}/import",
                              {"method": {"name": "web-download", "uri": url}})
    except ApiError:
        # the cloud refused the URL (its import filters) or the method: leave no empty image behind
        await page.cloud.delete("image", f"/images/{image['id']}")
        raise
    return page.done(f"Importing {name} from {url}.", "/images")


@panel(back="/images")
async def create_from_file(page: Page) -> Response:
    """An image from a file the browser sends (a multipart form, spooled by Starlette), streamed on to
    Glance's ``PUT /images/{id}/file``; if the upload fails, the empty image record goes too."""
    form = page.form
    upload = form.files.get("file")
    name = form.get("name") or (upload.filename if upload else "")
    if upload is None or not name:
        raise ApiError(400, "An image from a file needs the file (and a name).")
    body = {"name": name, "disk_format": form.get("disk_format") or "qcow2",
            "container_format": form.get("container_format") or "bare",
            "visibility": form.get("visibility") or "private"}
    for field in ("min_disk", "min_ram"):
        if form.get(field):
            body[field] = form.int(field)
    image = await page.cloud.post("image", "/images", body)

    async def chunks():
        while chunk := await upload.read(1 << 20):
            yield chunk

    headers = {"Content-Type": "application/octet-stream"}
    if upload.size is not None:
        headers["Content-Length"] = str(upload.size)
    try:
        await page.cloud.call("PUT", "image", f"/images/{image['id']}/file", content=chunks(), headers=headers)
    except ApiError:
        await page.cloud.delete("image", f"/images/{image['id']}")
        raise
    return page.done(f"Image {name} uploaded.", "/images")


@panel()
async def image(page: Page) -> Response:
    """An image's page: edit its name, visibility, minimums and protection; share it with projects."""
    image_id = page.request.path_params["id"]
    found = await page.cloud.get("image", f"/images/{image_id}")
    members = []
    if found.get("visibility") == "shared" and found.get("owner") == page.project_id:
        members = (await page.cloud.get("image", f"/images/{image_id}/members"))["members"]
    return page.render("image.html", title=f"Image {found.get('name') or image_id}", image=found,
                       row=_row(found, page.project_id), members=members)


_PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


@panel(back="/images")
async def edit_image(page: Page) -> Response:
    """The changed fields as one JSON-patch (``replace``), as Glance takes them."""
    image_id, form = page.request.path_params["id"], page.form
    found = await page.cloud.get("image", f"/images/{image_id}")
    wanted = {"name": form.get("name"), "visibility": form.get("visibility"), "min_disk": form.int("min_disk", 0),
              "min_ram": form.int("min_ram", 0), "protected": bool(form.get("protected"))}
    ops = [{"op": "replace", "path": f"/{key}", "value": value} for key, value in wanted.items()
           if value != found.get(key) and not (key in ("name", "visibility") and not value)]
    if ops:
        await page.cloud.call("PATCH", "image", f"/images/{image_id}", content=json.dumps(ops).encode(),
                              headers=_PATCH)
    return page.done("Image saved." if ops else "Nothing to change.", f"/images/{image_id}")


@panel(back="/images")
async def add_member(page: Page) -> Response:
    image_id, project = page.request.path_params["id"], page.form.get("member")
    if not project:
        raise ApiError(400, "Name the project (its id) to share the image with.")
    await page.cloud.post("image", f"/images/{image_id}/members", {"member": project})
    return page.done(f"Shared with project {project}: it accepts the image to see it listed.", f"/images/{image_id}")


@panel(back="/images")
async def remove_member(page: Page) -> Response:
    image_id = page.request.path_params["id"]
    await page.cloud.delete("image", f"/images/{image_id}/members/{page.form.get('member')}")
    return page.done("No longer shared with that project.", f"/images/{image_id}")


@panel(back="/images")
async def delete_image(page: Page) -> Response:
    await page.cloud.delete("image", f"/images/{page.request.path_params['id']}")
    return page.done("Image deleted.", "/images")


def routes() -> list[Route]:
    return [Route("/images", images, methods=["GET"]), Route("/images", create_from_url, methods=["POST"]),
            Route("/images/upload", create_from_file, methods=["POST"]),
            Route("/images/rows", image_rows, methods=["GET"]),
            Route("/images/{id}", image, methods=["GET"]), Route("/images/{id}", edit_image, methods=["POST"]),
            Route("/images/{id}/members", add_member, methods=["POST"]),
            Route("/images/{id}/members/remove", remove_member, methods=["POST"]),
            Route("/images/{id}/answer", answer_offer, methods=["POST"]),
            Route("/images/{id}/delete", delete_image, methods=["POST"])]
