"""What every network resource shares: standard attributes, visibility, tags and policy.

A resource is a ``Collection`` subclass that declares its attribute table and overrides the hooks
it needs (``render``, ``create``, ``update``, ``delete``, ``scope``); ``api/collections.py`` turns
each into the same five routes with Neutron's filters, sorting, paging and ``fields=``.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.http.attrmap import Attr, Table
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.policy import enforce
from onestack.services.network import policies
from onestack.services.network.models import Tag

if TYPE_CHECKING:
    from onestack.services.network.service import NetworkService

NAME = {"type": "string", "maxLength": 255}
DESCRIPTION = {"type": "string", "maxLength": 255}
UUID = {"type": "string", "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"}
UUID_OR_NULL = {"anyOf": [UUID, {"type": "null"}]}
PROJECT = {"type": "string", "maxLength": 64}
BOOL = {"type": "boolean"}
TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "array", "items": TAG, "maxItems": 50}


def standard(*, name: bool = True) -> list[Attr]:
    """Neutron's standard attributes (project, description, timestamps, revision, tags)."""
    attrs = [
        Attr("id", sort=True),
        Attr("project_id", PROJECT, post=True),
        Attr("tenant_id", PROJECT, post=True, column="project_id"),
        Attr("description", DESCRIPTION, post=True, put=True, default=""),
        Attr("tags", TAGS, post=True, sort=False),
        Attr("created_at", filter=True),
        Attr("updated_at", filter=True),
        Attr("revision_number"),
    ]
    if name:
        attrs.insert(1, Attr("name", NAME, post=True, put=True, default=""))
    return attrs


def timestamp(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def new_uuid() -> str:
    return str(uuid.uuid4())


class Collection:
    singular = ""
    plural = ""
    # The URL segment, where it differs from the plural body key ("security-groups").
    path = ""
    model: Any = None
    attrs: list[Attr] = []
    # The resource as errors name it ("Network", "Security group": type SecurityGroupNotFound).
    kind = ""
    # Whether it carries Neutron's standard attributes (description, tags, timestamps, revision);
    # address scopes and RBAC policies do not, and have no ``/tags``.
    standard_attributes = True

    def __init__(self, net: NetworkService):
        self.net = net
        self.table = Table(self.attrs)

    # -- policy and visibility ---------------------------------------------------
    def authorize(self, ctx: Context, action: str, target: dict | None = None) -> None:
        enforce(ctx, f"{action}_{self.singular}", policies.rule(action, self.singular), target or {})

    def target(self, row) -> dict:
        return {"project_id": row.project_id}

    def scope(self, session: Session, ctx: Context):
        """The SQL condition for the rows ``ctx`` may see; None means all."""
        if policies.sees_everything(ctx):
            return None
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
        body = {"id": row.id}
        if hasattr(row, "name"):
            body["name"] = row.name
        body.update(self.render(session, ctx, row))
        body.update(project_id=row.project_id, tenant_id=row.project_id)
        if not self.standard_attributes:
            return body
        body.update(description=row.description,
                    tags=tags if tags is not None else self.tags(session, row.id),
                    created_at=timestamp(row.created_at), updated_at=timestamp(row.updated_at),
                    revision_number=row.revision_number)
        return body

    def render(self, session: Session, ctx: Context, row) -> dict:
        return {}

    def before_list(self, ctx: Context) -> None:
        """Work a list needs done first, in its own transaction (the default security group)."""

    def filter_clause(self, name: str, values: list) -> list | None:
        """SQL conditions for a filter the attribute table alone cannot express; None: the default."""
        return None

    # -- tags --------------------------------------------------------------------
    @staticmethod
    def tags(session: Session, ident: str) -> list[str]:
        return sorted(session.scalars(select(Tag.tag).where(Tag.resource_id == ident)))

    @staticmethod
    def set_tags(session: Session, ident: str, tags: list[str]) -> None:
        current = set(session.scalars(select(Tag.tag).where(Tag.resource_id == ident)))
        wanted = set(tags)
        for tag in current - wanted:
            session.delete(session.get(Tag, (ident, tag)))
        for tag in wanted - current:
            session.add(Tag(resource_id=ident, tag=tag))

    @staticmethod
    def touch(row) -> None:
        """Count a change that lives outside the row (tags) in its revision number and update time."""
        row.updated_at = utcnow()

    # -- changes (resources override) -------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict):
        raise NotImplementedError

    def update(self, session: Session, ctx: Context, row, changes: dict) -> None:
        for key, value in changes.items():
            setattr(row, self.table[key].field, value)

    def delete(self, session: Session, ctx: Context, row) -> None:
        session.delete(row)

    def new_row(self, ctx: Context, body: dict, **values):
        """A row with the standard attributes from ``body`` and the given values."""
        row = self.model(id=new_uuid(), project_id=self.owner(ctx, body), description=body.pop("description", ""),
                         **values)
        if "name" in body and hasattr(self.model, "name"):
            row.name = body.pop("name")
        return row
