"""Users: their records, their own password changes under the security-compliance rules, and what
they belong to (groups, projects they hold roles on)."""

from __future__ import annotations

import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.base import new_id, utcnow
from onestack.http.errors import BadRequest, Forbidden, Unauthorized
from onestack.http.listing import apply_filters, query_parameters
from onestack.http.times import time_filters
from onestack.services.identity import schemas
from onestack.services.identity.models import (
    AccessRule,
    ApplicationCredential,
    Assignment,
    Credential,
    Group,
    Membership,
    Password,
    Project,
    User,
)
from onestack.services.identity.policies import Check
from onestack.services.identity.service.held_roles import projects_with_roles
from onestack.services.identity.service.hierarchy import require_domain
from onestack.services.identity.service.passwords import check_password, password_expiry, store_password
from onestack.services.identity.service.rows import (
    assign,
    extra_attributes,
    get,
    keep_domain_and_unique_name,
    merge_extra,
    merged_options,
    refuse_taken_name,
)
from onestack.services.identity.service.tokens import TokenService
from onestack.services.identity.service.transactions import Transactions

FIELDS = schemas.user_create["properties"]["user"]["properties"]
# the list's filters (``Users.list``), and its query string as the OpenAPI description publishes it
FILTERS = {"name": "name", "enabled": "enabled"}
QUERY = query_parameters({"name": {"type": "string"}, "enabled": {"type": "boolean"}}, paging=(), operators=["name"],
                         domain_id={"type": "string"}, password_expires_at={"type": "string"})

# A user and when the password in force expires, which its view shows.
Described = tuple[User, datetime.datetime | None]


def user(session: Session, user_id: str) -> User:
    return get(session, User, user_id, "user")


def _target(row: User) -> dict:
    return {"user_id": row.id, "domain_id": row.domain_id}


def _described(session: Session, row: User) -> Described:
    return row, password_expiry(session, row)


def _history(session: Session, user_id: str, count: int) -> list[Password]:
    return list(session.scalars(select(Password).where(Password.user_id == user_id)
                                .order_by(Password.id.desc()).limit(max(count, 1))))


def _expiry_filter(value: str):
    pieces = time_filters(value, "password_expires_at")
    return lambda expires: expires is not None and all(op(expires, moment) for op, moment in pieces)


class Users:
    def __init__(self, transactions: Transactions, tokens: TokenService, settings: Settings):
        self.transactions = transactions
        self.tokens = tokens
        self.settings = settings

    def create(self, domain_id: str, body: dict) -> Described:
        with self.transactions.write() as session:
            require_domain(session, domain_id)
            refuse_taken_name(session, User, domain_id, body["name"], "user")
            row = User(id=new_id(), name=body["name"], domain_id=domain_id, enabled=body.get("enabled", True),
                       default_project_id=body.get("default_project_id"), description=body.get("description"),
                       email=body.get("email"), options={k: v for k, v in (body.get("options") or {}).items()
                                                         if v is not None},
                       extra=extra_attributes(body, FIELDS))
            session.add(row)
            session.flush()
            store_password(session, row, body.get("password"), self.settings, self_service=False)
            session.flush()
            return _described(session, row)

    def list(self, domain_id: str | None, query) -> list[Described]:
        with self.transactions.read() as session:
            stmt = select(User)
            if domain_id is not None:
                stmt = stmt.where(User.domain_id == domain_id)
            stmt = apply_filters(stmt, User, query, FILTERS)
            found = [_described(session, u) for u in session.scalars(stmt.order_by(User.name))]
        if "password_expires_at" in query:
            keep = _expiry_filter(query["password_expires_at"])
            found = [(u, expires) for u, expires in found if keep(expires)]
        return found

    def get(self, user_id: str, check: Check) -> Described:
        with self.transactions.read() as session:
            row = user(session, user_id)
            check(_target(row))
            return _described(session, row)

    def update(self, user_id: str, body: dict, check: Check) -> Described:
        with self.transactions.write() as session:
            row = user(session, user_id)
            check(_target(row))
            keep_domain_and_unique_name(session, User, row, body, "user")
            assign(row, body, ("name", "enabled", "default_project_id", "description", "email"))
            if "options" in body:
                row.options = merged_options(row.options, body["options"])
            merge_extra(row, body, FIELDS)
            if "password" in body:
                store_password(session, row, body["password"], self.settings, self_service=False)
                self.tokens.revoke(session, user_id=row.id)
            if body.get("enabled") is False:
                self.tokens.revoke(session, user_id=row.id)
            session.flush()
            return _described(session, row)

    def delete(self, user_id: str, check: Check) -> None:
        with self.transactions.write() as session:
            row = user(session, user_id)
            check(_target(row))
            for model in (Membership, ApplicationCredential, AccessRule, Credential, Password):
                session.execute(delete(model).where(model.user_id == row.id))
            session.execute(delete(Assignment).where(Assignment.actor_id == row.id))
            session.delete(row)
            self.tokens.revoke(session, user_id=row.id)

    def change_password(self, user_id: str, original: str, password: str) -> None:
        """A user's own change: the original proves it is them; the compliance rules decide if it may."""
        rules = self.settings.security_compliance
        with self.transactions.write() as session:
            row = session.get(User, user_id)
            if row is None or not row.enabled:
                raise Unauthorized()
            history = _history(session, user_id, rules.unique_last_password_count)
            if not history or not check_password(original, history[0].hash):
                raise Unauthorized("The original password is wrong.")
            if (row.options or {}).get("lock_password"):
                raise Forbidden(f"You are not allowed to change the password of user {user_id}.")
            if rules.minimum_password_age and history[0].self_service:
                ready = history[0].created_at + datetime.timedelta(days=rules.minimum_password_age)
                if utcnow() < ready:
                    raise BadRequest(f"You cannot change your password at this time due to the minimum password "
                                     f"age. Once you change your password, it must be used for "
                                     f"{rules.minimum_password_age} day(s) before it can be changed.")
            if rules.unique_last_password_count > 0:
                for old in history[: rules.unique_last_password_count]:
                    if check_password(password, old.hash):
                        raise BadRequest("The new password cannot be identical to a previous password. The total "
                                         f"number which includes the new password must be unique is "
                                         f"{rules.unique_last_password_count}.")
            store_password(session, row, password, self.settings, self_service=True)
            self.tokens.revoke(session, user_id=user_id)

    def groups(self, user_id: str, check: Check) -> tuple[User, list[Group]]:
        with self.transactions.read() as session:
            row = user(session, user_id)
            check(_target(row))
            return row, list(session.scalars(select(Group).join(Membership, Membership.group_id == Group.id)
                                             .where(Membership.user_id == row.id).order_by(Group.name)))

    def projects(self, user_id: str, wanted: dict, check: Check) -> tuple[User, list[Project]]:
        """The projects the user holds a role on, directly, through a group or by inheritance, that have
        the ``wanted`` values (of name, domain_id, enabled)."""
        with self.transactions.read() as session:
            row = user(session, user_id)
            check(_target(row))
            ids = projects_with_roles(session, row.id)
            projects = session.scalars(select(Project).where(Project.id.in_(ids)).order_by(Project.name))
            return row, [p for p in projects if all(getattr(p, k) == v for k, v in wanted.items())]

