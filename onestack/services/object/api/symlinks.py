"""Symlinks over HTTP: the PUT that makes one, the walk a GET, HEAD or copy takes through them (each hop
authorized as a read of its own), and the 307 a POST to one answers."""

from __future__ import annotations

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object import views
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.models import SYMLINK_BYTES, SYMLINK_ETAG, Object
from onestack.services.object.service import ObjectSpec, symlinks


def _lookup(req: Swift) -> symlinks.Lookup:
    def lookup(target: symlinks.Target) -> Object:
        req.authorize("read", target.account, target.container)
        return req.svc.object(target.account, target.container, target.name)
    return lookup


def follow(req: Swift, account: str, obj: Object) -> tuple[str, Object, str | None]:
    """What ``obj`` reads as: (account, row, ``Content-Location``) of the object at the end of its links."""
    return symlinks.walk(_lookup(req), account, obj)


def put(req: Swift) -> Response:
    """PUT with ``X-Symlink-Target``: a zero-byte object naming its target (pinned to its ETag when
    ``X-Symlink-Target-Etag`` is given, the target checked now)."""
    req.authorize("write")
    if req.temp_url:
        raise errors.BadRequest("Symlinks cannot be created with a temp URL")
    if "x-copy-from" in req.headers or req.headers.get("content-length", "0") not in ("0", "") or \
            any(chunk for chunk in req.call.chunks()):  # stops at the first byte
        raise errors.BadRequest("Symlink requests require a zero byte body")
    target, etag = symlinks.parse(req.headers, req.account, req.container, req.obj)
    meta = {**req.object_meta(), **symlinks.sysmeta(target, req.account)}
    content_type = req.headers.get("content-type", "").strip()
    if etag is not None:
        lookup = _lookup(req)
        try:
            first = lookup(target)
        except errors.NotFound:
            raise errors.Conflict("X-Symlink-Target does not exist",
                                  headers={"Content-Location": target.path}) from None
        _, final, _ = symlinks.walk(lookup, target.account, first, expected=etag, follow_dynamic=False,
                                    location=target.path)
        meta.update({SYMLINK_ETAG: etag, SYMLINK_BYTES: str(final.size)})
        content_type = content_type or final.content_type
    spec = ObjectSpec(content_type=content_type or symlinks.DEFAULT_TYPE, meta=meta, delete_at=req.delete_at(),
                      if_none_match=req.if_none_match_star())
    obj = req.svc.put_object(req.account, req.container, req.obj, iter(()), spec, length=0)
    headers = {"ETag": obj.etag, "Last-Modified": views.http_date(obj.timestamp)}
    if etag is not None:
        headers["X-Symlink-Target-Etag"] = etag
    return reply(201, headers)


def redirect(req: Swift, obj: Object) -> Response:
    """A POST landed on a symlink: it changed the link's metadata; the answer points at the target."""
    target = symlinks.target_of(obj, req.account)
    headers = {"Location": target.path, **{k: v for k, v in symlinks.shown(obj).items()
                                          if k == "X-Symlink-Target-Etag"}}
    body = b"The requested POST was applied to a symlink. POST directly to the target to apply requested metadata."
    return reply(307, headers, body, content_type="text/plain; charset=UTF-8")
