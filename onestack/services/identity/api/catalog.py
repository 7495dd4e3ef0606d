"""/v3/regions, /v3/services and /v3/endpoints: the service catalog."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import BadRequest, Conflict
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import (
    authorize,
    extra_attributes,
    filtered,
    identity,
    merge_extra,
    views,
)
from onestack.services.identity.models import CatalogService, Endpoint, Region
from onestack.services.identity.store import get

REGION_FIELDS = schemas.region_create["properties"]["region"]["properties"]
SERVICE_FIELDS = ("type", "enabled")
ENDPOINT_FIELDS = schemas.endpoint_create["properties"]["endpoint"]["properties"]



# -- regions -----------------------------------------------------------------
def _check_parent(session: Session, region_id: str, parent_id: str | None) -> None:
    if parent_id is None:
        return
    seen = {region_id}
    current = parent_id
    while current is not None:
        if current in seen:
            raise BadRequest(f"Region {region_id} would form a loop through {parent_id}.")
        parent = session.get(Region, current)
        if parent is None:
            raise BadRequest(f"Could not find parent region: {current}.")
        seen.add(current)
        current = parent.parent_region_id


def _create_region(call: Call, region_id: str | None) -> Reply:
    authorize(call, "identity:manage_regions")
    body = call.body["region"]
    rid = region_id or body.get("id") or new_id()
    with identity(call).store.write() as session:
        if session.get(Region, rid) is not None:
            raise Conflict(f"Duplicate ID, {rid}.")
        _check_parent(session, rid, body.get("parent_region_id"))
        row = Region(id=rid, description=body.get("description") or "",
                     parent_region_id=body.get("parent_region_id"), extra=extra_attributes(body, REGION_FIELDS))
        session.add(row)
        session.flush()
        return Reply({"region": views(call).region(row)}, 201)


def create_region(call: Call) -> Reply:
    return _create_region(call, None)


def create_region_with_id(call: Call) -> Reply:
    body_id = call.body["region"].get("id")
    if body_id is not None and body_id != call.path["region_id"]:
        raise BadRequest("The region id in the body differs from the one in the URL.")
    return _create_region(call, call.path["region_id"])


def list_regions(call: Call) -> dict:
    authorize(call, "identity:list_regions")
    v = views(call)
    with identity(call).store.read() as session:
        stmt = filtered(call, select(Region), Region, {"parent_region_id": "parent_region_id"})
        rows = session.scalars(stmt.order_by(Region.id)).all()
    return v.collection("regions", [v.region(r) for r in rows], "regions", str(call.query))


def get_region(call: Call) -> dict:
    authorize(call, "identity:get_region")
    with identity(call).store.read() as session:
        return {"region": views(call).region(get(session, Region, call.path["region_id"], "region"))}


def update_region(call: Call) -> dict:
    authorize(call, "identity:manage_regions")
    body = call.body["region"]
    with identity(call).store.write() as session:
        row = get(session, Region, call.path["region_id"], "region")
        if "parent_region_id" in body:
            _check_parent(session, row.id, body["parent_region_id"])
            row.parent_region_id = body["parent_region_id"]
        if "description" in body:
            row.description = body["description"] or ""
        merge_extra(row, body, REGION_FIELDS)
        return {"region": views(call).region(row)}


def delete_region(call: Call) -> Reply:
    authorize(call, "identity:manage_regions")
    with identity(call).store.write() as session:
        row = get(session, Region, call.path["region_id"], "region")
        if session.scalars(select(Region.id).where(Region.parent_region_id == row.id)).first():
            raise Conflict(f"Region {row.id} has child regions and cannot be deleted.")
        session.execute(delete(Endpoint).where(Endpoint.region_id == row.id))
        session.delete(row)
    return Reply(status=204)


# -- services ----------------------------------------------------------------
def create_service(call: Call) -> Reply:
    authorize(call, "identity:manage_services")
    body = call.body["service"]
    with identity(call).store.write() as session:
        row = CatalogService(id=new_id(), type=body["type"], enabled=body.get("enabled", True),
                             extra=extra_attributes(body, SERVICE_FIELDS))
        session.add(row)
        session.flush()
        return Reply({"service": views(call).service(row)}, 201)


def list_services(call: Call) -> dict:
    authorize(call, "identity:list_services")
    v = views(call)
    with identity(call).store.read() as session:
        stmt = filtered(call, select(CatalogService), CatalogService, {"type": "type"})
        rows = session.scalars(stmt.order_by(CatalogService.type)).all()
    if "name" in call.query:
        rows = [r for r in rows if (r.extra or {}).get("name") == call.query["name"]]
    return v.collection("services", [v.service(s) for s in rows], "services", str(call.query))


def get_service(call: Call) -> dict:
    authorize(call, "identity:get_service")
    with identity(call).store.read() as session:
        return {"service": views(call).service(get(session, CatalogService, call.path["service_id"], "service"))}


def update_service(call: Call) -> dict:
    authorize(call, "identity:manage_services")
    body = call.body["service"]
    with identity(call).store.write() as session:
        row = get(session, CatalogService, call.path["service_id"], "service")
        for key in SERVICE_FIELDS:
            if key in body:
                setattr(row, key, body[key])
        merge_extra(row, body, SERVICE_FIELDS)
        return {"service": views(call).service(row)}


def delete_service(call: Call) -> Reply:
    authorize(call, "identity:manage_services")
    with identity(call).store.write() as session:
        row = get(session, CatalogService, call.path["service_id"], "service")
        session.execute(delete(Endpoint).where(Endpoint.service_id == row.id))
        session.delete(row)
    return Reply(status=204)


# -- endpoints ---------------------------------------------------------------
def _endpoint_refs(session: Session, body: dict) -> str | None:
    if "service_id" in body and session.get(CatalogService, body["service_id"]) is None:
        raise BadRequest(f"Could not find service: {body['service_id']}.")
    region = body.get("region_id") or body.get("region")
    if region is not None and session.get(Region, region) is None:
        # Keystone creates a region an endpoint names but nobody made yet.
        session.add(Region(id=region, description="", extra={}))
        session.flush()
    return region


def create_endpoint(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoints")
    body = call.body["endpoint"]
    with identity(call).store.write() as session:
        region = _endpoint_refs(session, body)
        row = Endpoint(id=new_id(), service_id=body["service_id"], interface=body["interface"], url=body["url"],
                       region_id=region, enabled=body.get("enabled", True), extra=extra_attributes(body, ENDPOINT_FIELDS))
        session.add(row)
        session.flush()
        return Reply({"endpoint": views(call).endpoint(row)}, 201)


def list_endpoints(call: Call) -> dict:
    authorize(call, "identity:list_endpoints")
    v = views(call)
    with identity(call).store.read() as session:
        stmt = filtered(call, select(Endpoint), Endpoint, {"service_id": "service_id", "interface": "interface",
                                                           "region_id": "region_id"})
        rows = session.scalars(stmt.order_by(Endpoint.id)).all()
    return v.collection("endpoints", [v.endpoint(e) for e in rows], "endpoints", str(call.query))


def get_endpoint(call: Call) -> dict:
    authorize(call, "identity:get_endpoint")
    with identity(call).store.read() as session:
        return {"endpoint": views(call).endpoint(get(session, Endpoint, call.path["endpoint_id"], "endpoint"))}


def update_endpoint(call: Call) -> dict:
    authorize(call, "identity:manage_endpoints")
    body = call.body["endpoint"]
    with identity(call).store.write() as session:
        row = get(session, Endpoint, call.path["endpoint_id"], "endpoint")
        region = _endpoint_refs(session, body)
        if "region_id" in body or "region" in body:
            row.region_id = region
        for key in ("service_id", "interface", "url", "enabled"):
            if key in body:
                setattr(row, key, body[key])
        merge_extra(row, body, ENDPOINT_FIELDS)
        return {"endpoint": views(call).endpoint(row)}


def delete_endpoint(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoints")
    with identity(call).store.write() as session:
        session.delete(get(session, Endpoint, call.path["endpoint_id"], "endpoint"))
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
