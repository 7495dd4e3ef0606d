"""What every Heat route shares: the project in the URL, the stack it names, the views with their links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.http.errors import Forbidden
from onestack.http.routing import Call, Reply, route
from onestack.services.orchestration.models import Stack
from onestack.services.orchestration.service import OrchestrationService
from onestack.services.orchestration.views import Views

V1 = "/v1/{project_id}"
STACK = f"{V1}/stacks/{{stack_name}}/{{stack_id}}"
# The parts of a stack a name alone may lead to (``/stacks/<name>/resources`` -> 302 to the full path).
PARTS = ("resources", "events", "template", "environment", "files", "outputs", "actions", "snapshots",
         "abandon", "export", "preview")


def orchestration(call: Call) -> OrchestrationService:
    return call.runtime.orchestration


def views(call: Call) -> Views:
    return Views(call.url)


def project(call: Call) -> str:
    """The project the URL names: a caller's own, unless an admin looks at another's (as Heat allows)."""
    named = call.path["project_id"]
    ctx = call.ctx
    if named != ctx.project_id and not (ctx.is_admin or ctx.is_system):
        raise Forbidden("Access was denied to this resource.", kind="HTTPForbidden")
    return named


def stack(call: Call, action: str) -> Stack:
    """The stack ``/stacks/{stack_name}/{stack_id}`` names."""
    return orchestration(call).get(call.ctx, project(call), call.path["stack_name"], call.path["stack_id"], action)


def v1(path: str, method: str, fn: Callable[[Call], Any], **kw):
    return route(f"{V1}{path}", method, fn, **kw)


def redirect(call: Call, target: str) -> Reply:
    return Reply(None, 302, {"Location": call.url(target)})
