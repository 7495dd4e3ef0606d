"""The one ASGI application: every service mounted under its DevStack prefix."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from onestack.http.middleware import RequestMiddleware
from onestack.http.routing import json_response
from onestack.registry import services as all_services
from onestack.runtime import Runtime
from onestack.services.compute import console_proxy


async def _root(request: Request) -> Response:
    base = request.scope["onestack.runtime"].base_url(request)
    return json_response({"services": {s.name: f"{base}{s.prefix}" for s in all_services()}})


class _Bare:
    """A service's app answering its bare prefix as ``<prefix>/`` (the path as sent stays in raw_path)."""

    def __init__(self, prefix: str, app):
        self.prefix, self.app = prefix, app

    async def __call__(self, scope, receive, send):
        root = scope.get("root_path", "") + self.prefix
        await self.app({**scope, "path": self.prefix + "/", "root_path": root}, receive, send)


def build(runtime: Runtime):
    routes = [Route("/", _root), *console_proxy.routes()]
    for service in all_services():
        app = service.asgi()
        if service.bare_prefix:
            routes.append(Route(service.prefix, _Bare(service.prefix, app)))
        routes.append(Mount(service.prefix, app=app))
    return RequestMiddleware(Starlette(routes=routes), runtime)
