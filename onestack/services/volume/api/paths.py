"""Every Block Storage path twice: under ``/v3/{project_id}`` as Cinder always served it, and under
``/v3`` as it does from 3.67 (onestack answers both at every version: clients that send the project-less
form ask for 3.67 anyway)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.http.errors import BadRequest
from onestack.http.listing import next_link
from onestack.http.routing import Call, Endpoint, Versioned, route


def _checking_project(fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
    """Every call but version discovery needs a valid token, whether or not the handler reads the caller."""
    def checked(call: Call):
        named = call.path.get("project_id")
        # A project-scoped caller naming another project in the URL has a malformed URL, as Cinder says.
        if named is not None and call.ctx.project_id is not None and named != call.ctx.project_id:
            raise BadRequest(f"Malformed request url: the URL's project_id '{named}' does not "
                             f"match the token's project_id '{call.ctx.project_id}'.")
        call.ctx  # noqa: B018 - authenticates the caller
        return fn(call)

    checked.__name__ = fn.__name__
    return checked


def v3(path: str, method: str, fn: Callable[[Call], Any], *, schema: dict | Versioned | None = None,
       status: int = 200, query: dict[str, dict] | None = None, response: dict | None = None) -> list[Endpoint]:
    """The route under both prefixes; ``query`` and ``response`` as ``route`` takes them."""
    return [route(f"/v3/{{project_id}}{path}", method, _checking_project(fn), schema=schema, status=status,
                  query=query, response=response),
            route(f"/v3{path}", method, _checking_project(fn), schema=schema, status=status, query=query,
                  response=response)]


def project(call: Call) -> str:
    """The project the URL names, else the caller's."""
    return call.path.get("project_id") or call.ctx.project_id


def next_links(call: Call, key: str, marker: str | None) -> dict:
    """``{key}_links`` with the next page's link when there is one (every filter and sort kept)."""
    if marker is None:
        return {}
    here = call.request.url.path[len(call.request.scope.get("root_path", "")):]
    return {f"{key}_links": [next_link(call.url, here, call.query, marker)]}


def flag(value) -> bool:
    """A boolean as Cinder's bodies carry it (true, "true", "1", "yes"...)."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes", "on")
