"""/v3/regions, /v3/services and /v3/endpoints: the service catalog."""

from __future__ import annotations

from operator import attrgetter

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, listing, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.catalog import Catalog
from onestack.services.identity.views import Views

CATALOG = attrgetter("catalog")
REGIONS = resource("/v3/regions", "region", "region_id", CATALOG, Views.region)
SERVICES = resource("/v3/services", "service", "service_id", CATALOG, Views.service)
ENDPOINTS = resource("/v3/endpoints", "endpoint", "endpoint_id", CATALOG, Views.endpoint)


# -- regions -----------------------------------------------------------------
def _create_region(call: Call, region_id: str | None) -> Reply:
    authorize(call.ctx, "identity:manage_regions")
    row = identity(call).catalog.create_region(call.body["region"], region_id)
    return Reply({"region": views(call).region(row)}, 201)


def create_region(call: Call) -> Reply:
    return _create_region(call, None)


def create_region_with_id(call: Call) -> Reply:
    body_id = call.body["region"].get("id")
    if body_id is not None and body_id != call.path["region_id"]:
        raise BadRequest("The region id in the body differs from the one in the URL.")
    return _create_region(call, call.path["region_id"])


# -- services and endpoints ----------------------------------------------------
ROUTES = [
    route("/v3/regions", "POST", create_region, schema=schemas.region_create),
    route("/v3/regions", "GET", listing(CATALOG, "identity:list_regions", "regions", Views.region, Catalog.regions)),
    route("/v3/regions/{region_id}", "PUT", create_region_with_id, schema=schemas.region_create),
    REGIONS.show("identity:get_region", Catalog.region),
    REGIONS.update("identity:manage_regions", Catalog.update_region, schemas.region_update),
    REGIONS.delete("identity:manage_regions", Catalog.delete_region),
    SERVICES.create("identity:manage_services", Catalog.create_service, schemas.service_create),
    route("/v3/services", "GET",
          listing(CATALOG, "identity:list_services", "services", Views.service, Catalog.services)),
    SERVICES.show("identity:get_service", Catalog.service),
    SERVICES.update("identity:manage_services", Catalog.update_service, schemas.service_update),
    SERVICES.delete("identity:manage_services", Catalog.delete_service),
    ENDPOINTS.create("identity:manage_endpoints", Catalog.create_endpoint, schemas.endpoint_create),
    route("/v3/endpoints", "GET",
          listing(CATALOG, "identity:list_endpoints", "endpoints", Views.endpoint, Catalog.endpoints)),
    ENDPOINTS.show("identity:get_endpoint", Catalog.endpoint),
    ENDPOINTS.update("identity:manage_endpoints", Catalog.update_endpoint, schemas.endpoint_update),
    ENDPOINTS.delete("identity:manage_endpoints", Catalog.delete_endpoint),
]
