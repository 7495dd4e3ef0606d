"""An object: upload (PUT, also as a copy), download (GET with ranges), HEAD, metadata (POST), COPY, DELETE."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote, unquote

from starlette.responses import Response, StreamingResponse

from onestack.http import errors
from onestack.services.object import schemas, views
from onestack.services.object.api import conditions, large, symlinks
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.models import SYMLINK_TARGET, Object
from onestack.services.object.service import ObjectSpec, tempurl, versioning
from onestack.services.object.service.slo import is_slo, slo_etag
from onestack.services.object.service.symlinks import shown as symlink_headers

SMALL = 1 << 20  # read whole and checked before the response starts


def _meta_headers(req: Swift) -> ObjectSpec:
    return ObjectSpec(content_type=req.content_type(), meta=req.object_meta(), delete_at=req.delete_at())


def _version_id(req: Swift) -> str | None:
    """The ``version-id`` the request names (normal form), None when it names none; 400 on a PUT or POST."""
    if "version-id" not in req.query:
        return None
    if req.method in ("PUT", "POST"):
        raise errors.BadRequest(f"{req.method} to a specific version is not allowed")
    return versioning.normal(req.query["version-id"])


def _versioned(headers: dict[str, str], obj) -> dict[str, str]:
    if versioning.VERSION_ID in obj.meta:
        headers["X-Object-Version-Id"] = obj.meta[versioning.VERSION_ID]
    return headers


def put(req: Swift) -> Response:
    _version_id(req)
    if req.query.get("multipart-manifest") == "put":
        return large.put(req)
    if "x-static-large-object" in req.headers:
        raise errors.BadRequest("X-Static-Large-Object is a reserved header. To create a static large object "
                                "add query param multipart-manifest=put.")
    if "x-symlink-target" in req.headers:
        return symlinks.put(req)
    if "x-copy-from" in req.headers:
        return _copy_into(req, req.account, req.container, req.obj, *_source_of(req))
    req.authorize("write")
    length = req.headers.get("content-length")
    chunked = "chunked" in req.headers.get("transfer-encoding", "").lower()
    if length is None and not chunked:
        raise errors.LengthRequired("Missing Content-Length header.")
    if length is not None and not chunked:
        if not length.isdigit():
            raise errors.BadRequest("Invalid Content-Length header.")
        if int(length) > schemas.MAX_FILE_SIZE:
            raise errors.PayloadTooLarge("Your request is too large.")
    spec = _meta_headers(req)
    spec.etag = req.client_etag()
    spec.if_none_match = req.if_none_match_star()
    obj = req.svc.put_object(req.account, req.container, req.obj, req.call.chunks(), spec,
                             length=None if chunked else int(length))
    return reply(201, _versioned({"ETag": obj.etag, "Last-Modified": views.http_date(obj.timestamp)}, obj))


def _source_of(req: Swift) -> tuple[str, str, str]:
    """X-Copy-From (and X-Copy-From-Account): ``<container>/<object>``, URL-quoted as the client sent it."""
    source = unquote(req.headers["x-copy-from"]).lstrip("/")
    container, _, name = source.partition("/")
    if not container or not name:
        raise errors.PreconditionFailed("X-Copy-From header must be of the form <container name>/<object name>")
    return req.headers.get("x-copy-from-account", req.account), container, name


def copy(req: Swift) -> Response:
    """COPY: this object to ``Destination`` (``<container>/<object>``, in ``Destination-Account`` if given)."""
    destination = unquote(req.headers.get("destination", "")).lstrip("/")
    container, _, name = destination.partition("/")
    if not container or not name:
        raise errors.PreconditionFailed("Destination header must be of the form <container name>/<object name>")
    account = req.headers.get("destination-account", req.account)
    return _copy_into(req, account, container, name, req.account, req.container, req.obj)


def _copy_into(req: Swift, account: str, container: str, name: str,
               src_account: str, src_container: str, src_name: str) -> Response:
    if req.headers.get("content-length", "0") not in ("0", ""):
        raise errors.BadRequest("Copy requests require a zero byte body")
    schemas.check_name("Object", name, schemas.MAX_OBJECT_NAME_LENGTH)
    req.authorize("read", src_account, src_container)
    req.authorize("write", account, container)
    version_id = _version_id(req) if req.method == "COPY" else None
    source = req.svc.object(src_account, src_container, src_name) if version_id is None else \
        req.svc.version(src_account, src_container, src_name, version_id)
    link = {}  # a symlink copied as itself (``?symlink=get``) keeps its target
    if SYMLINK_TARGET in source.meta:
        if req.query.get("symlink") == "get":
            link = {k: v for k, v in source.meta.items() if k.startswith("X-Object-Sysmeta-Symlink-")}
        else:
            src_account, source, _ = symlinks.follow(req, src_account, source)
    fresh = req.headers.get("x-fresh-metadata", "").lower() in ("true", "1", "yes", "on")
    # a copy holds the bytes, not the manifest
    meta = {} if fresh else {k: v for k, v in source.meta.items()
                             if not schemas.is_system(k) and k != "X-Object-Manifest"}
    meta = {**schemas.check_meta({**meta, **req.object_meta()}, "object"), **link}
    content_type = req.headers.get("content-type") or source.content_type
    spec = ObjectSpec(content_type=content_type, meta=meta, delete_at=req.delete_at(),
                      if_none_match=req.if_none_match_star())
    obj = req.svc.copy_object(source, src_account, account, container, name, spec)
    headers = {"ETag": obj.etag, "Last-Modified": views.http_date(obj.timestamp),
               "X-Copied-From": quote(f"{src_container}/{src_name}"),
               "X-Copied-From-Last-Modified": views.http_date(source.timestamp)}
    if src_account != account:
        headers["X-Copied-From-Account"] = quote(src_account)
    if version_id is not None:
        headers["X-Copied-From-Version-Id"] = version_id
    _versioned(headers, obj)
    # Swift answers a copy with the new object's user metadata, so a client sees what it got
    headers.update({k: v for k, v in obj.meta.items() if k.startswith("X-Object-Meta-")})
    return reply(201, headers)


def _answering(req: Swift) -> tuple[str, Object, dict[str, str]]:
    """What a GET or HEAD answers with: (its account, its row, its headers): the object, the version
    ``version-id`` names, or what a symlink leads to (``Content-Location`` saying where)."""
    version_id = _version_id(req)
    account, location = req.account, None
    if version_id is None:
        obj = req.svc.object(req.account, req.container, req.obj)
    else:
        obj = req.svc.version(req.account, req.container, req.obj, version_id)
    if SYMLINK_TARGET in obj.meta and req.query.get("symlink") != "get":
        account, obj, location = symlinks.follow(req, account, obj)
    headers = _versioned({**views.object_headers(obj), **symlink_headers(obj)}, obj)
    if version_id == versioning.NULL:
        headers["X-Object-Version-Id"] = versioning.NULL
    if location is not None:
        headers["Content-Location"] = location
    if req.temp_url:
        headers = tempurl.shown(headers)
        shown_as = tempurl.disposition(req.query, req.obj, headers.get("Content-Disposition"))
        if shown_as:
            headers["Content-Disposition"] = shown_as
    return account, obj, headers


def get(req: Swift) -> Response:
    req.authorize("read")
    account, obj, headers = _answering(req)
    size = obj.size

    def read(start: int, end: int) -> Iterator[bytes]:
        return req.svc.read(obj, start, end)

    as_manifest = req.query.get("multipart-manifest") == "get"
    if is_slo(obj) and as_manifest:
        return large.show(req, obj, headers)
    found = None
    if is_slo(obj) and req.method == "HEAD":
        headers["ETag"] = f'"{slo_etag(obj)}"'  # the row holds the whole's size: a HEAD reads no segment
    elif not as_manifest:
        found = req.svc.assembly(account, obj)
    if found is not None:
        for container in found.containers:
            req.authorize("read", account, container)
        size, headers["ETag"] = found.size, found.etag

        def read(start: int, end: int) -> Iterator[bytes]:
            return req.svc.read_pieces(found.pieces, start, end)

    failed = conditions.evaluate(req.headers, headers["ETag"], obj.timestamp)
    if failed == 304:
        return Response(status_code=304, headers={k: headers[k] for k in ("ETag", "Last-Modified", "X-Timestamp")})
    if failed == 412:
        raise errors.PreconditionFailed()
    if req.method == "HEAD":
        return reply(200, {**headers, "Content-Length": str(size)}, content_type=obj.content_type)
    wanted = conditions.ranges(req.headers.get("range"), size)
    if wanted is None:
        return _body(read, 200, headers, 0, size - 1)
    if len(wanted) == 1:
        start, end = wanted[0]
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return _body(read, 206, headers, start, end)
    return _multirange(read, obj.content_type, size, headers, wanted)


Reader = Callable[[int, int], Iterator[bytes]]


def _body(read: Reader, status: int, headers: dict, start: int, end: int) -> Response:
    headers["Content-Length"] = str(end - start + 1)
    chunks = read(start, end)
    if end - start < SMALL:
        return Response(b"".join(chunks), status_code=status, headers=headers)
    return StreamingResponse(chunks, status_code=status, headers=headers)


def _multirange(read: Reader, content_type: str, size: int, headers: dict, wanted: list[tuple[int, int]]) -> Response:
    """multipart/byteranges: each range a part with its own Content-Type and Content-Range."""
    boundary = uuid.uuid4().hex
    heads = [(f"--{boundary}\r\nContent-Type: {content_type}\r\n"
              f"Content-Range: bytes {start}-{end}/{size}\r\n\r\n").encode() for start, end in wanted]
    tail = f"--{boundary}--".encode()
    length = sum(len(h) + end - start + 1 + 2 for h, (start, end) in zip(heads, wanted, strict=True)) + len(tail)
    parts = [(head, read(start, end)) for head, (start, end) in zip(heads, wanted, strict=True)]

    def body() -> Iterator[bytes]:
        for head, chunks in parts:
            yield head
            yield from chunks
            yield b"\r\n"
        yield tail

    headers.update({"Content-Type": f"multipart/byteranges;boundary={boundary}", "Content-Length": str(length)})
    return StreamingResponse(body(), status_code=206, headers=headers)


def post(req: Swift) -> Response:
    req.authorize("write")
    _version_id(req)
    if "x-symlink-target" in req.headers:
        raise errors.BadRequest("A PUT request is required to set a symlink target")
    content_type = req.headers.get("content-type")
    obj = req.svc.post_object(req.account, req.container, req.obj, content_type, req.object_meta(),
                              req.delete_at())
    if SYMLINK_TARGET in obj.meta:
        return symlinks.redirect(req, obj)
    return reply(202, body=b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>")


def delete(req: Swift) -> Response:
    req.authorize("write")
    version_id = _version_id(req)
    if version_id is not None:
        req.svc.delete_version(req.account, req.container, req.obj, version_id)
        return reply(204, {"X-Object-Version-Id": version_id})
    if req.query.get("multipart-manifest") == "delete":
        obj = req.svc.object(req.account, req.container, req.obj)
        if is_slo(obj):
            return large.delete(req, obj)
    marker = req.svc.delete_object(req.account, req.container, req.obj)
    return reply(204, {"X-Object-Version-Id": marker} if marker else None)


HANDLERS = {"GET": get, "HEAD": get, "PUT": put, "POST": post, "DELETE": delete, "COPY": copy}
