"""Domains and projects (one table: a domain is a project with ``is_domain``), their hierarchy and tags."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.listing import apply_filters, query_parameters
from onestack.services.identity import schemas
from onestack.services.identity.models import ROOT_DOMAIN, Assignment, Group, Membership, Project, Role, User
from onestack.services.identity.policies import Check
from onestack.services.identity.service.hierarchy import ancestors, subtree
from onestack.services.identity.service.rows import conflict, extra_attributes, listed, merge_extra
from onestack.services.identity.service.tokens import TokenService
from onestack.services.identity.service.transactions import Transactions

MAX_DEPTH = 5
MAX_TAGS = 80
RESERVED = ("domain_id", "parent_id", "is_domain", "id", "links")
DOMAIN_FIELDS = schemas.domain_create["properties"]["domain"]["properties"]
DOMAIN_UPDATABLE = schemas.domain_update["properties"]["domain"]["properties"]
PROJECT_FIELDS = schemas.project_create["properties"]["project"]["properties"]
PROJECT_UPDATABLE = schemas.project_update["properties"]["project"]["properties"]
TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")
# the lists' filters (``Projects.list``, ``Projects.domains``), and their query strings as the OpenAPI
# description publishes them
FILTERS = {"name": "name", "enabled": "enabled", "parent_id": "parent_id", "is_domain": "is_domain"}
DOMAIN_FILTERS = {"name": "name", "enabled": "enabled"}
_TYPED = {"name": {"type": "string"}, "enabled": {"type": "boolean"}, "parent_id": {"type": "string"},
          "is_domain": {"type": "boolean"}}
QUERY = query_parameters({k: _TYPED[k] for k in FILTERS}, paging=(), operators=["name"],
                         domain_id={"type": "string"}, **dict.fromkeys(TAG_FILTERS, {"type": "string"}))
DOMAIN_QUERY = query_parameters({k: _TYPED[k] for k in DOMAIN_FILTERS}, paging=(), operators=["name"])


def _get(session: Session, pid: str, *, domain: bool | None) -> Project:
    row = session.get(Project, pid)
    if row is None or (domain is not None and row.is_domain != domain):
        kind = "domain" if domain else "project"
        raise NotFound(f"Could not find {kind}: {pid}.")
    return row


def _target(row: Project) -> dict:
    return {"project_id": row.id, "domain_id": row.domain_id}


def _check_unique(session: Session, domain_id: str, name: str, is_domain: bool, exclude: str | None = None):
    stmt = select(Project.id).where(Project.name == name)
    stmt = stmt.where(Project.is_domain) if is_domain else stmt.where(Project.domain_id == domain_id)
    if exclude:
        stmt = stmt.where(Project.id != exclude)
    if session.scalars(stmt).first():
        raise conflict("domain" if is_domain else "project", "name", name)


def _create_domain(session: Session, body: dict) -> Project:
    _check_unique(session, ROOT_DOMAIN, body["name"], True)
    did = body.get("explicit_domain_id") or new_id()
    if session.get(Project, did) is not None:
        raise conflict("domain", "id", did)
    row = Project(id=did, name=body["name"], domain_id=ROOT_DOMAIN, parent_id=None, is_domain=True,
                  enabled=body.get("enabled", True), description=body.get("description"),
                  tags=body.get("tags") or [], options=body.get("options") or {},
                  extra=extra_attributes(body, DOMAIN_FIELDS, RESERVED))
    session.add(row)
    session.flush()
    return row


def _delete_domain(session: Session, row: Project) -> None:
    """A domain goes with everything in it; Keystone insists it is disabled first."""
    if row.enabled:
        raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
    did = row.id
    projects = list(session.scalars(select(Project.id).where(Project.domain_id == did)))
    users = list(session.scalars(select(User.id).where(User.domain_id == did)))
    groups = list(session.scalars(select(Group.id).where(Group.domain_id == did)))
    session.execute(delete(Assignment).where(or_(Assignment.target_id.in_([did, *projects]),
                                                 Assignment.actor_id.in_(users + groups))))
    session.execute(delete(Membership).where(Membership.group_id.in_(groups)))
    session.execute(delete(User).where(User.domain_id == did))
    session.execute(delete(Group).where(Group.domain_id == did))
    session.execute(delete(Role).where(Role.domain_id == did))
    session.execute(delete(Project).where(Project.domain_id == did))
    session.delete(row)


def _apply(row, body: dict, known: dict) -> None:
    for key, value in body.items():
        if key in known and hasattr(row, key) and key not in RESERVED:
            setattr(row, key, value if key not in ("tags", "options") else (value or type(getattr(row, key))()))
    merge_extra(row, body, known, RESERVED)


def _match_tags(project: Project, query) -> bool:
    have = set(project.tags or [])
    for key in TAG_FILTERS:
        if key not in query:
            continue
        wanted = {t for t in query[key].split(",") if t}
        ok = {"tags": wanted <= have, "tags-any": bool(wanted & have), "not-tags": not wanted <= have,
              "not-tags-any": not (wanted & have)}[key]
        if not ok:
            return False
    return True


class Projects:
    def __init__(self, transactions: Transactions, tokens: TokenService):
        self.transactions = transactions
        self.tokens = tokens

    # -- domains ---------------------------------------------------------------
    def create_domain(self, body: dict) -> Project:
        with self.transactions.write() as session:
            return _create_domain(session, body)

    def domains(self, query) -> list[Project]:
        stmt = apply_filters(select(Project).where(Project.is_domain), Project, query, DOMAIN_FILTERS)
        return listed(self.transactions, stmt.order_by(Project.name))

    def domain(self, domain_id: str) -> Project:
        with self.transactions.read() as session:
            return _get(session, domain_id, domain=True)

    def update_domain(self, domain_id: str, body: dict) -> Project:
        with self.transactions.write() as session:
            row = _get(session, domain_id, domain=True)
            if "name" in body and body["name"] != row.name:
                _check_unique(session, ROOT_DOMAIN, body["name"], True, exclude=domain_id)
            _apply(row, body, DOMAIN_UPDATABLE)
        return row

    def delete_domain(self, domain_id: str) -> None:
        with self.transactions.write() as session:
            _delete_domain(session, _get(session, domain_id, domain=True))

    # -- projects --------------------------------------------------------------
    def create(self, body: dict, caller_domain: Callable[[], str], check_project: Check,
               check_domain: Check) -> Project:
        """A project in the domain the body, its parent or else the caller's token names (``caller_domain``
        is asked only then); ``is_domain`` makes a domain instead, checked by ``check_domain``."""
        with self.transactions.write() as session:
            parent = None
            if body.get("parent_id"):
                parent = session.get(Project, body["parent_id"])
                if parent is None:
                    raise NotFound(f"Could not find project: {body['parent_id']}.")
            if body.get("is_domain"):
                if parent is not None:
                    raise BadRequest("A project acting as a domain cannot have a parent.")
                check_domain({})
                return _create_domain(session, body)
            domain_id = body.get("domain_id") or (parent.domain_id if parent and not parent.is_domain else None) \
                or (parent.id if parent is not None else None) or caller_domain()
            check_project({"domain_id": domain_id})
            domain = session.get(Project, domain_id)
            if domain is None or not domain.is_domain:
                raise NotFound(f"Could not find domain: {domain_id}.")
            if parent is None:
                parent = domain
            parent_domain = parent.id if parent.is_domain else parent.domain_id
            if parent_domain != domain_id:
                raise BadRequest("The project's domain must be the domain of its parent.")
            if len(ancestors(session, parent)) + 1 >= MAX_DEPTH + 1:
                raise Forbidden(f"Max hierarchy depth reached for {parent.id} branch.")
            _check_unique(session, domain_id, body["name"], False)
            row = Project(id=new_id(), name=body["name"], domain_id=domain_id, parent_id=parent.id,
                          is_domain=False, enabled=body.get("enabled", True), description=body.get("description"),
                          tags=body.get("tags") or [], options=body.get("options") or {},
                          extra=extra_attributes(body, PROJECT_FIELDS, RESERVED))
            session.add(row)
            session.flush()
            return row

    def list(self, domain_id: str | None, query) -> list[Project]:
        with self.transactions.read() as session:
            stmt = select(Project)
            if domain_id is not None:
                stmt = stmt.where(Project.domain_id == domain_id)
            if "is_domain" not in query:
                stmt = stmt.where(Project.is_domain.is_(False))
            stmt = apply_filters(stmt, Project, query, FILTERS)
            return [p for p in session.scalars(stmt.order_by(Project.name)) if _match_tags(p, query)]

    def get(self, project_id: str, check: Check, *, parents: bool = False,
            below: bool = False) -> tuple[Project, list[Project] | None, list[Project] | None]:
        """The project, and when asked its parents (nearest first) and everything below it."""
        with self.transactions.read() as session:
            row = _get(session, project_id, domain=None)
            check(_target(row))
            up = [p for p in ancestors(session, row) if not p.is_domain or row.is_domain] if parents else None
            down = subtree(session, row.id) if below else None
            return row, up, down

    def update(self, project_id: str, body: dict, check: Check) -> Project:
        with self.transactions.write() as session:
            row = _get(session, project_id, domain=None)
            check(_target(row))
            if "name" in body and body["name"] != row.name:
                _check_unique(session, row.domain_id, body["name"], row.is_domain, exclude=project_id)
            if body.get("enabled") and row.parent_id:
                parent = session.get(Project, row.parent_id)
                if parent is not None and not parent.is_domain and not parent.enabled:
                    raise Forbidden(f"Cannot enable project {project_id} since it has disabled parents.")
            _apply(row, body, PROJECT_UPDATABLE)
        return row

    def delete(self, project_id: str, cascade: bool, check: Check) -> None:
        """A leaf project, or with ``cascade`` its whole subtree; tokens scoped to them stop working."""
        with self.transactions.write() as session:
            row = _get(session, project_id, domain=None)
            check(_target(row))
            if row.is_domain:
                _delete_domain(session, row)
                return
            below = subtree(session, row.id)
            if below and not cascade:
                raise Forbidden(f"Cannot delete the project {project_id} since it is not a leaf in the hierarchy. "
                                "Use the cascade option if you want to delete a whole subtree.")
            ids = [project_id, *(p.id for p in below)]
            session.execute(delete(Assignment).where(Assignment.target_id.in_(ids)))
            session.execute(delete(Project).where(Project.id.in_(ids)))
            for pid in ids:
                self.tokens.revoke(session, project_id=pid)

    # -- tags ------------------------------------------------------------------
    def tags(self, project_id: str, check: Check) -> list[str]:
        with self.transactions.read() as session:
            row = _get(session, project_id, domain=None)
            check(_target(row))
            return list(row.tags or [])

    def change_tags(self, project_id: str, change: Callable[[list[str]], list[str]], check: Check) -> list[str]:
        with self.transactions.write() as session:
            row = _get(session, project_id, domain=None)
            check(_target(row))
            tags = change(list(row.tags or []))
            if len(tags) > MAX_TAGS:
                raise BadRequest(f"A project has at most {MAX_TAGS} tags.")
            row.tags = tags
            return tags
