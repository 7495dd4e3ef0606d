"""S3 multipart uploads over the object store, laid out as Swift's s3api lays them out.

An upload lives in the bucket's ``<bucket>+segments`` container: a marker object ``<key>/<upload id>``
holding the upload's content type and metadata, and each part as ``<key>/<upload id>/<part number>``
(zero-padded, so parts list in order).  Completing it puts a static large object at ``<key>`` whose
segments are the parts named, with S3's multipart ETag (MD5 of the parts' MD5s, ``-<count>``) kept
beside it, and drops the marker and the parts not named.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from onestack.http import errors
from onestack.services.object.models import S3_ETAG, SYSMETA, Object
from onestack.services.object.public import Query
from onestack.services.object.service import manifest
from onestack.services.object.service.spec import ObjectSpec

if TYPE_CHECKING:
    from onestack.services.object.service import ObjectService

SEGMENTS = "+segments"
UPLOAD = SYSMETA + "S3-Upload"
MAX_PARTS = 10000
MIN_PART_SIZE = 5 * 1024 * 1024
PAGE = 1000


class UploadError(errors.BadRequest):
    """A multipart request S3 refuses with its own code (``NoSuchUpload``, ``InvalidPart``, ...)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message, kind=code)
        self.status = status


def no_such_upload() -> UploadError:
    return UploadError("NoSuchUpload", "The specified multipart upload does not exist. The upload ID might be "
                       "invalid, or the multipart upload might have been aborted or completed.", 404)


class Multipart:
    def __init__(self, svc: ObjectService):
        self.svc = svc

    def start(self, account: str, bucket: str, key: str, spec: ObjectSpec) -> str:
        self.svc.container(account, bucket)
        segments = bucket + SEGMENTS
        if self.svc.find_container(account, segments) is None:
            self.svc.put_container(account, segments, {})
        upload_id = uuid.uuid4().hex
        spec.meta = {**spec.meta, UPLOAD: "1"}
        self.svc.put_object(account, segments, f"{key}/{upload_id}", [], spec)
        return upload_id

    def marker(self, account: str, bucket: str, key: str, upload_id: str) -> Object:
        if not upload_id or "/" in upload_id:
            raise no_such_upload()
        try:
            found = self.svc.object(account, bucket + SEGMENTS, f"{key}/{upload_id}")
        except errors.NotFound:
            raise no_such_upload() from None
        if UPLOAD not in found.meta:
            raise no_such_upload()
        return found

    def put_part(self, account: str, bucket: str, key: str, upload_id: str, number: int,
                 chunks: Iterable[bytes], spec: ObjectSpec, length: int | None) -> Object:
        if not 1 <= number <= MAX_PARTS:
            raise UploadError("InvalidArgument", f"Part number must be an integer between 1 and {MAX_PARTS}, "
                              "inclusive")
        self.marker(account, bucket, key, upload_id)
        return self.svc.put_object(account, bucket + SEGMENTS, _part_name(key, upload_id, number), chunks, spec,
                                   length=length)

    def parts(self, account: str, bucket: str, key: str, upload_id: str, after: int = 0,
              limit: int = MAX_PARTS) -> list[tuple[int, Object]]:
        """The upload's parts numbered above ``after``, in order, at most ``limit``."""
        prefix = f"{key}/{upload_id}/"
        found, marker = [], _part_name(key, upload_id, after) if after else ""
        while len(found) < limit:
            rows = self.svc.list_objects(account, bucket + SEGMENTS, Query(limit=PAGE, prefix=prefix,
                                                                          marker=marker))[1]
            found += [(int(r.name[len(prefix):]), r) for r in rows if r.name[len(prefix):].isdigit()]
            if len(rows) < PAGE:
                break
            marker = rows[-1].name
        return found[:limit]

    def complete(self, account: str, bucket: str, key: str, upload_id: str,
                 wanted: list[tuple[int, str]]) -> tuple[Object, str]:
        """Put the object the parts ``wanted`` (number, ETag) make; (its row, its S3 ETag)."""
        upload = self.marker(account, bucket, key, upload_id)
        if not wanted:
            raise UploadError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                              "against our published schema.")
        numbers = [n for n, _ in wanted]
        if numbers != sorted(set(numbers)):
            raise UploadError("InvalidPartOrder", "The list of parts was not in ascending order. The parts list "
                              "must be specified in order by part number.")
        have = dict(self.parts(account, bucket, key, upload_id))
        for index, (number, etag) in enumerate(wanted):
            row = have.get(number)
            if row is None or row.etag.strip('"') != etag.strip('"').lower():
                raise UploadError("InvalidPart", "One or more of the specified parts could not be found. The part "
                                  "may not have been uploaded, or the specified entity tag may not match the part's "
                                  "entity tag.")
            if index < len(wanted) - 1 and row.size < MIN_PART_SIZE:
                raise UploadError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                                  "object size.")
        rows = [have[n] for n in numbers]
        digest = hashlib.md5(b"".join(bytes.fromhex(r.etag.strip('"')) for r in rows), usedforsecurity=False)
        s3_etag = f"{digest.hexdigest()}-{len(rows)}"
        meta = {k: v for k, v in upload.meta.items() if k != UPLOAD}
        spec = ObjectSpec(content_type=upload.content_type, meta={**meta, S3_ETAG: s3_etag})
        segments = [manifest.Wanted(bucket + SEGMENTS, r.name, r.etag.strip('"'), r.size, None) for r in rows]
        obj = self.svc.slo.put(account, bucket, key, segments, spec)
        for number, row in have.items():
            if number not in numbers:
                self._drop(account, bucket + SEGMENTS, row.name)
        self._drop(account, bucket + SEGMENTS, upload.name)
        return obj, s3_etag

    def abort(self, account: str, bucket: str, key: str, upload_id: str) -> None:
        upload = self.marker(account, bucket, key, upload_id)
        for _, row in self.parts(account, bucket, key, upload_id):
            self._drop(account, bucket + SEGMENTS, row.name)
        self._drop(account, bucket + SEGMENTS, upload.name)

    def uploads(self, account: str, bucket: str) -> list[tuple[str, str, float]]:
        """(key, upload id, started) of the uploads in progress in ``bucket``."""
        if self.svc.find_container(account, bucket + SEGMENTS) is None:
            return []
        out, marker = [], ""
        while True:
            rows = self.svc.list_objects(account, bucket + SEGMENTS, Query(limit=PAGE, marker=marker))[1]
            out += [(*r.name.rsplit("/", 1), r.timestamp) for r in rows if UPLOAD in r.meta]
            if len(rows) < PAGE:
                return out
            marker = rows[-1].name

    def _drop(self, account: str, container: str, name: str) -> None:
        try:
            self.svc.delete_object(account, container, name)
        except errors.NotFound:
            pass


def _part_name(key: str, upload_id: str, number: int) -> str:
    return f"{key}/{upload_id}/{number:05d}"
