"""S3's service and bucket operations: ListBuckets, Create/Head/Delete bucket, ListObjects (V1 and V2),
DeleteObjects, and the bucket sub-resources clients ask for (location, versioning, uploads, acl)."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object.api.s3 import bodies
from onestack.services.object.api.s3.faults import S3Error
from onestack.services.object.api.s3.request import S3, reply
from onestack.services.object.models import SLO_FLAG
from onestack.services.object.public import Query
from onestack.services.object.service.multipart import SEGMENTS
from onestack.services.object.views import s3 as xml

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_KEYS = 1000
MAX_DELETE = 1000
UNSUPPORTED = ("policy", "cors", "lifecycle", "tagging", "website", "logging", "notification", "replication",
               "encryption", "object-lock", "requestPayment", "accelerate", "analytics", "inventory", "metrics",
               "intelligent-tiering", "ownershipControls", "publicAccessBlock")


def list_buckets(req: S3) -> Response:
    req.authorize("list")
    found, marker = [], ""
    while True:
        page = req.svc.list_containers(req.account, Query(limit=10000, marker=marker))[1]
        found += [c for c in page if not c.name.endswith(SEGMENTS)]
        if len(page) < 10000:
            break
        marker = page[-1].name
    return reply(200, xml.buckets(found, *req.owner))


def create(req: S3) -> Response:
    req.authorize("own")
    if not BUCKET_NAME.match(req.bucket or "") or ".." in req.bucket:
        raise S3Error("InvalidBucketName", "The specified bucket is not valid.", extra={"BucketName": req.bucket})
    body = req.read_body(64 * 1024)
    if body.strip():
        bodies.parse(body)
    if not req.svc.put_container(req.account, req.bucket, {}):
        raise S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and "
                      "you already own it.", extra={"BucketName": req.bucket})
    return reply(200, headers={"Location": f"/{req.bucket}"})


def head(req: S3) -> Response:
    req.authorize("list")
    req.need_bucket()
    return reply(200)


def delete(req: S3) -> Response:
    req.authorize("own")
    req.need_bucket()
    try:
        req.svc.delete_container(req.account, req.bucket)
    except errors.Conflict:
        raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty",
                      extra={"BucketName": req.bucket}) from None
    for key, upload_id, _ in req.svc.multipart.uploads(req.account, req.bucket):
        req.svc.multipart.abort(req.account, req.bucket, key, upload_id)
    try:
        req.svc.delete_container(req.account, req.bucket + SEGMENTS)
    except (errors.NotFound, errors.Conflict):
        pass
    return reply(204)


def get(req: S3) -> Response:
    for name in UNSUPPORTED:
        if name in req.query:
            raise S3Error("NotImplemented", "A header or query you provided implies functionality that is not "
                          "implemented.")
    req.authorize("list")
    req.need_bucket()
    if "location" in req.query:
        return reply(200, xml.location(""))
    if "versioning" in req.query:
        return reply(200, xml.versioning())
    if "acl" in req.query:
        return reply(200, _acl(req))
    if "uploads" in req.query:
        return reply(200, xml.uploads(req.bucket, req.svc.multipart.uploads(req.account, req.bucket), req.owner))
    return list_objects(req)


def list_objects(req: S3) -> Response:
    q = req.query
    v2 = q.get("list-type") == "2"
    try:
        limit = int(q.get("max-keys", MAX_KEYS))
    except ValueError:
        raise S3Error("InvalidArgument", "Provided max-keys not an integer or within integer range") from None
    if limit < 0:
        raise S3Error("InvalidArgument", "Argument max-keys must be an integer between 0 and 2147483647")
    encoding = q.get("encoding-type")
    if encoding not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request")
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    if v2:
        token = q.get("continuation-token")
        marker = _decode_token(token) if token is not None else q.get("start-after", "")
    else:
        marker = q.get("marker", "")
    limit = min(limit, MAX_KEYS)
    # one entry more than asked tells whether the listing goes on
    entries = req.svc.list_objects(req.account, req.bucket, Query(limit=limit + 1, prefix=prefix,
                                                                  delimiter=delimiter, marker=marker))[1]
    truncated = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1].name if entries else None
    if v2:
        fields = {"Prefix": prefix, "Delimiter": delimiter or None, "MaxKeys": limit,
                  "KeyCount": len(entries), "ContinuationToken": q.get("continuation-token"),
                  "NextContinuationToken": _encode_token(last) if truncated and last else None,
                  "StartAfter": q.get("start-after")}
    else:
        fields = {"Prefix": prefix, "Marker": marker, "MaxKeys": limit, "Delimiter": delimiter or None,
                  "NextMarker": last if truncated and delimiter else None}
    owner = req.owner if (not v2 or q.get("fetch-owner") == "true") else None
    return reply(200, xml.objects(req.bucket, entries, fields, truncated, encoding == "url", owner))


def delete_objects(req: S3) -> Response:
    """POST ?delete: up to 1000 keys, each deleted (a missing one too, as S3 counts it) or reported."""
    req.authorize("write")
    req.need_bucket()
    body = req.read_body(2 * 1024 * 1024)
    md5 = req.headers.get("content-md5")
    if md5 is not None and base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode() != md5:
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
    root = bodies.parse(body)
    quiet = (bodies.text(root, "Quiet") or "").lower() == "true"
    keys = [bodies.text(o, "Key") for o in root if bodies.local(o.tag) == "Object"]
    if not keys or len(keys) > MAX_DELETE or any(k is None for k in keys):
        raise bodies.malformed()
    done, problems = [], []
    for key in keys:
        try:
            delete_key(req, key)
            done.append(key)
        except errors.NotFound:
            done.append(key)
        except errors.APIError as err:
            problems.append((key, "AccessDenied" if err.status in (401, 403) else "InternalError", err.message))
    return reply(200, xml.deleted(done, problems, quiet))


def delete_key(req: S3, key: str) -> None:
    """Delete an object; one assembled from parts (a static large object) goes with its segments."""
    obj = req.svc.object(req.account, req.bucket, key)
    if SLO_FLAG in obj.meta:
        for container, name in req.svc.slo.segments(req.account, obj):
            try:
                req.svc.delete_object(req.account, container, name)
            except errors.NotFound:
                pass
    req.svc.delete_object(req.account, req.bucket, key)


def _acl(req: S3) -> bytes:
    project, name = req.owner
    grant = (f'<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
             f"{xml.element('ID', project)}{xml.element('DisplayName', name)}</Grantee>"
             f"{xml.element('Permission', 'FULL_CONTROL')}</Grant>")
    return xml.document("AccessControlPolicy", xml.owner(project, name) + f"<AccessControlList>{grant}</AccessControlList>")


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect") from None
