"""What every Placement handler needs: the service, policy, microversion gates, cache headers."""

from __future__ import annotations

from email.utils import format_datetime

from onestack.db.base import utcnow
from onestack.http.errors import NotFound
from onestack.http.jsonbody import validate
from onestack.http.microversion import Version
from onestack.http.policy import enforce
from onestack.http.routing import Call, Reply
from onestack.services.placement.policies import RULES
from onestack.services.placement.service import PlacementService

V = Version


def placement(call: Call) -> PlacementService:
    return call.runtime.placement


def authorize(call: Call, group: str, target: dict | None = None) -> None:
    enforce(call.ctx, f"placement:{group}", RULES[group], target)


def at_least(call: Call, major: int, minor: int) -> bool:
    return call.version >= V(major, minor)


def since(call: Call, major: int, minor: int) -> None:
    """A route newer than the negotiated microversion does not exist for the caller (Placement: 404)."""
    if not at_least(call, major, minor):
        raise NotFound("The resource could not be found.")


def body(call: Call, schema: dict):
    validate(call.body, schema)
    return call.body


def href(call: Call, path: str) -> str:
    """Placement's links are paths under its prefix, not absolute URLs (its Location headers are absolute:
    webob makes them so, and clients such as osc-placement fetch them as given)."""
    return f"{call.request.scope.get('root_path', '')}{path}"


def reply(call: Call, content, when=None, status: int = 200, headers: dict | None = None) -> Reply:
    """From 1.15 responses with bodies say when their data last changed and that it is not to be cached."""
    headers = dict(headers or {})
    if at_least(call, 1, 15):
        headers["last-modified"] = format_datetime(when or utcnow(), usegmt=True)
        headers["cache-control"] = "no-cache"
    return Reply(content, status, headers)


def latest(*moments):
    present = [m for m in moments if m is not None]
    return max(present) if present else None
