"""What every Placement handler needs: the service, the microversion gate, links and cache headers."""

from __future__ import annotations

import datetime
from email.utils import format_datetime

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply
from onestack.services.placement.service import PlacementService


def placement(call: Call) -> PlacementService:
    return call.runtime.placement


def since(call: Call, version: str) -> None:
    """A route newer than the negotiated microversion does not exist for the caller (Placement: 404)."""
    if not call.version.at_least(version):
        raise NotFound("The resource could not be found.")


def href(call: Call, path: str) -> str:
    """Placement's links are paths under its prefix, not absolute URLs (its Location headers are absolute:
    webob makes them so, and clients such as osc-placement fetch them as given)."""
    return f"{call.request.scope.get('root_path', '')}{path}"


def reply(call: Call, content, when=None, status: int = 200, headers: dict | None = None) -> Reply:
    """From 1.15 responses with bodies say when their data last changed and that it is not to be cached."""
    headers = dict(headers or {})
    if call.version.at_least("1.15"):
        headers["last-modified"] = format_datetime(when or datetime.datetime.now(datetime.UTC), usegmt=True)
        headers["cache-control"] = "no-cache"
    return Reply(content, status, headers)


def latest(*moments):
    present = [m for m in moments if m is not None]
    return max(present) if present else None
