"""OS-TRUST: a trustor delegates some of their roles on a project to a trustee."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id, utcnow
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.services.identity import schemas
from onestack.services.identity.models import Project, Role, Trust, User
from onestack.services.identity.policies import Check
from onestack.services.identity.service import held_roles
from onestack.services.identity.service.rows import extra_attributes, future_expiry, get
from onestack.services.identity.service.transactions import Transactions

FIELDS = schemas.trust_create["properties"]["trust"]["properties"]


def _target(trust: Trust) -> dict:
    return {"trustor_user_id": trust.trustor_user_id, "trustee_user_id": trust.trustee_user_id}


def _role(session: Session, ref: dict) -> Role:
    if "id" in ref:
        role = session.get(Role, ref["id"])
    else:
        role = session.scalars(select(Role).where(Role.name == ref.get("name"), Role.domain_id == "")).first()
    if role is None:
        raise NotFound(f"Could not find role: {ref}.")
    return role


def _roles(session: Session, trust: Trust) -> list[Role]:
    return [r for r in (session.get(Role, rid) for rid in trust.role_ids) if r is not None]


def _trust(session: Session, trust_id: str, check: Check) -> Trust:
    trust = session.get(Trust, trust_id)
    if trust is None or (trust.expires_at is not None and trust.expires_at <= utcnow()):
        raise NotFound(f"Could not find trust: {trust_id}.")
    check(_target(trust))
    return trust


class Trusts:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def create(self, ctx: Context, body: dict) -> tuple[Trust, list[Role]]:
        if ctx.application_credential is not None and ctx.application_credential.get("restricted"):
            raise Forbidden("A restricted application credential cannot create trusts.")
        if body.get("allow_redelegation"):
            raise Forbidden("Redelegation of trusts is not supported.")
        expires = future_expiry(body.get("expires_at"))
        with self.transactions.write() as session:
            get(session, User, body["trustee_user_id"], "user")
            role_ids: list[str] = []
            project_id = body.get("project_id")
            if project_id:
                project = session.get(Project, project_id)
                if project is None or project.is_domain:
                    raise NotFound(f"Could not find project: {project_id}.")
                held = held_roles.implied_closure(
                    session, held_roles.project_role_ids(session, body["trustor_user_id"], project))
                for ref in body.get("roles") or []:
                    role = _role(session, ref)
                    if role.id not in held:
                        raise Forbidden(f"The trustor does not hold role {role.name} on project {project_id}.")
                    role_ids.append(role.id)
            elif body.get("roles"):
                raise BadRequest("A trust without a project cannot delegate roles.")
            trust = Trust(id=new_id(), trustor_user_id=body["trustor_user_id"],
                          trustee_user_id=body["trustee_user_id"], project_id=project_id,
                          impersonation=body["impersonation"], expires_at=expires,
                          remaining_uses=body.get("remaining_uses"), role_ids=role_ids,
                          extra=extra_attributes(body, FIELDS))
            session.add(trust)
            session.flush()
            return trust, _roles(session, trust)

    def list(self, trustor: str | None, trustee: str | None) -> list[Trust]:
        """The trusts not yet expired, of a trustor, a trustee, or all."""
        with self.transactions.read() as session:
            stmt = select(Trust)
            if trustor:
                stmt = stmt.where(Trust.trustor_user_id == trustor)
            if trustee:
                stmt = stmt.where(Trust.trustee_user_id == trustee)
            return [t for t in session.scalars(stmt) if t.expires_at is None or t.expires_at > utcnow()]

    def get(self, trust_id: str, check: Check) -> tuple[Trust, list[Role]]:
        with self.transactions.read() as session:
            trust = _trust(session, trust_id, check)
            return trust, _roles(session, trust)

    def delete(self, trust_id: str, check: Check) -> None:
        with self.transactions.write() as session:
            session.delete(_trust(session, trust_id, check))

    def role(self, trust_id: str, role_id: str, check: Check) -> Role:
        """One role the trust delegates."""
        with self.transactions.read() as session:
            trust = _trust(session, trust_id, check)
            if role_id not in trust.role_ids:
                raise NotFound(f"Trust {trust.id} does not delegate role {role_id}.")
            return _role(session, {"id": role_id})
