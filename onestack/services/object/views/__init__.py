"""Rows as Swift shows them: response headers, listings in plain text, JSON and XML, and error pages."""

from __future__ import annotations

import datetime
import email.utils
import math
from http import HTTPStatus
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import orjson
from starlette.responses import Response

from onestack.http.errors import APIError
from onestack.services.object.models import (
    SYMLINK_ACCOUNT,
    SYMLINK_BYTES,
    SYMLINK_ETAG,
    SYMLINK_TARGET,
    SYSMETA,
    Account,
    Container,
    Object,
)
from onestack.services.object.public import Listed, Subdir

# swob's explanations, which Swift puts in its HTML error pages.
EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    411: "Length Required",
    412: "A precondition for this request was not met.",
    413: "The body of your request was too large for this server.",
    416: "The Range requested is not available.",
    422: "Unable to process the contained instructions",
    500: "The server has either erred or is incapable of performing the requested operation.",
    503: "The server is currently unavailable. Please try again at a later time.",
}
DEFAULT_MESSAGES = {"The request you have made requires authentication."}
HTML = "text/html; charset=UTF-8"
PLAIN = "text/plain; charset=utf-8"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8", "plain": PLAIN}
# Headers only an account's operators see.
OWNER_ONLY = frozenset({"X-Container-Read", "X-Container-Write", "X-Account-Meta-Temp-Url-Key",
                        "X-Account-Meta-Temp-Url-Key-2", "X-Container-Meta-Temp-Url-Key",
                        "X-Container-Meta-Temp-Url-Key-2"})
BULK_TYPES = ("text/plain", "application/json", "application/xml", "text/xml")
CONTAINER_SYSMETA = "X-Container-Sysmeta-"


def fault(err: APIError, headers: dict | None = None) -> Response:
    """Swift's error page: its standard HTML, or the plain reason when there is a specific one."""
    phrase = "Internal Error" if err.status == 500 else HTTPStatus(err.status).phrase
    standard = err.message == HTTPStatus(err.status).description or err.message in DEFAULT_MESSAGES
    if standard or err.status == 500:
        body = f"<html><h1>{phrase}</h1><p>{EXPLANATIONS.get(err.status, phrase)}</p></html>"
    else:
        body = err.message
    return Response(body.encode(), status_code=err.status, headers={**(headers or {}), "Content-Type": HTML})


def timestamp(value: float) -> str:
    """X-Timestamp: seconds with five decimals, zero-padded to sixteen characters as Swift writes it."""
    return f"{value:016.05f}"


def http_date(value: float) -> str:
    """Last-Modified: whole seconds, rounded up (Swift's rule, which conditional requests compare with)."""
    return email.utils.formatdate(math.ceil(value), usegmt=True)


EPOCH = datetime.datetime(1970, 1, 1)


def iso(value: float) -> str:
    """A listing's last_modified (UTC, microseconds).  Added to the naive epoch rather than through
    ``fromtimestamp(value, UTC).strftime``: the same string, a quarter of the cost, which is a third of a
    1,000-name listing's time (make bench)."""
    return (EPOCH + datetime.timedelta(seconds=value)).isoformat(timespec="microseconds")


def account_headers(account: Account, owner: bool) -> dict[str, str]:
    headers = {
        "X-Account-Container-Count": str(account.container_count),
        "X-Account-Object-Count": str(account.object_count),
        "X-Account-Bytes-Used": str(account.bytes_used),
        "X-Account-Storage-Policy-Policy-0-Container-Count": str(account.container_count),
        "X-Account-Storage-Policy-Policy-0-Object-Count": str(account.object_count),
        "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(account.bytes_used),
        "X-Timestamp": timestamp(account.created_at),
        "X-Put-Timestamp": timestamp(account.put_timestamp),
    }
    headers.update((k, v) for k, v in account.meta.items() if owner or k not in OWNER_ONLY)
    return headers


def container_headers(container: Container, owner: bool) -> dict[str, str]:
    headers = {
        "X-Container-Object-Count": str(container.object_count),
        "X-Container-Bytes-Used": str(container.bytes_used),
        "X-Timestamp": timestamp(container.created_at),
        "X-Put-Timestamp": timestamp(container.put_timestamp),
        "Last-Modified": http_date(container.put_timestamp),
        "X-Storage-Policy": "Policy-0",
        "Accept-Ranges": "bytes",
    }
    for key, value in container.meta.items():
        # ACLs and temp URL keys are the owner's business (Swift hides them from those the ACLs let in)
        if (owner or key not in OWNER_ONLY) and not key.startswith(CONTAINER_SYSMETA):
            headers[key] = value
    return headers


def object_headers(obj: Object) -> dict[str, str]:
    headers = {
        "Content-Type": obj.content_type,
        "ETag": obj.etag,
        "Last-Modified": http_date(obj.timestamp),
        "X-Timestamp": timestamp(obj.timestamp),
        "Accept-Ranges": "bytes",
    }
    headers.update((k, v) for k, v in obj.meta.items() if not k.startswith(SYSMETA))
    if obj.delete_at is not None:
        headers["X-Delete-At"] = str(obj.delete_at)
    return headers


def _symlink_fields(entry: Listed, account: str) -> dict:
    """What a JSON listing adds for a symlink: ``symlink_path``, and for a static link ``symlink_etag`` and
    ``symlink_bytes`` (the stored text is searched before it is decoded: most entries are no link)."""
    if not isinstance(entry, Listed) or not entry.meta_json or SYMLINK_TARGET not in entry.meta_json:
        return {}
    meta = entry.meta
    fields = {"symlink_path": f"/v1/{meta.get(SYMLINK_ACCOUNT) or quote(account)}/{meta[SYMLINK_TARGET]}"}
    if SYMLINK_ETAG in meta:
        fields.update(symlink_etag=meta[SYMLINK_ETAG], symlink_bytes=int(meta.get(SYMLINK_BYTES, 0)))
    return fields


def container_listing(account: str, container: str, entries: list, fmt: str) -> bytes:
    if fmt == "json":
        return orjson.dumps([{"subdir": e.name} if isinstance(e, Subdir) else {
            "name": e.name, "hash": e.etag.strip('"'), "bytes": e.size, "content_type": e.content_type,
            "last_modified": iso(e.timestamp), **_symlink_fields(e, account)} for e in entries])
    if fmt == "xml":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<container name={quoteattr(container)}>']
        for e in entries:
            if isinstance(e, Subdir):
                parts.append(f"<subdir name={quoteattr(e.name)}><name>{escape(e.name)}</name></subdir>")
            else:
                etag = e.etag.strip('"')
                parts.append(f"<object><name>{escape(e.name)}</name><hash>{etag}</hash>"
                             f"<bytes>{e.size}</bytes><content_type>{escape(e.content_type)}</content_type>"
                             f"<last_modified>{iso(e.timestamp)}</last_modified></object>")
        parts.append("</container>")
        return "".join(parts).encode()
    return "".join(e.name + "\n" for e in entries).encode()


def versions_listing(container: str, account: str, entries: list, fmt: str) -> bytes:
    """A listing of versions (``?versions``): each entry's ``version_id`` and ``is_latest`` besides the rest."""
    if fmt == "json":
        return orjson.dumps([{"subdir": e.name} if isinstance(e, Subdir) else {
            "name": e.entry.name, "hash": e.entry.etag.strip('"'), "bytes": e.entry.size,
            "content_type": e.entry.content_type, "last_modified": iso(e.entry.timestamp),
            "version_id": e.version_id, "is_latest": e.is_latest, **_symlink_fields(e.entry, account)}
            for e in entries])
    if fmt == "xml":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<container name={quoteattr(container)}>']
        for e in entries:
            if isinstance(e, Subdir):
                parts.append(f"<subdir name={quoteattr(e.name)}><name>{escape(e.name)}</name></subdir>")
                continue
            o = e.entry
            parts.append(f"<object><name>{escape(o.name)}</name><hash>{o.etag.strip(chr(34))}</hash>"
                         f"<bytes>{o.size}</bytes><content_type>{escape(o.content_type)}</content_type>"
                         f"<last_modified>{iso(o.timestamp)}</last_modified><version_id>{e.version_id}"
                         f"</version_id><is_latest>{str(e.is_latest).lower()}</is_latest></object>")
        parts.append("</container>")
        return "".join(parts).encode()
    return "".join((e.name if isinstance(e, Subdir) else e.entry.name) + "\n" for e in entries).encode()


def account_listing(account: str, entries: list, fmt: str) -> bytes:
    if fmt == "json":
        return orjson.dumps([{"subdir": e.name} if isinstance(e, Subdir) else {
            "name": e.name, "count": e.object_count, "bytes": e.bytes_used,
            "last_modified": iso(e.put_timestamp)} for e in entries])
    if fmt == "xml":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<account name={quoteattr(account)}>']
        for e in entries:
            if isinstance(e, Subdir):
                parts.append(f"<subdir name={quoteattr(e.name)}><name>{escape(e.name)}</name></subdir>")
            else:
                parts.append(f"<container><name>{escape(e.name)}</name><count>{e.object_count}</count>"
                             f"<bytes>{e.bytes_used}</bytes><last_modified>{iso(e.put_timestamp)}"
                             f"</last_modified></container>")
        parts.append("</account>")
        return "".join(parts).encode()
    return "".join(e.name + "\n" for e in entries).encode()


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def quote_path(path: str) -> str:
    # surrogateescape: a tar member's name that was not UTF-8 is reported with its own bytes (%FF)
    return quote(path, safe="/", errors="surrogateescape")


def bulk_body(content_type: str, fields: dict, problems: list[tuple[str, str]], root: str) -> bytes:
    """The report of a request acting on many objects (SLO, bulk delete, extract-archive): ``fields``
    and the ``(name, status)`` of each failure, in the type the client accepts (one of ``BULK_TYPES``)."""
    if content_type == "application/json":
        return orjson.dumps({**fields, "Errors": [list(p) for p in problems]})
    if content_type.endswith("/xml"):
        parts = [f"<{root}>\n"]
        for key in sorted(fields):
            tag = key.replace(" ", "_").lower()
            parts.append(f"<{tag}>{escape(str(fields[key]))}</{tag}>\n")
        parts.append("<errors>\n")
        parts += [f"<object><name>{escape(n)}</name><status>{escape(st)}</status></object>\n" for n, st in problems]
        parts.append(f"</errors>\n</{root}>\n")
        return "".join(parts).encode()
    lines = [f"{key}: {fields[key]}\n" for key in sorted(fields)] + ["Errors:\n"]
    lines += [f"{name}, {status}\n" for name, status in problems]
    return "".join(lines).encode()
