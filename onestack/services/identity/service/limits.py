"""Unified limits: registered limits (defaults per service and resource) and limits (a project's or
domain's own value), in Keystone's flat enforcement model; and the limit a service enforces."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.services.identity.models import CatalogService, Limit, Project, Region, RegisteredLimit
from onestack.services.identity.policies import Check
from onestack.services.identity.service.rows import assign, conflict, get, listed, one
from onestack.services.identity.service.transactions import Transactions

MODEL = {"name": "flat", "description": "Limit enforcement and validation does not take project hierarchy "
                                         "into consideration."}


def _check_refs(session: Session, item: dict) -> str:
    if session.get(CatalogService, item["service_id"]) is None:
        raise BadRequest(f"Could not find service: {item['service_id']}.")
    region = item.get("region_id") or ""
    if region and session.get(Region, region) is None:
        raise BadRequest(f"Could not find region: {region}.")
    return region


def _in_use(session: Session, r: RegisteredLimit) -> bool:
    return session.scalars(select(Limit.id).where(Limit.service_id == r.service_id, Limit.region_id == r.region_id,
                                                  Limit.resource_name == r.resource_name)).first() is not None


def _limit(session: Session, limit_id: str) -> Limit:
    row = session.get(Limit, limit_id)
    if row is None:
        raise NotFound(f"Could not find limit: {limit_id}.")
    return row


def _filtered(stmt, model, query):
    for key in ("service_id", "resource_name"):
        if key in query:
            stmt = stmt.where(getattr(model, key) == query[key])
    if "region_id" in query:
        stmt = stmt.where(model.region_id == query["region_id"])
    return stmt


class Limits:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def effective(self, service_type: str, resource: str, project_id: str) -> int | None:
        """Unified limits as a service enforces them: the project's own limit, else the registered default;
        None when neither exists (the resource is then not limited), -1 meaning unlimited."""
        with self.transactions.read() as session:
            services = select(CatalogService.id).where(CatalogService.type == service_type)
            own = session.scalars(select(Limit.resource_limit).where(
                Limit.service_id.in_(services), Limit.resource_name == resource,
                Limit.target_id == project_id)).first()
            if own is not None:
                return own
            return session.scalars(select(RegisteredLimit.default_limit).where(
                RegisteredLimit.service_id.in_(services), RegisteredLimit.resource_name == resource)).first()

    # -- registered limits ------------------------------------------------------------
    def register(self, items: list[dict]) -> list[RegisteredLimit]:
        with self.transactions.write() as session:
            rows = []
            for item in items:
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
        return rows

    def registered(self, query) -> list[RegisteredLimit]:
        stmt = _filtered(select(RegisteredLimit), RegisteredLimit, query)
        return listed(self.transactions, stmt.order_by(RegisteredLimit.resource_name))

    def get_registered(self, limit_id: str) -> RegisteredLimit:
        return one(self.transactions, RegisteredLimit, limit_id, "registered limit")

    def update_registered(self, limit_id: str, body: dict) -> RegisteredLimit:
        with self.transactions.write() as session:
            row = get(session, RegisteredLimit, limit_id, "registered limit")
            moves = {"service_id", "region_id", "resource_name"} & set(body)
            if moves and _in_use(session, row):
                raise Forbidden("A registered limit that project limits refer to cannot change what it limits.")
            if moves:
                row.region_id = _check_refs(session, {"service_id": row.service_id, **body})
            assign(row, body, ("service_id", "resource_name", "default_limit", "description"))
        return row

    def delete_registered(self, limit_id: str) -> None:
        with self.transactions.write() as session:
            row = get(session, RegisteredLimit, limit_id, "registered limit")
            if _in_use(session, row):
                raise Forbidden("A registered limit that project limits refer to cannot be deleted.")
            session.delete(row)

    # -- a project's or domain's own limits ---------------------------------------------
    def create(self, items: list[dict]) -> list[Limit]:
        with self.transactions.write() as session:
            rows = []
            for item in items:
                region = _check_refs(session, item)
                if ("project_id" in item) == ("domain_id" in item):
                    raise BadRequest("A limit names either a project_id or a domain_id.")
                target_id = item.get("project_id") or item["domain_id"]
                target = session.get(Project, target_id)
                if target is None or target.is_domain != ("domain_id" in item):
                    raise BadRequest(f"Could not find {'domain' if 'domain_id' in item else 'project'}: "
                                     f"{target_id}.")
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
        return rows

    def list(self, ctx: Context, query) -> list[Limit]:
        wanted = query.get("project_id") or query.get("domain_id")
        if not (ctx.is_admin or ctx.is_system):
            # Everyone else sees the limits of the project or domain their token is for.
            wanted = ctx.project_id or ctx.domain_id
            if wanted is None:
                raise Forbidden("Listing limits needs a project- or domain-scoped token.")
        stmt = _filtered(select(Limit), Limit, query)
        if wanted is not None:
            stmt = stmt.where(Limit.target_id == wanted)
        return listed(self.transactions, stmt.order_by(Limit.resource_name))

    def get(self, limit_id: str, check: Check) -> Limit:
        with self.transactions.read() as session:
            row = _limit(session, limit_id)
            owner = row.target_id if row.target_is_domain else session.get(Project, row.target_id).domain_id
            check({"project_id": row.target_id, "domain_id": owner})
            return row

    def update(self, limit_id: str, body: dict) -> Limit:
        with self.transactions.write() as session:
            row = _limit(session, limit_id)
            assign(row, body, ("resource_limit", "description"))
        return row

    def delete(self, limit_id: str) -> None:
        with self.transactions.write() as session:
            session.delete(_limit(session, limit_id))
