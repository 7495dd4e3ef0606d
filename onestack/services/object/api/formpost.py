"""Form posts over HTTP: the form read as it streams in, its fields before its files, each file written as
an object as it arrives; the answer is Swift's (a plain status, or a 303 to the form's ``redirect``)."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Iterator
from urllib.parse import quote

from starlette.responses import Response

from onestack.http import errors, formdata
from onestack.services.object import schemas, views
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.service import ObjectSpec, formpost, tempurl


class _TooLarge(Exception):
    pass


def is_form(req: Swift) -> bool:
    """A POST of a form to a container or a prefix in it: formpost's to answer, whoever sends it."""
    return req.method == "POST" and req.level != "account" and \
        formdata.boundary_of(req.headers.get("content-type")) is not None


def post(req: Swift) -> Response:
    container = req.svc.find_container(req.account, req.container)
    keys = tempurl.keys(req.svc.account(req.account).meta, container.meta if container else {})
    paths = [req.path, req.call.request.scope.get("root_path", "") + req.path]
    fields: dict[str, str] = {}
    status, message, failed = 0, "", b""
    count = 0
    try:
        for headers, body in formdata.Reader(req.call.chunks(), formdata.boundary_of(req.headers["content-type"])).parts():
            kind, attrs = formdata.params(headers.get("content-disposition", ""))
            if kind == "form-data" and attrs.get("filename"):
                count += 1
                if count > formpost.integer(fields, "max_file_count"):
                    status, message = 400, "max file count exceeded"
                    break
                form = formpost.check(fields, keys, paths)
                status, failed = _upload(req, form, fields, attrs["filename"], headers, body)
                if status >= 300:
                    break
            elif "name" in attrs:
                fields[attrs["name"].lower()] = _value(body)
    except formdata.Invalid:
        raise formpost.invalid("invalid starting boundary") from None
    if not status:
        status, message = 400, "no files to process"
    return _answer(fields.get("redirect"), status, message, failed)


def _value(body: Iterator[bytes]) -> str:
    """A field's value: its first ``VALUE_LIMIT`` bytes (the rest is skipped)."""
    data = bytearray()
    for chunk in body:
        if len(data) < formpost.VALUE_LIMIT:
            data += chunk[:formpost.VALUE_LIMIT - len(data)]
    return data.decode("utf-8", "replace")


def _capped(body: Iterator[bytes], limit: int) -> Iterator[bytes]:
    size = 0
    for chunk in body:
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        yield chunk


def _upload(req: Swift, form: formpost.Form, fields: dict[str, str], filename: str, headers: dict[str, str],
            body: Iterator[bytes]) -> tuple[int, bytes]:
    """Write one file of the form as ``<prefix><filename>``: (the status its PUT would answer, its error page)."""
    name = (req.obj or "") + filename
    content_type = fields.get("content-type", headers.get("content-type"))
    if content_type is None:
        content_type = mimetypes.guess_type(name)[0]
    meta = {}
    encoding = fields.get("content-encoding", headers.get("content-encoding"))
    if encoding:
        meta["Content-Encoding"] = encoding
    try:
        if "\x00" in name:
            raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
        schemas.check_name("Object", name, schemas.MAX_OBJECT_NAME_LENGTH)
        if form.delete_at is not None and form.delete_at < time.time():
            raise errors.BadRequest("X-Delete-At in past")
        spec = ObjectSpec(content_type=content_type or "application/octet-stream", meta=meta,
                          delete_at=form.delete_at)
        req.svc.put_object(req.account, req.container, name, _capped(body, form.max_file_size), spec)
    except _TooLarge:
        raise formpost.invalid("max_file_size exceeded") from None
    except errors.APIError as err:
        return err.status, views.fault(err).body
    return 201, b""


def _answer(redirect: str | None, status: int, message: str, failed: bytes) -> Response:
    if not redirect:
        text = views.status_line(status) + (f"\r\nFormPost: {message.title()}" if message else "")
        return reply(status, body=failed if status >= 300 and failed else text.encode(),
                     content_type="text/plain; charset=UTF-8")
    location = f"{redirect}{'&' if '?' in redirect else '?'}status={status}&message={quote(message)}"
    body = f'<html><body><p><a href="{location}">Click to continue...</a></p></body></html>'.encode()
    return reply(303, {"Location": location}, body)
