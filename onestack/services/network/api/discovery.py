"""Version discovery, extensions and availability zones, as Neutron answers them."""

from __future__ import annotations

from onestack.http.errors import NotFound, Unauthorized
from onestack.http.routing import Call, route
from onestack.services.network import views
from onestack.services.network.policies import authorize
from onestack.services.network.service import COLLECTIONS, extensions


def versions(call: Call) -> dict:
    return {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": call.url("/v2.0/")}]}]}


def resources(call: Call) -> dict:
    return {"resources": [{"name": c.singular, "collection": c.plural,
                           "links": [{"rel": "self", "href": call.url(f"/v2.0/{c.path or c.plural}")}]} for c in COLLECTIONS]}


def authenticated(call: Call) -> None:
    """Reading these documents needs a valid token, nothing more."""
    if call.ctx is None:  # reading ctx authenticates the caller
        raise Unauthorized()


def list_extensions(call: Call) -> dict:
    authenticated(call)
    return {"extensions": [extensions.view(alias) for alias in sorted(extensions.EXTENSIONS)]}


def show_extension(call: Call) -> dict:
    authenticated(call)
    alias = call.path["alias"]
    if alias not in extensions.EXTENSIONS:
        raise NotFound(f"Extension with alias {alias} does not exist", kind="HTTPNotFound")
    return {"extension": extensions.view(alias)}


def availability_zones(call: Call) -> dict:
    authenticated(call)
    return {"availability_zones": [{"name": zone, "resource": kind, "state": "available"}
                                   for zone in views.AVAILABILITY_ZONES for kind in ("network", "router")]}


def agents(call: Call) -> dict:
    """No network agent runs yet (the data plane arrives with its own issue): an honest empty list, for
    the admin alone (Neutron's get_agent)."""
    authorize(call.ctx, "get", "agent", {})
    return {"agents": []}


ROUTES = [
    route("/", "GET", versions, public=True),
    route("/v2.0", "GET", resources, public=True),
    route("/v2.0/", "GET", resources, public=True),
    route("/v2.0/extensions", "GET", list_extensions),
    route("/v2.0/extensions/{alias}", "GET", show_extension),
    route("/v2.0/availability_zones", "GET", availability_zones),
    route("/v2.0/agents", "GET", agents),
]
