"""Object Store: the project's containers (create, delete, public access by ``X-Container-Read``), and in a
container its objects shown as folders by ``delimiter=/`` and ``prefix``: upload (a multipart form whose
file is streamed on to Swift by ``PUT``), new folder, download, delete."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlsplit

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.images import _size
from onestack.dashboard.web import Page, panel

PAGE_SIZE = 200
TEMPURL_LIFETIMES = {"3600": "1 hour", "86400": "1 day", "604800": "7 days"}
PUBLIC_READ = ".r:*,.rlistings"
CHUNK = 1 << 20


def _segment(part: str) -> str:
    # "." and ".." are names here, not steps up: quoted, so no URL parser on the way resolves them away
    return part.replace(".", "%2E") if part in (".", "..") else quote(part, safe="")


def _path(container: str, obj: str | None = None) -> str:
    path = "/" + _segment(container)
    return path + "/" + "/".join(_segment(p) for p in obj.split("/")) if obj is not None else path


async def _list(page: Page, path: str, **params) -> tuple[list[dict], dict]:
    resp = await page.cloud.call("GET", "object-store", path, params={"format": "json", "limit": PAGE_SIZE,
                                                                      **{k: v for k, v in params.items() if v}})
    return (resp.json() if resp.content else []), resp.headers


@panel()
async def containers(page: Page) -> Response:
    marker = page.request.query_params.get("marker") or ""
    found, headers = await _list(page, "", marker=marker)
    rows = [{"name": c["name"], "count": c.get("count", 0), "size": _size(c.get("bytes", 0))} for c in found]
    return page.render("containers.html", title="Containers", rows=rows, marker=marker,
                       next_marker=found[-1]["name"] if len(found) == PAGE_SIZE else "",
                       total=_size(int(headers.get("x-account-bytes-used", 0))))


@panel(back="/containers")
async def create_container(page: Page) -> Response:
    name = page.form.get("name")
    if not name or "/" in name or name in (".", ".."):
        raise ApiError(400, "A container needs a name without '/' (and not '.' or '..').")
    headers = {"X-Container-Read": PUBLIC_READ} if page.form.get("public") else {}
    await page.cloud.call("PUT", "object-store", _path(name), headers=headers)
    return page.done(f"Container {name} created.", f"/containers/{quote(name, safe='')}")


@panel(back="/containers")
async def delete_container(page: Page) -> Response:
    await page.cloud.delete("object-store", _path(page.request.path_params["container"]))
    return page.done("Container deleted.", "/containers")


@panel()
async def container(page: Page) -> Response:
    name = page.request.path_params["container"]
    prefix = page.request.query_params.get("prefix") or ""
    marker = page.request.query_params.get("marker") or ""
    head = await page.cloud.call("HEAD", "object-store", _path(name))
    found, _ = await _list(page, _path(name), prefix=prefix, delimiter="/", marker=marker)
    folders, objects = [], []
    for item in found:
        if "subdir" in item:
            folders.append({"prefix": item["subdir"], "label": item["subdir"][len(prefix):]})
        elif item["name"] != prefix:  # the folder's own marker object (a new empty folder)
            objects.append({"name": item["name"], "label": item["name"][len(prefix):], "size": _size(item["bytes"]),
                            "type": item.get("content_type", ""), "modified": item.get("last_modified", "")[:19]})
    crumbs, walked = [], ""
    for part in prefix.split("/")[:-1]:
        walked += part + "/"
        crumbs.append({"label": part, "prefix": walked})
    read = head.headers.get("x-container-read", "")
    last = found[-1] if len(found) == PAGE_SIZE else None
    return page.render("container.html", title=f"Container {name}", container=name, prefix=prefix, crumbs=crumbs,
                       folders=folders, objects=objects, public=".r:" in read,
                       public_url=page.cloud.endpoints.get("object-store", "") + _path(name),
                       count=head.headers.get("x-container-object-count", "0"),
                       size=_size(int(head.headers.get("x-container-bytes-used", 0))), marker=marker,
                       next_marker=(last.get("name") or last.get("subdir")) if last else "",
                       lifetimes=TEMPURL_LIFETIMES)


def _back(page: Page, name: str) -> str:
    prefix = page.form.get("prefix")
    return f"/containers/{quote(name, safe='')}" + (f"?prefix={quote(prefix, safe='')}" if prefix else "")


@panel(back="/containers")
async def container_access(page: Page) -> Response:
    name = page.request.path_params["container"]
    if page.form.get("public") == "1":
        headers, said = {"X-Container-Read": PUBLIC_READ}, "public: anyone may read and list it"
    else:
        headers, said = {"X-Remove-Container-Read": "x"}, "private"
    await page.cloud.call("POST", "object-store", _path(name), headers=headers)
    return page.done(f"Container {name} is now {said}.", _back(page, name))


@panel(back="/containers")
async def upload(page: Page) -> Response:
    name = page.request.path_params["container"]
    upload = page.form.files.get("file")
    if upload is None:
        raise ApiError(400, "Choose a file to upload.")
    object_name = page.form.get("prefix") + (page.form.get("object_name") or upload.filename.rsplit("/", 1)[-1])

    async def body():
        while chunk := await upload.read(CHUNK):
            yield chunk

    headers = {"Content-Type": upload.content_type or "application/octet-stream"}
    if upload.size is not None:
        headers["Content-Length"] = str(upload.size)
    await page.cloud.call("PUT", "object-store", _path(name, object_name), content=body(), headers=headers)
    return page.done(f"Uploaded {object_name}.", _back(page, name))


@panel(back="/containers")
async def create_folder(page: Page) -> Response:
    name, folder = page.request.path_params["container"], page.form.get("folder").strip("/")
    if not folder:
        raise ApiError(400, "A folder needs a name.")
    await page.cloud.call("PUT", "object-store", _path(name, page.form.get("prefix") + folder + "/"), content=b"",
                          headers={"Content-Type": "application/directory"})
    return page.done(f"Folder {folder} created.", _back(page, name))


@panel(back="/containers")
async def delete_object(page: Page) -> Response:
    name, obj = page.request.path_params["container"], page.form.get("object")
    await page.cloud.delete("object-store", _path(name, obj))
    return page.done(f"Deleted {obj}.", _back(page, name))


@panel(back="/containers")
async def tempurl(page: Page) -> Response:
    """A temporary URL for one object (GET, SHA-256), signed with the account's ``Temp-URL-Key`` as
    ``swift tempurl`` signs one; an account without a key is given a random one first."""
    name, obj = page.request.path_params["container"], page.form.get("object")
    lifetime = page.form.get("lifetime")
    if not obj or lifetime not in TEMPURL_LIFETIMES:
        raise ApiError(400, "A temporary URL needs an object and one of the offered lifetimes.")
    account = await page.cloud.call("HEAD", "object-store", "")
    key = account.headers.get("x-account-meta-temp-url-key")
    made_key = key is None
    if made_key:
        key = secrets.token_hex(24)
        await page.cloud.call("POST", "object-store", "", headers={"X-Account-Meta-Temp-URL-Key": key})
    await page.cloud.call("HEAD", "object-store", _path(name, obj))  # the object is there (and ours)
    endpoint = page.cloud.endpoints["object-store"]
    expires = int(time.time()) + int(lifetime)
    signed_path = urlsplit(endpoint).path + f"/{name}/{obj}"
    signature = hmac.new(key.encode(), f"GET\n{expires}\n{signed_path}".encode(), hashlib.sha256).hexdigest()
    url = f"{endpoint}{_path(name, obj)}?temp_url_sig={signature}&temp_url_expires={expires}"
    return page.render("tempurl.html", title="Temporary URL", container=name, object=obj, url=url,
                       lifetime=TEMPURL_LIFETIMES[lifetime], made_key=made_key, prefix=page.form.get("prefix"))


@panel()
async def download(page: Page) -> Response:
    """The object's bytes as an attachment of a neutral type: never rendered in the dashboard's origin."""
    name, obj = page.request.path_params["container"], page.request.query_params.get("object", "")
    if not obj:
        raise ApiError(400, "Which object? (?object=name)")
    resp = await page.cloud.open("object-store", _path(name, obj))
    filename = obj.rsplit("/", 1)[-1] or "download"
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
               "Cache-Control": "no-store"}
    if "content-length" in resp.headers:
        headers["Content-Length"] = resp.headers["content-length"]

    async def relay():
        try:
            async for chunk in resp.aiter_bytes(CHUNK):
                yield chunk
        finally:
            await resp.aclose()

    return StreamingResponse(relay(), media_type="application/octet-stream", headers=headers)


def routes() -> list[Route]:
    return [Route("/containers", containers, methods=["GET"]), Route("/containers", create_container, methods=["POST"]),
            Route("/containers/{container}", container, methods=["GET"]),
            Route("/containers/{container}/delete", delete_container, methods=["POST"]),
            Route("/containers/{container}/access", container_access, methods=["POST"]),
            Route("/containers/{container}/upload", upload, methods=["POST"]),
            Route("/containers/{container}/folder", create_folder, methods=["POST"]),
            Route("/containers/{container}/delete-object", delete_object, methods=["POST"]),
            Route("/containers/{container}/tempurl", tempurl, methods=["POST"]),
            Route("/containers/{container}/download", download, methods=["GET"])]
