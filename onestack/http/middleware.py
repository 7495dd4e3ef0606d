"""Outermost ASGI layer: request id, runtime injection, structured access log.

Written against raw ASGI rather than BaseHTTPMiddleware: it sits on every
request and must cost next to nothing.
"""

from __future__ import annotations

import logging
import time
import uuid

import orjson

from onestack.redact import redact_short

ACCESS = logging.getLogger("onestack.access")


class RequestMiddleware:
    def __init__(self, app, runtime):
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            scope["onestack.runtime"] = self.runtime
            return await self.app(scope, receive, send)
        request_id = f"req-{uuid.uuid4()}"
        scope["onestack.runtime"] = self.runtime
        scope["onestack.request_id"] = request_id
        started = time.perf_counter()
        status = 500
        headers = [(b"x-openstack-request-id", request_id.encode())]
        if scope["path"].startswith("/compute"):
            # Nova's own name for it, which its clients (Tempest, novaclient) still read
            headers.append((b"x-compute-request-id", request_id.encode()))

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if ACCESS.isEnabledFor(logging.INFO):
                ACCESS.info(orjson.dumps({
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": redact_short(scope["path"]),  # the one field a user chooses
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": scope["client"][0] if scope.get("client") else None,
                }).decode(), extra={"redacted": True})
