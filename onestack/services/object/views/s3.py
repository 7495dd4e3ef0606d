"""S3's XML bodies: bucket and object listings, multipart results and error documents."""

from __future__ import annotations

import datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from onestack.services.object.models import S3_ETAG, SLO_ETAG, SLO_FLAG, Container, Object
from onestack.services.object.public import Subdir

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML = "application/xml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def iso(value: float) -> str:
    """S3's timestamps: ISO 8601 with milliseconds, in UTC."""
    return datetime.datetime.fromtimestamp(value, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def element(tag: str, value) -> str:
    return f"<{tag}>{escape(str(value))}</{tag}>"


def document(root: str, inner: str) -> bytes:
    return f'{HEAD}<{root} xmlns="{NS}">{inner}</{root}>'.encode()


def error(code: str, message: str, resource: str, request_id: str, extra: dict | None = None) -> bytes:
    fields = "".join(element(k, v) for k, v in (extra or {}).items())
    return (f"{HEAD}<Error>{element('Code', code)}{element('Message', message)}{fields}"
            f"{element('Resource', resource)}{element('RequestId', request_id)}</Error>").encode()


def owner(project_id: str, name: str) -> str:
    return f"<Owner>{element('ID', project_id)}{element('DisplayName', name)}</Owner>"


def buckets(buckets: list[Container], project_id: str, name: str) -> bytes:
    items = "".join(f"<Bucket>{element('Name', b.name)}{element('CreationDate', iso(b.created_at))}</Bucket>"
                    for b in buckets)
    return document("ListAllMyBucketsResult", f"{owner(project_id, name)}<Buckets>{items}</Buckets>")


def etag(obj: Object) -> str:
    """What S3 calls the object's ETag: its MD5, or for one assembled from parts S3's multipart ETag (a
    static large object put through Swift: its SLO ETag)."""
    tag = obj.meta.get(S3_ETAG) or (obj.meta.get(SLO_ETAG) if SLO_FLAG in obj.meta else None)
    return f'"{tag or obj.etag.strip(chr(34))}"'


def objects(bucket: str, entries: list, fields: dict, truncated: bool, url_encoded: bool,
            project: tuple[str, str] | None) -> bytes:
    """ListObjects (V1 and V2): ``fields`` are the request's echoes and the paging markers, in order."""

    def name(value: str) -> str:
        return quote(value, safe="/") if url_encoded else value

    parts = [element("Name", bucket)]
    for key, value in fields.items():
        if value is not None:
            parts.append(element(key, name(value) if key in ("Prefix", "Marker", "NextMarker", "StartAfter",
                                                             "Delimiter") else value))
    parts.append(element("IsTruncated", "true" if truncated else "false"))
    if url_encoded:
        parts.append(element("EncodingType", "url"))
    for entry in entries:
        if isinstance(entry, Subdir):
            continue
        parts.append(f"<Contents>{element('Key', name(entry.name))}{element('LastModified', iso(entry.timestamp))}"
                     f"{element('ETag', etag(entry))}{element('Size', entry.size)}"
                     f"{owner(*project) if project else ''}{element('StorageClass', 'STANDARD')}</Contents>")
    for entry in entries:
        if isinstance(entry, Subdir):
            parts.append(f"<CommonPrefixes>{element('Prefix', name(entry.name))}</CommonPrefixes>")
    return document("ListBucketResult", "".join(parts))


def copied(obj: Object, root: str = "CopyObjectResult") -> bytes:
    return document(root, element("LastModified", iso(obj.timestamp)) + element("ETag", etag(obj)))


def upload_started(bucket: str, key: str, upload_id: str) -> bytes:
    return document("InitiateMultipartUploadResult",
                    element("Bucket", bucket) + element("Key", key) + element("UploadId", upload_id))


def upload_done(location: str, bucket: str, key: str, s3_etag: str) -> bytes:
    return document("CompleteMultipartUploadResult", element("Location", location) + element("Bucket", bucket)
                    + element("Key", key) + element("ETag", f'"{s3_etag}"'))


def parts(bucket: str, key: str, upload_id: str, rows: list[tuple[int, Object]], marker: int, max_parts: int,
          truncated: bool, project: tuple[str, str]) -> bytes:
    items = "".join(f"<Part>{element('PartNumber', n)}{element('LastModified', iso(row.timestamp))}"
                    f"{element('ETag', etag(row))}{element('Size', row.size)}</Part>" for n, row in rows)
    inner = (element("Bucket", bucket) + element("Key", key) + element("UploadId", upload_id)
             + f"<Initiator>{element('ID', project[0])}{element('DisplayName', project[1])}</Initiator>"
             + owner(*project) + element("StorageClass", "STANDARD") + element("PartNumberMarker", marker)
             + (element("NextPartNumberMarker", rows[-1][0]) if rows else "") + element("MaxParts", max_parts)
             + element("IsTruncated", "true" if truncated else "false") + items)
    return document("ListPartsResult", inner)


def uploads(bucket: str, found: list[tuple[str, str, float]], project: tuple[str, str]) -> bytes:
    items = "".join(f"<Upload>{element('Key', key)}{element('UploadId', upload_id)}"
                    f"<Initiator>{element('ID', project[0])}{element('DisplayName', project[1])}</Initiator>"
                    f"{owner(*project)}{element('StorageClass', 'STANDARD')}{element('Initiated', iso(stamp))}"
                    f"</Upload>" for key, upload_id, stamp in found)
    return document("ListMultipartUploadsResult", element("Bucket", bucket) + element("KeyMarker", "")
                    + element("UploadIdMarker", "") + element("MaxUploads", 1000)
                    + element("IsTruncated", "false") + items)


def deleted(keys: list[str], problems: list[tuple[str, str, str]], quiet: bool) -> bytes:
    inner = "" if quiet else "".join(f"<Deleted>{element('Key', k)}</Deleted>" for k in keys)
    inner += "".join(f"<Error>{element('Key', k)}{element('Code', c)}{element('Message', m)}</Error>"
                     for k, c, m in problems)
    return document("DeleteResult", inner)


def location(region: str) -> bytes:
    return f'{HEAD}<LocationConstraint xmlns="{NS}">{escape(region)}</LocationConstraint>'.encode()


def versioning() -> bytes:
    return document("VersioningConfiguration", "")
