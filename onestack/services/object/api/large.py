"""Static large objects over HTTP: ``?multipart-manifest=put`` keeps a manifest, ``=get`` shows it,
``=delete`` removes it with its segments."""

from __future__ import annotations

import hashlib

import orjson
from starlette.responses import Response

from onestack.services.object import views
from onestack.services.object.api import bulk
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.models import Object
from onestack.services.object.service import ObjectSpec, manifest
from onestack.services.object.service.slo import slo_etag

JSON = "application/json; charset=utf-8"


def put(req: Swift) -> Response:
    req.authorize("write")
    wanted = manifest.parse(req.read_body(manifest.MAX_MANIFEST_SIZE,
                                          f"Manifest File > {manifest.MAX_MANIFEST_SIZE} bytes"))
    for container in {w.container for w in wanted}:
        req.authorize("read", req.account, container)
    spec = ObjectSpec(content_type=req.content_type(), meta=req.object_meta(), delete_at=req.delete_at(),
                      etag=req.client_etag(), if_none_match=req.if_none_match_star())
    try:
        obj = req.svc.slo.put(req.account, req.container, req.obj, wanted, spec)
    except manifest.SegmentProblems as exc:
        kind = req.bulk_type()
        return reply(400, body=views.bulk_body(kind, {}, exc.problems, "upload"), content_type=kind)
    return reply(201, {"ETag": f'"{slo_etag(obj)}"', "Last-Modified": views.http_date(obj.timestamp)})


def show(req: Swift, obj: Object, headers: dict) -> Response:
    """The kept manifest (``format=raw``: in the form a client puts it)."""
    entries = req.svc.slo.entries(obj)
    body = orjson.dumps(manifest.raw(entries)) if req.query.get("format") == "raw" else manifest.encode(entries)
    headers.update({"Content-Type": JSON, "ETag": hashlib.md5(body, usedforsecurity=False).hexdigest(),
                    "Content-Length": str(len(body))})
    return Response(b"" if req.method == "HEAD" else body, status_code=200, headers=headers)


def delete(req: Swift, obj: Object) -> Response:
    segments = req.svc.slo.segments(req.account, obj)
    return bulk.delete_paths(req, [*segments, (req.container, req.obj)])
