"""Roles, global or of one domain, and the rules by which one role implies another."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import Forbidden, NotFound
from onestack.http.listing import apply_filters, query_parameters
from onestack.services.identity import schemas
from onestack.services.identity.models import Assignment, ImpliedRole, Project, Role
from onestack.services.identity.service.held_roles import implied_closure
from onestack.services.identity.service.rows import assign, get, listed, merged_options, refuse_taken_name
from onestack.services.identity.service.transactions import Transactions

FIELDS = schemas.role_create["properties"]["role"]["properties"]
# the list's filters (``Roles.list``), and its query string as the OpenAPI description publishes it
FILTERS = {"name": "name"}
QUERY = query_parameters(FILTERS, paging=(), operators=FILTERS, domain_id={"type": "string"})


def role(session: Session, role_id: str) -> Role:
    return get(session, Role, role_id, "role")


def _immutable(row: Role) -> None:
    if (row.options or {}).get("immutable"):
        raise Forbidden(f"Role {row.id} is immutable and cannot be changed or deleted.")


def _edge(session: Session, prior_id: str, implied_id: str) -> tuple[Role, Role, ImpliedRole]:
    prior, implied = role(session, prior_id), role(session, implied_id)
    edge = session.get(ImpliedRole, (prior.id, implied.id))
    if edge is None:
        raise NotFound(f"{prior.id} does not imply {implied.id}.")
    return prior, implied, edge


def _implied_by(session: Session) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    for e in session.scalars(select(ImpliedRole)):
        edges.setdefault(e.prior_role_id, []).append(e.implied_role_id)
    return edges


class Roles:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def create(self, body: dict) -> Role:
        domain_id = body.get("domain_id") or ""
        with self.transactions.write() as session:
            if domain_id:
                domain = session.get(Project, domain_id)
                if domain is None or not domain.is_domain:
                    raise NotFound(f"Could not find domain: {domain_id}.")
            refuse_taken_name(session, Role, domain_id, body["name"], "role")
            row = Role(id=new_id(), name=body["name"], domain_id=domain_id, description=body.get("description"),
                       options={k: v for k, v in (body.get("options") or {}).items() if v is not None},
                       extra={k: v for k, v in body.items() if k not in FIELDS})
            session.add(row)
            session.flush()
        return row

    def list(self, query) -> list[Role]:
        """Global roles, or a domain's own (``domain_id``)."""
        stmt = select(Role).where(Role.domain_id == (query.get("domain_id") or ""))
        return listed(self.transactions, apply_filters(stmt, Role, query, FILTERS).order_by(Role.name))

    def get(self, role_id: str) -> Role:
        with self.transactions.read() as session:
            return role(session, role_id)

    def update(self, role_id: str, body: dict) -> Role:
        with self.transactions.write() as session:
            row = role(session, role_id)
            if (row.options or {}).get("immutable") and set(body) - {"options"}:
                _immutable(row)
            if "name" in body and body["name"] != row.name:
                refuse_taken_name(session, Role, row.domain_id, body["name"], "role")
            assign(row, body, ("name", "description"))
            if "options" in body:
                row.options = merged_options(row.options, body["options"])
        return row

    def delete(self, role_id: str) -> None:
        with self.transactions.write() as session:
            row = role(session, role_id)
            _immutable(row)
            session.execute(delete(Assignment).where(Assignment.role_id == row.id))
            session.execute(delete(ImpliedRole).where((ImpliedRole.prior_role_id == row.id)
                                                      | (ImpliedRole.implied_role_id == row.id)))
            session.delete(row)

    # -- implied roles -----------------------------------------------------------
    def imply(self, prior_id: str, implied_id: str) -> tuple[Role, Role]:
        with self.transactions.write() as session:
            prior, implied = role(session, prior_id), role(session, implied_id)
            if implied.domain_id and not prior.domain_id:
                raise Forbidden(f"A global role cannot imply the domain-specific role {implied.id}.")
            if prior.id == implied.id or prior.id in implied_closure(session, {implied.id}):
                raise Forbidden("Implied roles may not form a loop.")
            if session.get(ImpliedRole, (prior.id, implied.id)) is None:
                session.add(ImpliedRole(prior_role_id=prior.id, implied_role_id=implied.id))
        return prior, implied

    def implication(self, prior_id: str, implied_id: str) -> tuple[Role, Role]:
        """The two roles, if the first implies the second."""
        with self.transactions.read() as session:
            prior, implied, _ = _edge(session, prior_id, implied_id)
            return prior, implied

    def unimply(self, prior_id: str, implied_id: str) -> None:
        with self.transactions.write() as session:
            _, _, edge = _edge(session, prior_id, implied_id)
            session.delete(edge)

    def implied(self, prior_id: str) -> tuple[Role, list[Role]]:
        """The role and the roles it implies directly."""
        with self.transactions.read() as session:
            prior = role(session, prior_id)
            return prior, [session.get(Role, i) for i in _implied_by(session).get(prior.id, [])]

    def inferences(self) -> list[tuple[Role, list[Role]]]:
        """Every role that implies others, with those it implies."""
        with self.transactions.read() as session:
            return [(session.get(Role, prior), [session.get(Role, i) for i in implied])
                    for prior, implied in _implied_by(session).items()]
