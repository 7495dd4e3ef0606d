"""Groups and their members."""

from __future__ import annotations

import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import NotFound
from onestack.http.listing import apply_filters, query_parameters
from onestack.services.identity import schemas
from onestack.services.identity.models import Assignment, Group, Membership, User
from onestack.services.identity.policies import Check
from onestack.services.identity.service.hierarchy import require_domain
from onestack.services.identity.service.passwords import password_expiry
from onestack.services.identity.service.rows import (
    assign,
    extra_attributes,
    get,
    keep_domain_and_unique_name,
    listed,
    merge_extra,
    refuse_taken_name,
)
from onestack.services.identity.service.transactions import Transactions

FIELDS = schemas.group_create["properties"]["group"]["properties"]
# the list's filters (``Groups.list``), and its query string as the OpenAPI description publishes it
FILTERS = {"name": "name"}
QUERY = query_parameters(FILTERS, paging=(), operators=FILTERS, domain_id={"type": "string"})


def _group(session: Session, group_id: str) -> Group:
    return get(session, Group, group_id, "group")


def _target(group: Group) -> dict:
    return {"domain_id": group.domain_id}


def _not_member(user_id: str, group_id: str) -> NotFound:
    return NotFound(f"User {user_id} is not a member of group {group_id}.")


class Groups:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def create(self, domain_id: str, body: dict) -> Group:
        with self.transactions.write() as session:
            require_domain(session, domain_id)
            refuse_taken_name(session, Group, domain_id, body["name"], "group")
            row = Group(id=new_id(), name=body["name"], domain_id=domain_id, description=body.get("description"),
                        extra=extra_attributes(body, FIELDS))
            session.add(row)
            session.flush()
        return row

    def list(self, domain_id: str | None, query) -> list[Group]:
        stmt = select(Group)
        if domain_id is not None:
            stmt = stmt.where(Group.domain_id == domain_id)
        return listed(self.transactions, apply_filters(stmt, Group, query, FILTERS).order_by(Group.name))

    def get(self, group_id: str, check: Check) -> Group:
        with self.transactions.read() as session:
            row = _group(session, group_id)
            check(_target(row))
            return row

    def update(self, group_id: str, body: dict, check: Check) -> Group:
        with self.transactions.write() as session:
            row = _group(session, group_id)
            check(_target(row))
            keep_domain_and_unique_name(session, Group, row, body, "group")
            assign(row, body, ("name", "description"))
            merge_extra(row, body, FIELDS)
        return row

    def delete(self, group_id: str, check: Check) -> None:
        with self.transactions.write() as session:
            row = _group(session, group_id)
            check(_target(row))
            session.execute(delete(Assignment).where(Assignment.actor_id == row.id))
            session.delete(row)

    def users(self, group_id: str, check: Check) -> tuple[Group, list[tuple[User, datetime.datetime | None]]]:
        with self.transactions.read() as session:
            group = _group(session, group_id)
            check(_target(group))
            rows = session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                   .where(Membership.group_id == group.id).order_by(User.name)).all()
            return group, [(u, password_expiry(session, u)) for u in rows]

    # -- membership --------------------------------------------------------------
    def add_member(self, group_id: str, user_id: str, check: Check) -> None:
        with self.transactions.write() as session:
            group, member = _group(session, group_id), get(session, User, user_id, "user")
            check(_target(group))
            if session.get(Membership, (member.id, group.id)) is None:
                session.add(Membership(user_id=member.id, group_id=group.id))

    def check_member(self, group_id: str, user_id: str, check: Check) -> None:
        with self.transactions.read() as session:
            group, member = _group(session, group_id), get(session, User, user_id, "user")
            check(_target(group))
            if session.get(Membership, (member.id, group.id)) is None:
                raise _not_member(member.id, group.id)

    def remove_member(self, group_id: str, user_id: str, check: Check) -> None:
        with self.transactions.write() as session:
            group, member = _group(session, group_id), get(session, User, user_id, "user")
            check(_target(group))
            row = session.get(Membership, (member.id, group.id))
            if row is None:
                raise _not_member(member.id, group.id)
            session.delete(row)
