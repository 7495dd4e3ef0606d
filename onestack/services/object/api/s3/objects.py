"""S3's object operations: Put, Get (ranges, conditions, response overrides), Head, Delete, Copy, and the
multipart upload (create, upload part, complete, abort, list parts)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

from starlette.responses import Response, StreamingResponse

from onestack.http import errors
from onestack.http.numbers import decimal
from onestack.services.object import schemas, views
from onestack.services.object.api import conditions
from onestack.services.object.api.s3 import bodies, buckets
from onestack.services.object.api.s3.faults import S3Error
from onestack.services.object.api.s3.request import S3, reply
from onestack.services.object.models import SLO_FLAG, SYMLINK_TARGET, Object
from onestack.services.object.service import ObjectSpec, symlinks
from onestack.services.object.views import s3 as xml

SMALL = 1 << 20
META, SWIFT_META = "x-amz-meta-", "X-Object-Meta-"
KEPT = {h.lower(): h for h in schemas.OBJECT_HEADERS if h != "X-Object-Manifest"}
OVERRIDES = {"response-content-type": "Content-Type", "response-content-language": "Content-Language",
             "response-expires": "Expires", "response-cache-control": "Cache-Control",
             "response-content-disposition": "Content-Disposition",
             "response-content-encoding": "Content-Encoding"}
MAX_COMPLETE_BODY = 10000 * 200


def _spec(req: S3) -> ObjectSpec:
    """Content type and metadata as S3 sends them (``x-amz-meta-*`` kept as Swift's ``X-Object-Meta-*``)."""
    meta = {}
    for key, value in req.headers.items():
        if key.startswith(META):
            meta[(SWIFT_META + key[len(META):]).title()] = value.strip()
        elif key in KEPT:
            meta[KEPT[key]] = value.strip()
    return ObjectSpec(content_type=req.headers.get("content-type") or "application/octet-stream",
                      meta=schemas.check_meta(meta, "object"))


def put(req: S3) -> Response:
    req.authorize("write")
    req.need_bucket()
    if "x-amz-copy-source" in req.headers:
        if "uploadId" in req.query:
            raise S3Error("NotImplemented", "UploadPartCopy is not implemented.")
        return _copy(req)
    length = req.length()
    if length is None and "chunked" not in req.headers.get("transfer-encoding", ""):
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
    if length is not None and length > schemas.MAX_FILE_SIZE:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
    spec = _spec(req)
    spec.etag = req.content_md5()
    if "uploadId" in req.query:
        try:
            number = int(req.query.get("partNumber", ""))
        except ValueError:
            raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive") from None
        obj = req.svc.multipart.put_part(req.account, req.bucket, req.key, req.query["uploadId"], number,
                                         req.body(), spec, length)
    else:
        obj = req.svc.put_object(req.account, req.bucket, req.key, req.body(), spec, length=length)
    return reply(200, headers={"ETag": xml.etag(obj)})


def _copy(req: S3) -> Response:
    source = unquote(req.headers["x-amz-copy-source"].split("?versionId=", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
    try:
        original = req.svc.object(req.account, bucket, key)
    except errors.NotFound:
        if req.svc.find_container(req.account, bucket) is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist.") from None
        raise S3Error("NoSuchKey", "The specified key does not exist.") from None
    failed = conditions.evaluate({k[len("x-amz-copy-source-"):]: v for k, v in req.headers.items()
                                  if k.startswith("x-amz-copy-source-if-")}, xml.etag(original), original.timestamp)
    if failed is not None:
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
    directive = req.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.")
    if directive == "COPY" and (bucket, key) == (req.bucket, req.key):
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata, storage class, website redirect location "
                      "or encryption attributes.")
    if directive == "REPLACE":
        spec = _spec(req)
    else:
        spec = ObjectSpec(content_type=original.content_type,
                          meta={k: v for k, v in original.meta.items() if not schemas.is_system(k)})
    obj = req.svc.copy_object(original, req.account, req.account, req.bucket, req.key, spec)
    return reply(200, xml.copied(obj))


def get(req: S3) -> Response:
    if "uploadId" in req.query:
        return list_parts(req)
    req.authorize("read")
    req.need_bucket()
    try:
        obj = req.svc.object(req.account, req.bucket, req.key)
        if SYMLINK_TARGET in obj.meta:  # s3api reads through Swift's symlinks too
            obj = symlinks.walk(lambda target: _linked(req, target), req.account, obj)[1]
    except errors.NotFound:
        raise S3Error("NoSuchKey", "The specified key does not exist.", extra={"Key": req.key}) from None
    headers = _headers(obj)
    found = req.svc.assembly(req.account, obj) if (SLO_FLAG in obj.meta or "X-Object-Manifest" in obj.meta) else None
    size = found.size if found is not None else obj.size

    def read(start: int, end: int) -> Iterator[bytes]:
        return req.svc.read_pieces(found.pieces, start, end) if found is not None else req.svc.read(obj, start, end)

    failed = conditions.evaluate(req.headers, headers["ETag"], obj.timestamp)
    if failed == 304:
        return Response(status_code=304, headers={"ETag": headers["ETag"], "Last-Modified": headers["Last-Modified"]})
    if failed == 412:
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                      extra={"Condition": "If-Match"})
    for param, header in OVERRIDES.items():
        if param in req.query:
            headers[header] = req.query[param]
    if req.method == "HEAD":
        return reply(200, headers={**headers, "Content-Length": str(size)})
    wanted = conditions.ranges(req.headers.get("range"), size) if size else None
    if wanted is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = wanted[0], 206  # S3 answers the first range of several
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    if end < start:
        return Response(b"", status_code=status, headers=headers)
    chunks = read(start, end)
    if end - start < SMALL:
        return Response(b"".join(chunks), status_code=status, headers=headers)
    return StreamingResponse(chunks, status_code=status, headers=headers)


def _linked(req: S3, target: symlinks.Target) -> Object:
    """A symlink's target, for an S3 caller: in its own account only (its roles there are its rights)."""
    if target.account != req.account:
        raise S3Error("AccessDenied", "Access Denied")
    return req.svc.object(target.account, target.container, target.name)


def _headers(obj: Object) -> dict[str, str]:
    headers = {"ETag": xml.etag(obj), "Last-Modified": views.http_date(obj.timestamp), "Accept-Ranges": "bytes",
               "Content-Type": obj.content_type}
    for key, value in obj.meta.items():
        if key.startswith(SWIFT_META):
            headers[META + key[len(SWIFT_META):].lower()] = value
        elif key in schemas.OBJECT_HEADERS and key != "X-Object-Manifest":
            headers[key] = value
    if SLO_FLAG in obj.meta and xml.etag(obj).count("-"):
        headers["x-amz-mp-parts-count"] = xml.etag(obj).rsplit("-", 1)[1].strip('"')
    return headers


def delete(req: S3) -> Response:
    req.authorize("write")
    req.need_bucket()
    if "uploadId" in req.query:
        req.svc.multipart.abort(req.account, req.bucket, req.key, req.query["uploadId"])
        return reply(204)
    try:
        buckets.delete_key(req, req.key)
    except errors.NotFound:
        pass  # S3 answers a delete of nothing as a delete
    return reply(204)


def post(req: S3) -> Response:
    req.authorize("write")
    req.need_bucket()
    if "uploads" in req.query:
        upload_id = req.svc.multipart.start(req.account, req.bucket, req.key, _spec(req))
        return reply(200, xml.upload_started(req.bucket, req.key, upload_id))
    if "uploadId" in req.query:
        return _complete(req)
    raise S3Error("NotImplemented", "A header or query you provided implies functionality that is not implemented.")


def _complete(req: S3) -> Response:
    root = bodies.parse(req.read_body(MAX_COMPLETE_BODY))
    wanted = []
    for part in root:
        if bodies.local(part.tag) != "Part":
            continue
        number, etag = bodies.text(part, "PartNumber"), bodies.text(part, "ETag")
        part_number = decimal(number.strip()) if number is not None else None
        if part_number is None or etag is None:
            raise bodies.malformed()
        wanted.append((part_number, etag.strip()))
    _, s3_etag = req.svc.multipart.complete(req.account, req.bucket, req.key, req.query["uploadId"], wanted)
    location = f"{req.call.runtime.base_url(req.call.request)}{req.call.request.scope.get('root_path', '')}{req.resource}"
    return reply(200, xml.upload_done(location, req.bucket, req.key, s3_etag))


def list_parts(req: S3) -> Response:
    req.authorize("read")
    req.need_bucket()
    upload_id = req.query["uploadId"]
    req.svc.multipart.marker(req.account, req.bucket, req.key, upload_id)
    try:
        limit = min(int(req.query.get("max-parts", 1000)), 1000)
        after = int(req.query.get("part-number-marker", 0))
    except ValueError:
        raise S3Error("InvalidArgument", "max-parts and part-number-marker must be integers") from None
    rows = req.svc.multipart.parts(req.account, req.bucket, req.key, upload_id, after, limit + 1)
    truncated = len(rows) > limit
    return reply(200, xml.parts(req.bucket, req.key, upload_id, rows[:limit], after, limit, truncated, req.owner))

