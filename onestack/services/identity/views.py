"""Rows to Keystone response bodies.  Unknown attributes a client stored
(``extra``) come back flattened, as Keystone returns them."""

from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.services.identity import models as m


def stamp(value: datetime.datetime | None) -> str | None:
    """Keystone's timestamp shape for resources: microseconds, no zone suffix."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def password_expires_at(session: Session, user: m.User) -> str | None:
    if (user.options or {}).get("ignore_password_expiry"):
        return None
    expires = session.scalars(
        select(m.Password.expires_at).where(m.Password.user_id == user.id).order_by(m.Password.id.desc()).limit(1)
    ).first()
    return stamp(expires)


def _with_extra(row, body: dict) -> dict:
    extra = {k: v for k, v in (row.extra or {}).items() if k not in body}
    return {**extra, **body}


class Views:
    """Builds bodies for one request: knows the URL clients reached us at."""

    def __init__(self, base: str):
        self.base = base

    def links(self, collection: str, rid: str) -> dict:
        return {"self": f"{self.base}/v3/{collection}/{rid}"}

    def collection(self, key: str, items: list, path: str, query: str = "") -> dict:
        self_link = f"{self.base}/v3/{path}" + (f"?{query}" if query else "")
        return {key: items, "links": {"self": self_link, "previous": None, "next": None}}

    def project(self, p: m.Project) -> dict:
        body = {
            "id": p.id, "name": p.name, "domain_id": p.domain_id, "description": p.description or "",
            "enabled": p.enabled, "parent_id": p.parent_id, "is_domain": p.is_domain, "tags": list(p.tags or []),
            "options": dict(p.options or {}), "links": self.links("projects", p.id),
        }
        return _with_extra(p, body)

    def domain(self, d: m.Project) -> dict:
        body = {
            "id": d.id, "name": d.name, "description": d.description or "", "enabled": d.enabled,
            "tags": list(d.tags or []), "options": dict(d.options or {}), "links": self.links("domains", d.id),
        }
        return _with_extra(d, body)

    def user(self, session: Session, u: m.User) -> dict:
        body = {
            "id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": u.enabled,
            "password_expires_at": password_expires_at(session, u), "options": dict(u.options or {}),
            "links": self.links("users", u.id),
        }
        if u.default_project_id:
            body["default_project_id"] = u.default_project_id
        if u.description is not None:
            body["description"] = u.description
        if u.email is not None:
            body["email"] = u.email
        return _with_extra(u, body)

    def group(self, g: m.Group) -> dict:
        body = {"id": g.id, "name": g.name, "domain_id": g.domain_id, "description": g.description or "",
                "links": self.links("groups", g.id)}
        return _with_extra(g, body)

    def role(self, r: m.Role) -> dict:
        body = {"id": r.id, "name": r.name, "domain_id": r.domain_id or None, "description": r.description,
                "options": dict(r.options or {}), "links": self.links("roles", r.id)}
        return _with_extra(r, body)

    def role_ref(self, r: m.Role) -> dict:
        return {"id": r.id, "name": r.name, "links": self.links("roles", r.id)}

    def region(self, r: m.Region) -> dict:
        body = {"id": r.id, "description": r.description or "", "parent_region_id": r.parent_region_id,
                "links": self.links("regions", r.id)}
        return _with_extra(r, body)

    def service(self, s: m.CatalogService) -> dict:
        body = {"id": s.id, "type": s.type, "enabled": s.enabled, "links": self.links("services", s.id)}
        return _with_extra(s, body)

    def endpoint(self, e: m.Endpoint) -> dict:
        body = {"id": e.id, "interface": e.interface, "region": e.region_id, "region_id": e.region_id,
                "service_id": e.service_id, "url": e.url, "enabled": e.enabled,
                "links": self.links("endpoints", e.id)}
        return _with_extra(e, body)
