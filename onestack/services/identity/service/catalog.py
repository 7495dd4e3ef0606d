"""The service catalog: regions, services and endpoints, and the catalog a token shows, cached by the
identity revision and narrowed by OS-EP-FILTER for a project."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import BadRequest, Conflict
from onestack.http.listing import apply_filters
from onestack.services.identity import schemas
from onestack.services.identity.models import CatalogService, Endpoint, Region
from onestack.services.identity.service.endpoint_filter import project_endpoint_ids
from onestack.services.identity.service.rows import (
    assign,
    extra_attributes,
    get,
    listed,
    merge_extra,
    one,
    updated,
)
from onestack.services.identity.service.transactions import Transactions

REGION_FIELDS = schemas.region_create["properties"]["region"]["properties"]
SERVICE_FIELDS = ("type", "enabled")
ENDPOINT_FIELDS = schemas.endpoint_create["properties"]["endpoint"]["properties"]


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


def _endpoint_refs(session: Session, body: dict) -> str | None:
    if "service_id" in body and session.get(CatalogService, body["service_id"]) is None:
        raise BadRequest(f"Could not find service: {body['service_id']}.")
    region = body.get("region_id") or body.get("region")
    if region is not None and session.get(Region, region) is None:
        # Keystone creates a region an endpoint names but nobody made yet.
        session.add(Region(id=region, description="", extra={}))
        session.flush()
    return region


def _for_project(endpoint: dict, project_id: str | None) -> dict | None:
    url = endpoint["url"]
    if "$(project_id)s" not in url and "$(tenant_id)s" not in url:
        return endpoint
    if project_id is None:
        return None
    return {**endpoint, "url": url.replace("$(project_id)s", project_id).replace("$(tenant_id)s", project_id)}


class Catalog:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions
        self._catalog: tuple[int, list] | None = None
        self._filters: tuple[int, dict[str, set[str] | None]] = (-1, {})

    # -- the catalog in tokens -------------------------------------------------------
    def for_project(self, project_id: str | None = None) -> list[dict]:
        """The catalog as a token for ``project_id`` sees it (``$(project_id)s`` filled in, or left out)."""
        raw = self._raw_catalog()
        allowed = self._allowed_endpoints(project_id) if project_id else None
        return [{**s, "endpoints": [e for e in (_for_project(e, project_id) for e in s["endpoints"])
                                    if e and (allowed is None or e["id"] in allowed)]}
                for s in raw]

    def cached(self, project_id: str | None) -> list[dict] | None:
        """The catalog if every part of it is cached for the current revision, else None (no I/O)."""
        revision = self.transactions.fresh_revision()
        if revision is None or self._catalog is None or self._catalog[0] != revision:
            return None
        if project_id and (self._filters[0] != revision or project_id not in self._filters[1]):
            return None
        return self.for_project(project_id)

    def _allowed_endpoints(self, project_id: str) -> set[str] | None:
        revision = self.transactions.revision()
        if self._filters[0] != revision:
            self._filters = (revision, {})
        cache = self._filters[1]
        if project_id not in cache:
            with self.transactions.read() as session:
                cache[project_id] = project_endpoint_ids(session, project_id)
        return cache[project_id]

    def _raw_catalog(self) -> list[dict]:
        revision = self.transactions.revision()
        if self._catalog is None or self._catalog[0] != revision:
            with self.transactions.read() as session:
                services = session.scalars(select(CatalogService).where(CatalogService.enabled)).all()
                endpoints = session.scalars(select(Endpoint).where(Endpoint.enabled)).all()
            by_service: dict[str, list] = {}
            for e in endpoints:
                by_service.setdefault(e.service_id, []).append(
                    {"id": e.id, "interface": e.interface, "region": e.region_id, "region_id": e.region_id,
                     "url": e.url})
            catalog = [
                {"id": s.id, "type": s.type, "name": (s.extra or {}).get("name", ""),
                 "endpoints": by_service.get(s.id, [])}
                for s in services
            ]
            self._catalog = (revision, catalog)
        return self._catalog[1]

    # -- regions -----------------------------------------------------------------
    def create_region(self, body: dict, region_id: str | None) -> Region:
        rid = region_id or body.get("id") or new_id()
        with self.transactions.write() as session:
            if session.get(Region, rid) is not None:
                raise Conflict(f"Duplicate ID, {rid}.")
            _check_parent(session, rid, body.get("parent_region_id"))
            row = Region(id=rid, description=body.get("description") or "",
                         parent_region_id=body.get("parent_region_id"), extra=extra_attributes(body, REGION_FIELDS))
            session.add(row)
            session.flush()
        return row

    def regions(self, query) -> list[Region]:
        stmt = apply_filters(select(Region), Region, query, {"parent_region_id": "parent_region_id"})
        return listed(self.transactions, stmt.order_by(Region.id))

    def region(self, region_id: str) -> Region:
        return one(self.transactions, Region, region_id, "region")

    def update_region(self, region_id: str, body: dict) -> Region:
        with self.transactions.write() as session:
            row = get(session, Region, region_id, "region")
            if "parent_region_id" in body:
                _check_parent(session, row.id, body["parent_region_id"])
                row.parent_region_id = body["parent_region_id"]
            if "description" in body:
                row.description = body["description"] or ""
            merge_extra(row, body, REGION_FIELDS)
        return row

    def delete_region(self, region_id: str) -> None:
        with self.transactions.write() as session:
            row = get(session, Region, region_id, "region")
            if session.scalars(select(Region.id).where(Region.parent_region_id == row.id)).first():
                raise Conflict(f"Region {row.id} has child regions and cannot be deleted.")
            session.execute(delete(Endpoint).where(Endpoint.region_id == row.id))
            session.delete(row)

    # -- services ----------------------------------------------------------------
    def create_service(self, body: dict) -> CatalogService:
        with self.transactions.write() as session:
            row = CatalogService(id=new_id(), type=body["type"], enabled=body.get("enabled", True),
                                 extra=extra_attributes(body, SERVICE_FIELDS))
            session.add(row)
            session.flush()
        return row

    def services(self, query) -> list[CatalogService]:
        stmt = apply_filters(select(CatalogService), CatalogService, query, {"type": "type"})
        rows = listed(self.transactions, stmt.order_by(CatalogService.type))
        if "name" in query:
            rows = [r for r in rows if (r.extra or {}).get("name") == query["name"]]
        return rows

    def service(self, service_id: str) -> CatalogService:
        return one(self.transactions, CatalogService, service_id, "service")

    def update_service(self, service_id: str, body: dict) -> CatalogService:
        return updated(self.transactions, CatalogService, service_id, "service", body, SERVICE_FIELDS)

    def delete_service(self, service_id: str) -> None:
        with self.transactions.write() as session:
            row = get(session, CatalogService, service_id, "service")
            session.execute(delete(Endpoint).where(Endpoint.service_id == row.id))
            session.delete(row)

    # -- endpoints ---------------------------------------------------------------
    def create_endpoint(self, body: dict) -> Endpoint:
        with self.transactions.write() as session:
            region = _endpoint_refs(session, body)
            row = Endpoint(id=new_id(), service_id=body["service_id"], interface=body["interface"], url=body["url"],
                           region_id=region, enabled=body.get("enabled", True),
                           extra=extra_attributes(body, ENDPOINT_FIELDS))
            session.add(row)
            session.flush()
        return row

    def endpoints(self, query) -> list[Endpoint]:
        stmt = apply_filters(select(Endpoint), Endpoint, query, {"service_id": "service_id",
                                                                 "interface": "interface",
                                                                 "region_id": "region_id"})
        return listed(self.transactions, stmt.order_by(Endpoint.id))

    def endpoint(self, endpoint_id: str) -> Endpoint:
        return one(self.transactions, Endpoint, endpoint_id, "endpoint")

    def update_endpoint(self, endpoint_id: str, body: dict) -> Endpoint:
        with self.transactions.write() as session:
            row = get(session, Endpoint, endpoint_id, "endpoint")
            region = _endpoint_refs(session, body)
            if "region_id" in body or "region" in body:
                row.region_id = region
            assign(row, body, ("service_id", "interface", "url", "enabled"))
            merge_extra(row, body, ENDPOINT_FIELDS)
        return row

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self.transactions.write() as session:
            session.delete(get(session, Endpoint, endpoint_id, "endpoint"))
