"""The dashboard as one ASGI application, mounted by the cloud at ``/dashboard`` (or served alone)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from onestack.dashboard.pages import (
    admin,
    admin_resources,
    admin_volumes,
    api_access,
    auth,
    consoles,
    floating_ips,
    images,
    instance_detail,
    instances,
    keypairs,
    network,
    objects,
    overview,
    security_groups,
    stacks,
    topology,
    volumes,
)
from onestack.dashboard.web import Dashboard, DashboardConfig, SecurityHeaders

STATIC = Path(__file__).parent / "static"


async def _not_found(request: Request, exc: HTTPException) -> Response:
    dash: Dashboard = request.app.state.dashboard
    return dash.render(request, "error.html", exc.status_code, title="Not found" if exc.status_code == 404
                       else "Error", message=exc.detail, session=None, csrf="", flash=[])


def build(config: DashboardConfig):
    routes = [*auth.routes(), *overview.routes(), *instances.routes(), *instance_detail.routes(), *images.routes(), *keypairs.routes(),
              *network.routes(), *floating_ips.routes(), *security_groups.routes(), *topology.routes(),
              *volumes.routes(), *objects.routes(), *stacks.routes(),
              *api_access.routes(), *consoles.routes(),
              *admin.routes(), *admin_volumes.routes(), *admin_resources.routes(), Mount("/static", app=StaticFiles(directory=STATIC))]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _not_found})
    app.state.dashboard = Dashboard(config)
    return SecurityHeaders(app)
