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
from onestack.services.compute.api import console_proxy


async def _root(request: Request) -> Response:
    base = request.scope["onestack.runtime"].base_url(request)
    return json_response({"services": {s.name: f"{base}{s.prefix}" for s in all_services()}})


def build(runtime: Runtime):
    routes = [Route("/", _root), *console_proxy.routes()] + [Mount(s.prefix, app=s.asgi()) for s in all_services()]
    return RequestMiddleware(Starlette(routes=routes), runtime)
