"""Requests acting on many objects at once, answered with one report (Swift's bulk middleware's shape):
the deletion of a static large object with its segments, ``?bulk-delete`` and ``?extract-archive``.

The report is a 200 whose body carries the outcome (``Response Status``, counts, and each failed item
with its status), in plain text, JSON or XML by ``Accept``; a request that cannot be started at all (an
unknown archive format, too many paths) is a plain 4xx.
"""

from __future__ import annotations

import io
import mimetypes
import tarfile
from collections.abc import Iterator
from urllib.parse import unquote

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object import schemas, views
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.service import ObjectSpec

MAX_DELETES = 10000
MAX_FAILED = 1000
MAX_CONTAINERS = 10000
ARCHIVES = {"tar": "r|", "tar.gz": "r|gz", "tar.bz2": "r|bz2"}
CAPABILITIES = {
    "bulk_delete": {"max_deletes_per_request": MAX_DELETES, "max_failed_deletes": MAX_FAILED},
    "bulk_upload": {"max_containers_per_extraction": MAX_CONTAINERS, "max_failed_extractions": MAX_FAILED},
}


def delete_paths(req: Swift, paths: list[tuple[str, str | None]]) -> Response:
    """Delete each (container, object) of this account (an object of None: the container itself); every
    item is authorized on its own, and a failed one is listed, not fatal."""
    deleted = missing = 0
    problems: list[tuple[str, str]] = []
    for container, name in paths:
        shown = f"/{container}/{name}" if name is not None else f"/{container}"
        try:
            if name is None:
                req.authorize("own", req.account, container)
                req.svc.delete_container(req.account, container)
            else:
                req.authorize("write", req.account, container)
                req.svc.delete_object(req.account, container, name)
            deleted += 1
        except errors.NotFound:
            missing += 1
        except errors.APIError as err:
            problems.append((views.quote_path(shown), views.status_line(err.status)))
            if len(problems) >= MAX_FAILED:
                break
    return report(req, {"Number Deleted": deleted, "Number Not Found": missing}, problems, "delete")


def bulk_delete(req: Swift) -> Response:
    """``?bulk-delete``: the body lists URL-quoted ``/<container>[/<object>]`` paths, one a line."""
    limit = MAX_DELETES * (schemas.MAX_CONTAINER_NAME_LENGTH + schemas.MAX_OBJECT_NAME_LENGTH + 2) * 3
    lines = [line.strip() for line in req.read_body(limit, "Too much to delete").decode("utf-8", "replace").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > MAX_DELETES:
        raise errors.PayloadTooLarge(f"Maximum Bulk Deletes: {MAX_DELETES} per request")
    paths: list[tuple[str, str | None]] = []
    bad: list[tuple[str, str]] = []
    for line in lines:
        path = unquote(line).lstrip("/")
        container, _, name = path.partition("/")
        if not container or "\x00" in path or len(container.encode()) > schemas.MAX_CONTAINER_NAME_LENGTH or \
                len(name.encode()) > schemas.MAX_OBJECT_NAME_LENGTH:
            bad.append((line, views.status_line(400)))
        else:
            paths.append((container, name or None))
    if bad:
        return report(req, {"Number Deleted": 0, "Number Not Found": 0}, bad, "delete")
    return delete_paths(req, paths)


def extract_archive(req: Swift) -> Response:
    """``?extract-archive=tar|tar.gz|tar.bz2``: each regular file of the archive becomes an object under
    the request's path (at the account: the first part of its name is its container)."""
    mode = ARCHIVES.get(req.query.get("extract-archive", ""))
    if mode is None:
        raise errors.BadRequest("Unsupported archive format")
    created, problems, made = 0, [], set()
    body = ""
    try:
        with tarfile.open(fileobj=io.BufferedReader(_Body(req.call.chunks()), 1 << 20), mode=mode) as archive:
            for member in archive:
                if not member.isfile():
                    continue
                try:
                    container, name = _destination(req, member.name)
                    _ensure_container(req, container, made)
                    data = archive.extractfile(member)
                    spec = ObjectSpec(content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                                      meta={})
                    req.svc.put_object(req.account, container, name, iter(lambda d=data: d.read(1 << 20), b""),
                                       spec)
                    created += 1
                except errors.APIError as err:
                    problems.append((views.quote_path(member.name), views.status_line(err.status)))
                    if len(problems) >= MAX_FAILED:
                        break
    except (tarfile.TarError, EOFError, OSError) as exc:
        problems.append(("", views.status_line(400)))
        body = f"Invalid Tar File: {exc}"
    return report(req, {"Number Files Created": created}, problems, "extract", body, done=201)


def _destination(req: Swift, member: str) -> tuple[str, str]:
    """(container, object) a member's name lands on; 400 for a name that would climb out of where it was
    sent (``..``), a NUL, or a name too long."""
    parts = [p for p in member.split("/") if p not in ("", ".")]
    if ".." in parts or "\x00" in member or not parts:
        raise errors.BadRequest()
    base = [req.container] if req.container else []
    if req.obj and req.obj.strip("/"):
        base.append(req.obj.strip("/"))
    path = base + parts
    if len(path) < 2:
        raise errors.BadRequest()
    container, name = path[0], "/".join(path[1:])
    schemas.check_name("Container", container, schemas.MAX_CONTAINER_NAME_LENGTH)
    schemas.check_name("Object", name, schemas.MAX_OBJECT_NAME_LENGTH)
    return container, name


def _ensure_container(req: Swift, container: str, made: set[str]) -> None:
    if container in made:
        return
    if req.svc.find_container(req.account, container) is None:
        if len(made) >= MAX_CONTAINERS:
            raise errors.BadRequest()
        req.authorize("own", req.account, container)
        req.svc.put_container(req.account, container, {})
    req.authorize("write", req.account, container)
    made.add(container)


class _Body(io.RawIOBase):
    """The request body as a file, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def report(req: Swift, fields: dict, problems: list[tuple[str, str]], root: str, body: str = "",
           done: int = 200) -> Response:
    """200, with the outcome inside: ``Response Status`` is ``done``, or 400 when any item failed (as Swift
    answers)."""
    status = views.status_line(400 if problems or body else done)
    fields = {**fields, "Response Status": status, "Response Body": body}
    problems = [p for p in problems if p[0]]
    kind = req.bulk_type()
    return reply(200, body=views.bulk_body(kind, fields, problems, root), content_type=kind)
