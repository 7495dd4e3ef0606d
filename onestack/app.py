"""The one ASGI application: every service mounted under its DevStack prefix, and the dashboard."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from onestack.config import Settings
from onestack.dashboard.app import build as build_dashboard
from onestack.dashboard.web import DashboardConfig
from onestack.http.middleware import RequestMiddleware
from onestack.http.routing import Service, WholePathMount, json_response
from onestack.registry import services as all_services
from onestack.runtime import Runtime
from onestack.services.compute.api import console_proxy


def _wants_page(request: Request) -> bool:
    """A browser navigating here (it asks for HTML before JSON); API clients keep the JSON list."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


async def _root(request: Request) -> Response:
    runtime = request.scope["onestack.runtime"]
    if runtime.settings.dashboard.enabled and _wants_page(request):
        return RedirectResponse("/dashboard/", 303)
    base = runtime.base_url(request)
    return json_response({"services": {s.name: f"{base}{s.prefix}" for s in all_services()}})


def dashboard_config(settings: Settings) -> DashboardConfig:
    """This cloud's dashboard signs into this cloud over loopback, unless told to use another Keystone."""
    options = settings.dashboard
    session_dir = Path(options.session_dir) if options.session_dir else settings.data_dir / "dashboard"
    if options.auth_url:
        return DashboardConfig(auth_url=options.auth_url, session_dir=session_dir)
    if settings.tls.enabled and settings.tls.cert_file:
        # an operator's certificate need not name the loopback address: go where it is valid
        return DashboardConfig(auth_url=f"{settings.base_url}/identity", session_dir=session_dir)
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    scheme = "https" if settings.tls.enabled else "http"  # the cloud's own certificate names 127.0.0.1
    local = f"{scheme}://{'[' + host + ']' if ':' in host else host}:{settings.port}"
    rewrite = (settings.base_url, local) if settings.base_url != local else None
    return DashboardConfig(auth_url=f"{local}/identity", session_dir=session_dir, rewrite=rewrite)


class _Bare:
    """A service's app answering its bare prefix as ``<prefix>/`` (the path as sent stays in raw_path)."""

    def __init__(self, prefix: str, app):
        self.prefix, self.app = prefix, app

    async def __call__(self, scope, receive, send):
        root = scope.get("root_path", "") + self.prefix
        await self.app({**scope, "path": self.prefix + "/", "root_path": root}, receive, send)


class _Claimed:
    """Requests a service claims whatever their path (S3's by their Host) go to that service's app."""

    def __init__(self, app, claimants: list, settings: Settings):
        self.app, self.claimants, self.settings = app, claimants, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for service, app in self.claimants:
                extra = service.claims(scope, self.settings)
                if extra is not None:
                    await app({**scope, **extra}, receive, send)
                    return
        await self.app(scope, receive, send)


def build(runtime: Runtime):
    routes = [Route("/", _root), *console_proxy.routes()]
    claimants = []
    for service in all_services():
        app = service.asgi()
        if service.bare_prefix:
            routes.append(Route(service.prefix, _Bare(service.prefix, app)))
        routes.append(WholePathMount(service.prefix, app=app))
        if type(service).claims is not Service.claims:
            claimants.append((service, app))
    if runtime.settings.dashboard.enabled:
        routes.append(Mount("/dashboard", app=build_dashboard(dashboard_config(runtime.settings))))
    served = Starlette(routes=routes)
    return RequestMiddleware(_Claimed(served, claimants, runtime.settings) if claimants else served, runtime)
