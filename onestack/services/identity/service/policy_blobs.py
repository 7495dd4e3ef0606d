"""Policy blobs (Keystone's /v3/policies), stored and served for other services; onestack enforces its
own rules (``policies.py``), never these."""

from __future__ import annotations

from sqlalchemy import select

from onestack.db.base import new_id
from onestack.services.identity.models import Policy
from onestack.services.identity.service.rows import deleted, extra_attributes, listed, one, updated
from onestack.services.identity.service.transactions import Transactions

FIELDS = ("blob", "type")


class PolicyBlobs:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def create(self, body: dict) -> Policy:
        with self.transactions.write() as session:
            row = Policy(id=new_id(), type=body["type"], blob=body["blob"], extra=extra_attributes(body, FIELDS))
            session.add(row)
        return row

    def list(self, type_: str | None) -> list[Policy]:
        stmt = select(Policy)
        if type_ is not None:
            stmt = stmt.where(Policy.type == type_)
        return listed(self.transactions, stmt.order_by(Policy.id))

    def get(self, policy_id: str) -> Policy:
        return one(self.transactions, Policy, policy_id, "policy")

    def update(self, policy_id: str, body: dict) -> Policy:
        return updated(self.transactions, Policy, policy_id, "policy", body, FIELDS)

    def delete(self, policy_id: str) -> None:
        deleted(self.transactions, Policy, policy_id, "policy")
