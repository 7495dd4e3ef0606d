"""What the proxy API modules share: the body member Nova's legacy (schema-less) handlers read, and the
server an action or sub-resource is about."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call
from onestack.services.compute.models import Instance
from onestack.services.compute.service.servers import authorize


def member(body, key: str) -> dict:
    """``body[key]``, which must be an object; Nova's 400s for an empty body or a missing member."""
    if not body:
        raise BadRequest("The request body can't be empty")
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise BadRequest(f"Missing parameter {key}")
    return value


def server(call: Call, policy: str) -> Instance:
    """The server in the path, once the caller may apply ``policy`` to it (404 when it cannot see it)."""
    svc = call.runtime.compute
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
    authorize(call.ctx, policy, instance)
    return instance
