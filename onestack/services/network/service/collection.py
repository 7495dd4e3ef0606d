"""What every network resource shares: visibility, policy, tags, and the five operations its routes
ask for (list, show, create, update, delete), each in its own transaction.

A resource is a ``Collection`` subclass that names its attribute table (``schemas.py``) and overrides
the hooks it needs: ``render`` (its own attributes, through ``views.py``), ``create``, ``update``,
``delete`` and ``scope``.  The hooks run inside a caller's transaction (other resources and compute
call them too); the operations open the transaction, retry a create that lost a race, and render.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import asc, desc, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.attrmap import RENDERED, Table, matches
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound, PreconditionFailed
from onestack.http.listing import coerce_filter, page, seek
from onestack.http.numbers import decimal
from onestack.services.network import policies, views
from onestack.services.network.service import tags as tagging
from onestack.services.network.service.quotas import Quotas

# Creates are retried when a racing transaction took the same address or segment first.
CREATE_ATTEMPTS = 5


def new_uuid() -> str:
    return str(uuid.uuid4())


@dataclasses.dataclass(frozen=True)
class Listing:
    """A list request as the attribute table reads it from the query string."""

    filters: dict[str, list]
    tags: list[tuple[str, list[str]]]
    order: list[tuple[str, str]]
    fields: list[str]
    limit: int | None
    marker: str | None


@dataclasses.dataclass(frozen=True)
class Page:
    items: list[dict]
    # The last item's id when more follow (the marker of the next page).
    next_marker: str | None


def touch(row) -> None:
    """Count a change that lives outside the row (tags, an interface) in its revision and update time."""
    row.updated_at = utcnow()


class Collection:
    singular = ""
    plural = ""
    # The URL segment, where it differs from the plural body key ("security-groups").
    path = ""
    model: Any = None
    table: Table
    # The resource as errors name it ("Network", "Security group": type SecurityGroupNotFound).
    kind = ""
    # Whether it carries Neutron's standard attributes (description, tags, timestamps, revision);
    # address scopes and RBAC policies do not, and have no ``/tags``.
    standard_attributes = True

    def __init__(self, db: Database, quotas: Quotas):
        """``quotas``: what every resource's create counts against."""
        self.db, self.quotas = db, quotas

    # -- policy and visibility ---------------------------------------------------
    def authorize(self, ctx: Context, action: str, target: dict | None = None) -> None:
        policies.authorize(ctx, action, self.singular, target)

    def target(self, row) -> dict:
        return {"project_id": row.project_id}

    def scope(self, session: Session, ctx: Context):
        """The SQL condition for the rows ``ctx`` may see; None means all."""
        if policies.sees_everything(ctx):
            return None
        return self.project_scope(session, ctx)

    def project_scope(self, session: Session, ctx: Context):
        """What a project's members and readers see: its own rows (resources add what is shared)."""
        return self.model.project_id == ctx.project_id

    def visible(self, session: Session, ctx: Context, row) -> bool:
        cond = self.scope(session, ctx)
        if cond is None:
            return True
        return session.scalar(select(self.model.id).where(self.model.id == row.id, cond)) is not None

    def not_found(self, ident: str) -> NotFound:
        type_name = "".join(word[:1].upper() + word[1:] for word in self.kind.split())
        return NotFound(f"{self.kind} {ident} could not be found.", kind=f"{type_name}NotFound")

    def get(self, session: Session, ctx: Context, ident: str):
        row = session.get(self.model, ident)
        if row is None or not self.visible(session, ctx, row):
            raise self.not_found(ident)
        return row

    def find(self, session: Session, ident: str):
        """A row by id regardless of the caller (for references checked by their own rules)."""
        row = session.get(self.model, ident)
        if row is None:
            raise self.not_found(ident)
        return row

    # -- bodies ------------------------------------------------------------------
    def owner(self, ctx: Context, body: dict) -> str:
        """The project a new resource belongs to: the caller's, or another one an admin names."""
        project, tenant = body.pop("project_id", None), body.pop("tenant_id", None)
        if project and tenant and project != tenant:
            raise BadRequest("project_id and tenant_id do not match", kind="HTTPBadRequest")
        return project or tenant or ctx.project_id or ""

    def view(self, session: Session, ctx: Context, row, tags: list[str] | None = None) -> dict:
        if not self.standard_attributes:
            return views.resource(row, self.render(session, ctx, row), None)
        return views.resource(row, self.render(session, ctx, row),
                              tags if tags is not None else self.tags(session, row.id))

    def render(self, session: Session, ctx: Context, row) -> dict:
        """The resource's own attributes, as ``ctx`` sees them."""
        return {}

    def before_list(self, ctx: Context) -> None:
        """Work a list needs done first, in its own transaction (the default security group)."""

    def filter_clause(self, name: str, values: list) -> list | None:
        """SQL conditions for a filter the attribute table alone cannot express; None: the default."""
        return None

    # -- tags --------------------------------------------------------------------
    @staticmethod
    def tags(session: Session, ident: str) -> list[str]:
        return tagging.of(session, ident)

    @staticmethod
    def set_tags(session: Session, ident: str, tags: list[str]) -> None:
        tagging.replace(session, ident, tags)

    @staticmethod
    def touch(row) -> None:
        touch(row)

    # -- changes (resources override) -------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict):
        raise NotImplementedError

    def update(self, session: Session, ctx: Context, row, changes: dict) -> None:
        for key, value in changes.items():
            setattr(row, self.table[key].field, value)

    def delete(self, session: Session, ctx: Context, row) -> None:
        session.delete(row)

    def admit(self, session: Session, ctx: Context, row) -> None:
        """May the caller create ``row``, and has its project quota for one more."""
        self.authorize(ctx, "create", {"project_id": row.project_id})
        self.quotas.check(session, row.project_id, self.singular)

    def new_row(self, ctx: Context, body: dict, **values):
        """A row with the standard attributes from ``body`` and the given values."""
        row = self.model(id=new_uuid(), project_id=self.owner(ctx, body), description=body.pop("description", ""),
                         **values)
        if "name" in body and hasattr(self.model, "name"):
            row.name = body.pop("name")
        return row

    # -- the operations of the resource's routes, each one transaction ---------------------
    def read_list(self, ctx: Context, listing: Listing) -> Page:
        """Neutron's list: the rows ``ctx`` sees, filtered in SQL where the table says the column is the
        attribute and on the rendered bodies otherwise, sorted, cut at the marker and limit."""
        self.before_list(ctx)
        in_python: set[str] = set()
        with self.db.read() as session:
            stmt = select(self.model)
            scope = self.scope(session, ctx)
            if scope is not None:
                stmt = stmt.where(scope)
            for name, values in listing.filters.items():
                custom = self.filter_clause(name, values)
                column = self._column(name)
                if custom is not None:
                    stmt = stmt.where(*custom)
                elif column is not None and name != "tags":
                    stmt = stmt.where(column.in_([coerce_filter(column, value) for value in values]))
                else:
                    in_python.add(name)
            stmt = tagging.filtered(stmt, self.model, listing.tags)
            for key, direction in listing.order:
                column = self._column(key)
                if column is None:
                    raise BadRequest(f"{key} is invalid attribute for sort_keys", kind="HTTPBadRequest")
                stmt = stmt.order_by(asc(column) if direction == "asc" else desc(column))
            stmt = stmt.order_by(asc(self.model.id))
            if not in_python and not listing.order and listing.limit is not None:
                # Sorted by id alone and filtered wholly in SQL: the page is read from the marker on, limit
                # + 1 rows, not the whole table (a marker this list would not show still answers 404).
                rows = seek(session, stmt, self.model, [(self.model.id, "asc")], listing.marker, listing.limit)
            else:
                rows = session.scalars(stmt).unique().all()  # unique: joined eager loads repeat rows
            found = tagging.by_id(session, [r.id for r in rows])
            bodies = [self.view(session, ctx, r, found[r.id]) for r in rows]
        if in_python:
            bodies = [b for b in bodies if matches(b, listing.filters, lambda n: n not in in_python)]
        shown, next_marker = page(bodies, {"marker": listing.marker}, listing.limit, key=lambda b: b["id"])
        return Page([self.table.shown(b, listing.fields, ctx.is_admin) for b in shown], next_marker)

    def _column(self, name: str):
        """The model's column behind an attribute, None for one computed when rendered."""
        attr = self.table[name]
        if attr.field == RENDERED:
            return None
        return getattr(self.model, attr.field, None)

    def read_one(self, ctx: Context, ident: str, fields: list[str]) -> dict:
        with self.db.read() as session:
            body = self.view(session, ctx, self.get(session, ctx, ident))
        return self.table.shown(body, fields, ctx.is_admin)

    def create_all(self, ctx: Context, items: list[dict]) -> list[dict]:
        """Create every item (checked by the table) in one transaction, or none of them."""
        for attempt in range(CREATE_ATTEMPTS):
            try:
                with self.db.write() as session:
                    bodies = []
                    for item in items:
                        item = dict(item)
                        wanted = sorted(set(item.pop("tags", None) or []))
                        row = self.create(session, ctx, item)
                        if wanted:
                            self.set_tags(session, row.id, wanted)
                        session.flush()
                        bodies.append(self.table.shown(self.view(session, ctx, row, wanted), [], ctx.is_admin))
                return bodies
            except IntegrityError:
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # An update or delete that another writer (a joined host's compute, an agent's status report) overtook
    # on the same row is run again on the row as it now is (``write_retrying``): without If-Match the
    # last writer wins, as in Neutron; with it, the next try answers 412 against the new revision.
    def update_one(self, ctx: Context, ident: str, changes: dict, if_match: str | None) -> dict:
        def work(session: Session) -> dict:
            row = self.get(session, ctx, ident)
            self.authorize(ctx, "update", self.target(row))
            _check_revision(row, if_match)
            self.update(session, ctx, row, dict(changes))
            session.flush()
            return self.table.shown(self.view(session, ctx, row), [], ctx.is_admin)

        return self.db.write_retrying(work)

    def delete_one(self, ctx: Context, ident: str, if_match: str | None) -> None:
        def work(session: Session) -> None:
            row = self.get(session, ctx, ident)
            self.authorize(ctx, "delete", self.target(row))
            _check_revision(row, if_match)
            self.set_tags(session, row.id, [])
            self.delete(session, ctx, row)

        self.db.write_retrying(work)

    def read_tags(self, ctx: Context, ident: str) -> list[str]:
        with self.db.read() as session:
            return self.tags(session, self.get(session, ctx, ident).id)

    def edit_tags(self, ctx: Context, ident: str, edit: Callable[[list[str]], list[str]]) -> list[str]:
        """Replace a resource's tags by ``edit(current tags)``; returns them sorted."""
        def work(session: Session) -> list[str]:
            row = self.get(session, ctx, ident)
            self.authorize(ctx, "update", self.target(row))
            wanted = edit(self.tags(session, row.id))
            self.set_tags(session, row.id, wanted)
            self.touch(row)
            session.flush()
            return sorted(wanted)

        return self.db.write_retrying(work)


def _check_revision(row, if_match: str | None) -> None:
    """Neutron's ``If-Match: revision_number=N``: refuse a change to a row that moved on since."""
    if not if_match or not hasattr(row, "revision_number"):
        return
    for part in if_match.split(","):
        key, _, value = part.strip().partition("=")
        if key == "revision_number" and decimal(value) not in (None, row.revision_number):
            raise PreconditionFailed(f"Constrained to {if_match}, but current revision is {row.revision_number}",
                                     kind="RevisionNumberConstraintFailed")
