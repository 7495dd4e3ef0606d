"""/v2/images/{id}/file: streaming upload and download (with ranges and Content-MD5)."""

from __future__ import annotations

import re

from starlette.responses import Response, StreamingResponse

from onestack.http.errors import APIError, UnsupportedMediaType
from onestack.http.routing import Call, Reply, route
from onestack.services.image.api.images import images

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _octet_stream(call: Call) -> None:
    content_type = call.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    if content_type != "application/octet-stream":
        raise UnsupportedMediaType(f"Unsupported Content-Type {content_type}; use application/octet-stream.")


def upload(call: Call) -> Reply:
    _octet_stream(call)
    # Glance's multi-store header names the store the data goes to (the default store without it)
    images(call).upload(call.ctx, call.path["image_id"], call.chunks(), call.headers.get("x-image-meta-store"))
    return Reply(status=204)


def stage(call: Call) -> Reply:
    """glance-direct's first half: the data waits in the staging area until the import is asked for."""
    _octet_stream(call)
    images(call).stage(call.ctx, call.path["image_id"], call.chunks())
    return Reply(status=204)


def download(call: Call) -> Response:
    svc = images(call)
    image = svc.readable_data(call.ctx, call.path["image_id"])
    if image.status not in ("active", "deactivated"):
        return Response(status_code=204)  # Glance: an image without data has no content
    size = image.size
    headers = {"Content-Type": "application/octet-stream"}
    start, end, code = 0, size - 1, 200
    wanted = call.headers.get("range")
    if wanted:
        start, end = _range(wanted, size)
        code = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        headers["Content-MD5"] = image.checksum
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(svc.read_data(image, start, end), status_code=code, headers=headers)


class RangeNotSatisfiable(APIError):
    status = 416


def _range(header: str, size: int) -> tuple[int, int]:
    m = RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(f"Invalid Range header: {header}", headers={"Content-Range": f"bytes */{size}"})
    if not m.group(1):  # the last N bytes
        start, end = max(0, size - int(m.group(2))), size - 1
    else:
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if start > end or start >= size:
        raise RangeNotSatisfiable(f"Range {header} is outside the image.", headers={"Content-Range": f"bytes */{size}"})
    return start, end


ROUTES = [
    route("/v2/images/{image_id}/file", "PUT", upload, stream_body=True),
    route("/v2/images/{image_id}/file", "GET", download),
    route("/v2/images/{image_id}/stage", "PUT", stage, stream_body=True),
]
