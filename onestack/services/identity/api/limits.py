"""Unified limits: /v3/registered_limits (defaults per service and resource) and /v3/limits
(a project's or domain's own value), in Keystone's flat enforcement model."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import authorize, identity
from onestack.services.identity.models import CatalogService, Limit, Project, Region, RegisteredLimit
from onestack.services.identity.store import conflict, get

MODEL = {"name": "flat", "description": "Limit enforcement and validation does not take project hierarchy "
                                         "into consideration."}


def _links(call: Call, path: str) -> dict:
    return {"self": call.url(path), "previous": None, "next": None}


def _registered_view(call: Call, r: RegisteredLimit) -> dict:
    return {"id": r.id, "service_id": r.service_id, "region_id": r.region_id or None,
            "resource_name": r.resource_name, "default_limit": r.default_limit, "description": r.description,
            "links": {"self": call.url(f"/v3/registered_limits/{r.id}")}}


def _limit_view(call: Call, m: Limit) -> dict:
    return {"id": m.id, "service_id": m.service_id, "region_id": m.region_id or None,
            "resource_name": m.resource_name, "resource_limit": m.resource_limit, "description": m.description,
            "project_id": None if m.target_is_domain else m.target_id,
            "domain_id": m.target_id if m.target_is_domain else None,
            "links": {"self": call.url(f"/v3/limits/{m.id}")}}


def _check_refs(session: Session, item: dict) -> str:
    if session.get(CatalogService, item["service_id"]) is None:
        raise BadRequest(f"Could not find service: {item['service_id']}.")
    region = item.get("region_id") or ""
    if region and session.get(Region, region) is None:
        raise BadRequest(f"Could not find region: {region}.")
    return region


def create_registered_limits(call: Call) -> Reply:
    authorize(call, "identity:manage_registered_limits")
    with identity(call).store.write() as session:
        rows = []
        for item in call.body["registered_limits"]:
            region = _check_refs(session, item)
            if session.scalars(select(RegisteredLimit.id).where(
                    RegisteredLimit.service_id == item["service_id"], RegisteredLimit.region_id == region,
                    RegisteredLimit.resource_name == item["resource_name"])).first():
                raise conflict("registered limit", "resource_name", item["resource_name"])
            row = RegisteredLimit(id=new_id(), service_id=item["service_id"], region_id=region,
                                  resource_name=item["resource_name"], default_limit=item["default_limit"],
                                  description=item.get("description"))
            session.add(row)
            session.flush()
            rows.append(row)
        return Reply({"registered_limits": [_registered_view(call, r) for r in rows]}, 201)


def list_registered_limits(call: Call) -> dict:
    authorize(call, "identity:get_registered_limit")
    with identity(call).store.read() as session:
        stmt = select(RegisteredLimit)
        for key in ("service_id", "resource_name"):
            if key in call.query:
                stmt = stmt.where(getattr(RegisteredLimit, key) == call.query[key])
        if "region_id" in call.query:
            stmt = stmt.where(RegisteredLimit.region_id == call.query["region_id"])
        rows = session.scalars(stmt.order_by(RegisteredLimit.resource_name)).all()
    return {"registered_limits": [_registered_view(call, r) for r in rows],
            "links": _links(call, "/v3/registered_limits")}


def get_registered_limit(call: Call) -> dict:
    authorize(call, "identity:get_registered_limit")
    with identity(call).store.read() as session:
        row = get(session, RegisteredLimit, call.path["limit_id"], "registered limit")
        return {"registered_limit": _registered_view(call, row)}


def _in_use(session: Session, r: RegisteredLimit) -> bool:
    return session.scalars(select(Limit.id).where(Limit.service_id == r.service_id, Limit.region_id == r.region_id,
                                                  Limit.resource_name == r.resource_name)).first() is not None


def update_registered_limit(call: Call) -> dict:
    authorize(call, "identity:manage_registered_limits")
    body = call.body["registered_limit"]
    with identity(call).store.write() as session:
        row = get(session, RegisteredLimit, call.path["limit_id"], "registered limit")
        moves = {"service_id", "region_id", "resource_name"} & set(body)
        if moves and _in_use(session, row):
            raise Forbidden("A registered limit that project limits refer to cannot change what it limits.")
        if moves:
            row.region_id = _check_refs(session, {"service_id": row.service_id, **body})
        for key in ("service_id", "resource_name", "default_limit", "description"):
            if key in body:
                setattr(row, key, body[key])
        return {"registered_limit": _registered_view(call, row)}


def delete_registered_limit(call: Call) -> Reply:
    authorize(call, "identity:manage_registered_limits")
    with identity(call).store.write() as session:
        row = get(session, RegisteredLimit, call.path["limit_id"], "registered limit")
        if _in_use(session, row):
            raise Forbidden("A registered limit that project limits refer to cannot be deleted.")
        session.delete(row)
    return Reply(status=204)


def create_limits(call: Call) -> Reply:
    authorize(call, "identity:manage_limits")
    with identity(call).store.write() as session:
        rows = []
        for item in call.body["limits"]:
            region = _check_refs(session, item)
            if ("project_id" in item) == ("domain_id" in item):
                raise BadRequest("A limit names either a project_id or a domain_id.")
            target_id = item.get("project_id") or item["domain_id"]
            target = session.get(Project, target_id)
            if target is None or target.is_domain != ("domain_id" in item):
                raise BadRequest(f"Could not find {'domain' if 'domain_id' in item else 'project'}: {target_id}.")
            if session.scalars(select(RegisteredLimit.id).where(
                    RegisteredLimit.service_id == item["service_id"], RegisteredLimit.region_id == region,
                    RegisteredLimit.resource_name == item["resource_name"])).first() is None:
                raise Forbidden(f"No registered limit for {item['resource_name']}: register its default first.")
            if session.scalars(select(Limit.id).where(
                    Limit.service_id == item["service_id"], Limit.region_id == region,
                    Limit.resource_name == item["resource_name"], Limit.target_id == target_id)).first():
                raise conflict("limit", "resource_name", item["resource_name"])
            row = Limit(id=new_id(), service_id=item["service_id"], region_id=region, target_id=target_id,
                        target_is_domain="domain_id" in item, resource_name=item["resource_name"],
                        resource_limit=item["resource_limit"], description=item.get("description"))
            session.add(row)
            session.flush()
            rows.append(row)
        return Reply({"limits": [_limit_view(call, m) for m in rows]}, 201)


def list_limits(call: Call) -> dict:
    ctx = call.ctx
    wanted = call.query.get("project_id") or call.query.get("domain_id")
    if not (ctx.is_admin or ctx.is_system):
        # Everyone else sees the limits of the project or domain their token is for.
        wanted = ctx.project_id or ctx.domain_id
        if wanted is None:
            raise Forbidden("Listing limits needs a project- or domain-scoped token.")
    with identity(call).store.read() as session:
        stmt = select(Limit)
        for key in ("service_id", "resource_name"):
            if key in call.query:
                stmt = stmt.where(getattr(Limit, key) == call.query[key])
        if "region_id" in call.query:
            stmt = stmt.where(Limit.region_id == call.query["region_id"])
        if wanted is not None:
            stmt = stmt.where(Limit.target_id == wanted)
        rows = session.scalars(stmt.order_by(Limit.resource_name)).all()
    return {"limits": [_limit_view(call, m) for m in rows], "links": _links(call, "/v3/limits")}


def _limit(session: Session, call: Call) -> Limit:
    row = session.get(Limit, call.path["limit_id"])
    if row is None:
        raise NotFound(f"Could not find limit: {call.path['limit_id']}.")
    return row


def get_limit(call: Call) -> dict:
    with identity(call).store.read() as session:
        row = _limit(session, call)
        owner = row.target_id if row.target_is_domain else session.get(Project, row.target_id).domain_id
        authorize(call, "identity:get_limit", {"project_id": row.target_id, "domain_id": owner})
        return {"limit": _limit_view(call, row)}


def update_limit(call: Call) -> dict:
    authorize(call, "identity:manage_limits")
    body = call.body["limit"]
    with identity(call).store.write() as session:
        row = _limit(session, call)
        for key in ("resource_limit", "description"):
            if key in body:
                setattr(row, key, body[key])
        return {"limit": _limit_view(call, row)}


def delete_limit(call: Call) -> Reply:
    authorize(call, "identity:manage_limits")
    with identity(call).store.write() as session:
        session.delete(_limit(session, call))
    return Reply(status=204)


def limit_model(call: Call) -> dict:
    authorize(call, "identity:get_limit_model")
    return {"model": MODEL}


ROUTES = [
    route("/v3/registered_limits", "POST", create_registered_limits, schema=schemas.registered_limits_create),
    route("/v3/registered_limits", "GET", list_registered_limits),
    route("/v3/registered_limits/{limit_id}", "GET", get_registered_limit),
    route("/v3/registered_limits/{limit_id}", "PATCH", update_registered_limit,
          schema=schemas.registered_limit_update),
    route("/v3/registered_limits/{limit_id}", "DELETE", delete_registered_limit),
    route("/v3/limits", "POST", create_limits, schema=schemas.limits_create),
    route("/v3/limits", "GET", list_limits),
    route("/v3/limits/model", "GET", limit_model),
    route("/v3/limits/{limit_id}", "GET", get_limit),
    route("/v3/limits/{limit_id}", "PATCH", update_limit, schema=schemas.limit_update),
    route("/v3/limits/{limit_id}", "DELETE", delete_limit),
]
