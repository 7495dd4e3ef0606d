"""The one ASGI application: every service mounted under its DevStack prefix."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from onestack.http.middleware import RequestMiddleware
from onestack.http.routing import Service, json_response
from onestack.runtime import Runtime
from onestack.services import discovery
from onestack.services.compute import api as compute_api
from onestack.services.compute import console_proxy
from onestack.services.identity import api as identity_api
from onestack.services.image import api as image_api
from onestack.services.network import api as network_api
from onestack.services.placement import api as placement_api


def all_services() -> list[Service]:
    return [identity_api.service(), image_api.service(), network_api.service(), compute_api.service(),
            placement_api.service(),
            *discovery.services()]


async def _root(request: Request) -> Response:
    base = request.scope["onestack.runtime"].base_url(request)
    return json_response({"services": {s.name: f"{base}{s.prefix}" for s in all_services()}})


def build(runtime: Runtime):
    routes = [Route("/", _root), *console_proxy.routes()] + [Mount(s.prefix, app=s.asgi()) for s in all_services()]
    return RequestMiddleware(Starlette(routes=routes), runtime)
