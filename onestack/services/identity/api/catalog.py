"""/v3/regions, /v3/services and /v3/endpoints: the service catalog."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, views
from onestack.services.identity.policies import authorize


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


def list_regions(call: Call) -> dict:
    authorize(call.ctx, "identity:list_regions")
    v = views(call)
    rows = identity(call).catalog.regions(call.query)
    return v.collection("regions", [v.region(r) for r in rows], "regions", str(call.query))


def get_region(call: Call) -> dict:
    authorize(call.ctx, "identity:get_region")
    return {"region": views(call).region(identity(call).catalog.region(call.path["region_id"]))}


def update_region(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_regions")
    row = identity(call).catalog.update_region(call.path["region_id"], call.body["region"])
    return {"region": views(call).region(row)}


def delete_region(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_regions")
    identity(call).catalog.delete_region(call.path["region_id"])
    return Reply(status=204)


# -- services ----------------------------------------------------------------
def create_service(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_services")
    return Reply({"service": views(call).service(identity(call).catalog.create_service(call.body["service"]))}, 201)


def list_services(call: Call) -> dict:
    authorize(call.ctx, "identity:list_services")
    v = views(call)
    rows = identity(call).catalog.services(call.query)
    return v.collection("services", [v.service(s) for s in rows], "services", str(call.query))


def get_service(call: Call) -> dict:
    authorize(call.ctx, "identity:get_service")
    return {"service": views(call).service(identity(call).catalog.service(call.path["service_id"]))}


def update_service(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_services")
    row = identity(call).catalog.update_service(call.path["service_id"], call.body["service"])
    return {"service": views(call).service(row)}


def delete_service(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_services")
    identity(call).catalog.delete_service(call.path["service_id"])
    return Reply(status=204)


# -- endpoints ---------------------------------------------------------------
def create_endpoint(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_endpoints")
    row = identity(call).catalog.create_endpoint(call.body["endpoint"])
    return Reply({"endpoint": views(call).endpoint(row)}, 201)


def list_endpoints(call: Call) -> dict:
    authorize(call.ctx, "identity:list_endpoints")
    v = views(call)
    rows = identity(call).catalog.endpoints(call.query)
    return v.collection("endpoints", [v.endpoint(e) for e in rows], "endpoints", str(call.query))


def get_endpoint(call: Call) -> dict:
    authorize(call.ctx, "identity:get_endpoint")
    return {"endpoint": views(call).endpoint(identity(call).catalog.endpoint(call.path["endpoint_id"]))}


def update_endpoint(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_endpoints")
    row = identity(call).catalog.update_endpoint(call.path["endpoint_id"], call.body["endpoint"])
    return {"endpoint": views(call).endpoint(row)}


def delete_endpoint(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_endpoints")
    identity(call).catalog.delete_endpoint(call.path["endpoint_id"])
    return Reply(status=204)


ROUTES = [
    route("/v3/regions", "POST", create_region, schema=schemas.region_create),
    route("/v3/regions", "GET", list_regions),
    route("/v3/regions/{region_id}", "PUT", create_region_with_id, schema=schemas.region_create),
    route("/v3/regions/{region_id}", "GET", get_region),
    route("/v3/regions/{region_id}", "PATCH", update_region, schema=schemas.region_update),
    route("/v3/regions/{region_id}", "DELETE", delete_region),
    route("/v3/services", "POST", create_service, schema=schemas.service_create),
    route("/v3/services", "GET", list_services),
    route("/v3/services/{service_id}", "GET", get_service),
    route("/v3/services/{service_id}", "PATCH", update_service, schema=schemas.service_update),
    route("/v3/services/{service_id}", "DELETE", delete_service),
    route("/v3/endpoints", "POST", create_endpoint, schema=schemas.endpoint_create),
    route("/v3/endpoints", "GET", list_endpoints),
    route("/v3/endpoints/{endpoint_id}", "GET", get_endpoint),
    route("/v3/endpoints/{endpoint_id}", "PATCH", update_endpoint, schema=schemas.endpoint_update),
    route("/v3/endpoints/{endpoint_id}", "DELETE", delete_endpoint),
]
