"""Application credentials (a user's secret for one project, with some of their roles) and the access
rules that narrow what one may call."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden
from onestack.services.identity.models import AccessRule, ApplicationCredential, Role, User
from onestack.services.identity.service.passwords import hash_secret
from onestack.services.identity.service.rows import conflict, future_expiry, get, listed, owned
from onestack.services.identity.service.transactions import Transactions

# Application credential secrets are long random strings: a few bcrypt rounds are plenty.
APP_CRED_ROUNDS = 4

# An application credential and what its view shows with it: its roles and its access rules.
Described = tuple[ApplicationCredential, list[Role], list[AccessRule]]


def _described(session: Session, c: ApplicationCredential) -> Described:
    roles = [r for r in (session.get(Role, rid) for rid in c.role_ids) if r is not None]
    rules = [r for r in (session.get(AccessRule, i) for i in c.access_rule_ids) if r is not None]
    return c, roles, rules


def _refuse_restricted(ctx: Context, what: str) -> None:
    if ctx.application_credential is not None and ctx.application_credential.get("restricted"):
        raise Forbidden(f"A restricted application credential cannot {what} application credentials.")


def _access_rule(session: Session, user_id: str, rule: dict) -> str:
    if "id" in rule:
        return owned(session, AccessRule, rule["id"], user_id, "access rule").id
    if not {"service", "path", "method"} <= set(rule):
        raise BadRequest("An access rule needs a service, a path and a method.")
    existing = session.scalars(select(AccessRule).where(
        AccessRule.user_id == user_id, AccessRule.service == rule["service"], AccessRule.path == rule["path"],
        AccessRule.method == rule["method"])).first()
    if existing is not None:
        return existing.id
    row = AccessRule(id=new_id(), user_id=user_id, service=rule["service"], path=rule["path"],
                     method=rule["method"])
    session.add(row)
    session.flush()
    return row.id


class ApplicationCredentials:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def create(self, ctx: Context, user_id: str, body: dict) -> tuple[Described, str]:
        """The credential, with the secret shown this once (generated unless the caller chose one)."""
        _refuse_restricted(ctx, "create")
        if not ctx.project_id:
            raise Forbidden("An application credential is created from a project-scoped token.")
        with self.transactions.write() as session:
            if session.scalars(select(ApplicationCredential.id).where(
                    ApplicationCredential.user_id == user_id, ApplicationCredential.name == body["name"])).first():
                raise conflict("application credential", "name", body["name"])
            role_ids = []
            for ref in body.get("roles") or [{"id": r} for r in sorted(ctx.role_ids)]:
                role = session.get(Role, ref["id"]) if "id" in ref else session.scalars(
                    select(Role).where(Role.name == ref.get("name"), Role.domain_id == "")).first()
                if role is None or role.id not in ctx.role_ids:
                    raise Forbidden(f"The caller does not hold role {ref} on project {ctx.project_id}.")
                role_ids.append(role.id)
            rule_ids = [_access_rule(session, user_id, rule) for rule in body.get("access_rules") or []]
            secret = body.get("secret") or secrets.token_urlsafe(64)
            cred = ApplicationCredential(
                id=new_id(), name=body["name"], user_id=user_id, project_id=ctx.project_id,
                secret_hash=hash_secret(secret, APP_CRED_ROUNDS), description=body.get("description"),
                expires_at=future_expiry(body.get("expires_at")), unrestricted=bool(body.get("unrestricted")),
                role_ids=role_ids, access_rule_ids=rule_ids,
            )
            session.add(cred)
            session.flush()
            return _described(session, cred), secret

    def list(self, user_id: str, name: str | None) -> list[Described]:
        with self.transactions.read() as session:
            get(session, User, user_id, "user")
            stmt = select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
            if name is not None:
                stmt = stmt.where(ApplicationCredential.name == name)
            return [_described(session, c) for c in session.scalars(stmt.order_by(ApplicationCredential.name))]

    def get(self, user_id: str, cred_id: str) -> Described:
        with self.transactions.read() as session:
            return _described(session, owned(session, ApplicationCredential, cred_id, user_id,
                                                "application credential"))

    def delete(self, ctx: Context, user_id: str, cred_id: str) -> None:
        _refuse_restricted(ctx, "delete")
        with self.transactions.write() as session:
            session.delete(owned(session, ApplicationCredential, cred_id, user_id, "application credential"))

    # -- access rules ------------------------------------------------------------------
    def access_rules(self, user_id: str) -> list[AccessRule]:
        return listed(self.transactions, select(AccessRule).where(AccessRule.user_id == user_id))

    def access_rule(self, user_id: str, rule_id: str) -> AccessRule:
        with self.transactions.read() as session:
            return owned(session, AccessRule, rule_id, user_id, "access rule")

    def delete_access_rule(self, user_id: str, rule_id: str) -> None:
        with self.transactions.write() as session:
            row = owned(session, AccessRule, rule_id, user_id, "access rule")
            creds = session.scalars(select(ApplicationCredential).where(ApplicationCredential.user_id == user_id))
            if any(row.id in c.access_rule_ids for c in creds):
                raise Forbidden(f"Access rule {row.id} is still used by an application credential.")
            session.delete(row)
