"""S3's API over the object store, as Swift's s3api middleware gives it, at ``/s3``: buckets are the
containers of the caller's project's account (path-style, ``/s3/<bucket>/<key>``, or virtual-hosted,
``<bucket>.<one of s3_domains>/<key>``: ``hosts.py``), objects its objects.

Requests are signed (AWS Signature Version 4 or 2, in a header or a presigned URL) with a Keystone EC2
credential; errors are S3's XML documents.
"""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import Response

from onestack.http import errors
from onestack.http.routing import Call, Endpoint, Service
from onestack.services.object.api.s3 import buckets, hosts, objects
from onestack.services.object.api.s3.faults import S3Error, translate
from onestack.services.object.api.s3.request import S3
from onestack.services.object.views import s3 as xml

LOG = logging.getLogger("onestack.object.s3")
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
SERVICE = {"GET": buckets.list_buckets}
BUCKET = {"GET": buckets.get, "HEAD": buckets.head, "PUT": buckets.create, "DELETE": buckets.delete}
OBJECT = {"GET": objects.get, "HEAD": objects.get, "PUT": objects.put, "DELETE": objects.delete,
          "POST": objects.post}
# sub-resources asked for by PUT or POST that are not provided (GETs of bucket ones answer in buckets.get)
UNSUPPORTED = frozenset({*buckets.UNSUPPORTED, "acl", "versioning", "restore", "select", "retention",
                         "legal-hold", "attributes", "torrent"})


def dispatch(call: Call) -> Response:
    req = S3.parse(call)
    if req.bucket is None:
        table = SERVICE
    elif req.key is None:
        table = {**BUCKET, "POST": buckets.delete_objects} if "delete" in req.query else BUCKET
    else:
        table = OBJECT
    handler = table.get(req.method)
    if handler is None:
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.",
                      extra={"Method": req.method, "ResourceType": "OBJECT" if req.key else "BUCKET"})
    if (req.method in ("PUT", "POST") or req.key) and UNSUPPORTED & set(req.query.keys()):
        raise S3Error("NotImplemented", "A header or query you provided implies functionality that is not "
                      "implemented.")
    try:
        response = handler(req)
    except errors.APIError as err:
        raise translate(err) from None
    response.headers["x-amz-request-id"] = req.request_id
    return response


class S3Service(Service):
    """Renders every error as S3's XML error document; takes every request to a host named in
    ``s3_domains`` (virtual-hosted buckets)."""

    def claims(self, scope: dict, settings) -> dict | None:
        bucket = hosts.bucket_of(scope, settings.s3_domains)
        return None if bucket is None else {hosts.BUCKET: bucket, "root_path": ""}

    def fault_content(self) -> dict:
        # S3's XML error document (``xml.error``)
        return {xml.XML: {"schema": {"type": "string"}}}

    def render(self, err: errors.APIError, request: Request | None = None) -> Response:
        err = translate(err)
        request_id = uuid.uuid4().hex[:16].upper()
        resource = request.url.path if request is not None else "/"
        root = request.scope.get("root_path", "") if request is not None else ""
        if root and resource.startswith(root):
            resource = resource[len(root):] or "/"
        body = xml.error(err.kind or "InternalError", err.message, resource, request_id, getattr(err, "extra", None))
        headers = {**err.headers, "x-amz-request-id": request_id, "Content-Type": xml.XML}
        if request is not None and request.method == "HEAD":
            return Response(status_code=err.status, headers=headers)
        return Response(body, status_code=err.status, headers=headers)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        LOG.exception("unexpected error in %s %s", request.method, request.url.path)
        return self.render(S3Error("InternalError", "We encountered an internal error. Please try again."), request)


def service() -> Service:
    return S3Service("s3", "/s3", errors.generic_fault, [
        Endpoint("/", METHODS, dispatch, stream_body=True),
        Endpoint("/{rest:anypath}", METHODS, dispatch, stream_body=True),
    ], bare_prefix=True, token_gate=None)  # each request carries its own signature
