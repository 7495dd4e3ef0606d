"""/v3/OS-TRUST/trusts: delegation of a trustor's roles on a project to a trustee."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id, utcnow
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import assignments, schemas
from onestack.services.identity.api.common import authorize, extra_attributes, future_expiry, identity, views
from onestack.services.identity.models import Project, Role, Trust, User
from onestack.services.identity.store import get
from onestack.services.identity.tokens import iso

BASE = "/v3/OS-TRUST/trusts"
FIELDS = schemas.trust_create["properties"]["trust"]["properties"]


def _target(trust: Trust) -> dict:
    return {"trustor_user_id": trust.trustor_user_id, "trustee_user_id": trust.trustee_user_id}


def _view(call: Call, session: Session, t: Trust, *, roles: bool = True) -> dict:
    body = {
        **(t.extra or {}), "id": t.id, "trustor_user_id": t.trustor_user_id, "trustee_user_id": t.trustee_user_id,
        "project_id": t.project_id, "impersonation": t.impersonation,
        "expires_at": iso(t.expires_at) if t.expires_at else None, "remaining_uses": t.remaining_uses,
        "allow_redelegation": False, "redelegation_count": 0, "links": {"self": call.url(f"{BASE}/{t.id}")},
    }
    if roles:
        v = views(call)
        body["roles"] = [v.role_ref(r) for r in (session.get(Role, rid) for rid in t.role_ids) if r is not None]
        body["roles_links"] = {"self": call.url(f"{BASE}/{t.id}/roles"), "previous": None, "next": None}
    return body


def _role(session: Session, ref: dict) -> Role:
    if "id" in ref:
        role = session.get(Role, ref["id"])
    else:
        role = session.scalars(select(Role).where(Role.name == ref.get("name"), Role.domain_id == "")).first()
    if role is None:
        raise NotFound(f"Could not find role: {ref}.")
    return role


def create_trust(call: Call) -> Reply:
    body = call.body["trust"]
    authorize(call, "identity:create_trust", {"trustor_user_id": body["trustor_user_id"]})
    ctx = call.ctx
    if ctx.application_credential is not None and ctx.application_credential.get("restricted"):
        raise Forbidden("A restricted application credential cannot create trusts.")
    if body.get("allow_redelegation"):
        raise Forbidden("Redelegation of trusts is not supported.")
    expires = future_expiry(body.get("expires_at"))
    with identity(call).store.write() as session:
        get(session, User, body["trustee_user_id"], "user")
        role_ids: list[str] = []
        project_id = body.get("project_id")
        if project_id:
            project = session.get(Project, project_id)
            if project is None or project.is_domain:
                raise NotFound(f"Could not find project: {project_id}.")
            held = assignments.implied_closure(
                session, assignments.project_role_ids(session, body["trustor_user_id"], project))
            for ref in body.get("roles") or []:
                role = _role(session, ref)
                if role.id not in held:
                    raise Forbidden(f"The trustor does not hold role {role.name} on project {project_id}.")
                role_ids.append(role.id)
        elif body.get("roles"):
            raise BadRequest("A trust without a project cannot delegate roles.")
        trust = Trust(id=new_id(), trustor_user_id=body["trustor_user_id"], trustee_user_id=body["trustee_user_id"],
                      project_id=project_id, impersonation=body["impersonation"], expires_at=expires,
                      remaining_uses=body.get("remaining_uses"), role_ids=role_ids,
                      extra=extra_attributes(body, FIELDS))
        session.add(trust)
        session.flush()
        return Reply({"trust": _view(call, session, trust)}, 201)


def list_trusts(call: Call) -> dict:
    ctx = call.ctx
    trustor, trustee = call.query.get("trustor_user_id"), call.query.get("trustee_user_id")
    if ctx.user_id not in (trustor, trustee):
        authorize(call, "identity:list_trusts")
    with identity(call).store.read() as session:
        stmt = select(Trust)
        if trustor:
            stmt = stmt.where(Trust.trustor_user_id == trustor)
        if trustee:
            stmt = stmt.where(Trust.trustee_user_id == trustee)
        rows = [t for t in session.scalars(stmt) if t.expires_at is None or t.expires_at > utcnow()]
        items = [_view(call, session, t, roles=False) for t in rows]
    return {"trusts": items, "links": {"self": call.url(BASE), "previous": None, "next": None}}


def _trust(session: Session, call: Call, action: str) -> Trust:
    trust = session.get(Trust, call.path["trust_id"])
    if trust is None or (trust.expires_at is not None and trust.expires_at <= utcnow()):
        raise NotFound(f"Could not find trust: {call.path['trust_id']}.")
    authorize(call, action, _target(trust))
    return trust


def get_trust(call: Call) -> dict:
    with identity(call).store.read() as session:
        return {"trust": _view(call, session, _trust(session, call, "identity:get_trust"))}


def delete_trust(call: Call) -> Reply:
    with identity(call).store.write() as session:
        session.delete(_trust(session, call, "identity:delete_trust"))
    return Reply(status=204)


def trust_roles(call: Call) -> dict:
    v = views(call)
    with identity(call).store.read() as session:
        trust = _trust(session, call, "identity:get_trust")
        roles = [r for r in (session.get(Role, rid) for rid in trust.role_ids) if r is not None]
    return {"roles": [v.role_ref(r) for r in roles],
            "links": {"self": call.url(f"{BASE}/{trust.id}/roles"), "previous": None, "next": None}}


def trust_role(call: Call) -> dict:
    with identity(call).store.read() as session:
        trust = _trust(session, call, "identity:get_trust")
        if call.path["role_id"] not in trust.role_ids:
            raise NotFound(f"Trust {trust.id} does not delegate role {call.path['role_id']}.")
        return {"role": views(call).role_ref(_role(session, {"id": call.path["role_id"]}))}


ROUTES = [
    route(BASE, "POST", create_trust, schema=schemas.trust_create),
    route(BASE, "GET", list_trusts),
    route(f"{BASE}/{{trust_id}}", "GET", get_trust),
    route(f"{BASE}/{{trust_id}}", "DELETE", delete_trust),
    route(f"{BASE}/{{trust_id}}/roles", "GET", trust_roles),
    route(f"{BASE}/{{trust_id}}/roles/{{role_id}}", "GET", trust_role),
]
