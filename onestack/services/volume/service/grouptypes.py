"""Group types (3.11): what kind of generic volume group a group is, with its group specs.  Admins manage
them; every caller sees the public ones, admins the private ones too."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.listing import apply_sort, sort_params
from onestack.services.volume.models import Group, GroupType
from onestack.services.volume.policies import authorize
from onestack.services.volume.service.access import sees_every_project

SORTABLE = {"id": "id", "name": "name", "created_at": "created_at", "updated_at": "updated_at",
            "is_public": "is_public", "description": "description"}


def find(session: Session, ctx: Context, ref: str) -> GroupType:
    """A group type by id or name that the caller may see, or 404."""
    stmt = select(GroupType).where(or_(GroupType.id == ref, GroupType.name == ref))
    if not sees_every_project(ctx):
        stmt = stmt.where(GroupType.is_public.is_(True))
    found = session.scalars(stmt.order_by((GroupType.id == ref).desc())).first()
    if found is None:
        raise NotFound(f"Group type {ref} could not be found.")
    return found


class GroupTypes:
    def __init__(self, db: Database):
        self.db = db

    def listing(self, ctx: Context, query) -> list[GroupType]:
        """Cinder's rule, as for volume types: admins may ask for ``is_public=false`` (private only) or
        ``none`` (all); sorted by ``sort`` or ``sort_key``/``sort_dir``."""
        stmt = select(GroupType)
        wanted = (query.get("is_public") or "true").lower() if sees_every_project(ctx) else "true"
        if wanted in ("false", "0", "no", "off"):
            stmt = stmt.where(GroupType.is_public.is_(False))
        elif wanted not in ("none", "all"):
            stmt = stmt.where(GroupType.is_public.is_(True))
        keys, dirs = sort_params(query)
        stmt = apply_sort(stmt, GroupType, keys, dirs, SORTABLE, default="created_at", default_dir="asc")
        with self.db.read() as session:
            return list(session.scalars(stmt))

    def show(self, ctx: Context, ref: str) -> GroupType:
        if ref == "default":
            # Cinder's default group type is an option of its configuration; none is set here
            raise NotFound("Default group type could not be found.")
        with self.db.read() as session:
            return find(session, ctx, ref)

    def create(self, ctx: Context, name: str, description: str | None, is_public: bool,
               specs: dict[str, str]) -> GroupType:
        authorize(ctx, "group:group_types:create")
        with self.db.write() as session:
            _unique(session, name)
            row = GroupType(id=str(uuid.uuid4()), name=name, description=description, is_public=is_public,
                            group_specs=dict(specs))
            session.add(row)
            session.flush()
            return row

    def update(self, ctx: Context, ref: str, changes: dict) -> GroupType:
        authorize(ctx, "group:group_types:update")
        with self.db.write() as session:
            row = find(session, ctx, ref)
            if "name" in changes:
                _unique(session, changes["name"], but=row.id)
            for field in ("name", "description", "is_public"):
                if field in changes:
                    setattr(row, field, changes[field])
            session.flush()
            return row

    def delete(self, ctx: Context, ref: str) -> None:
        authorize(ctx, "group:group_types:delete")
        with self.db.write() as session:
            row = find(session, ctx, ref)
            if session.scalar(select(func.count()).select_from(Group).where(Group.group_type_id == row.id)):
                raise BadRequest(f"Group Type {row.id} deletion is not allowed with groups present with the type.")
            session.delete(row)

    def specs(self, ctx: Context, ref: str) -> dict[str, str]:
        authorize(ctx, "group:group_types_specs")
        return dict(self.show(ctx, ref).group_specs)

    def set_specs(self, ctx: Context, ref: str, specs: dict[str, str]) -> None:
        authorize(ctx, "group:group_types_specs")
        with self.db.write() as session:
            row = find(session, ctx, ref)
            row.group_specs = {**row.group_specs, **specs}

    def unset_spec(self, ctx: Context, ref: str, key: str) -> None:
        authorize(ctx, "group:group_types_specs")
        with self.db.write() as session:
            row = find(session, ctx, ref)
            if key not in row.group_specs:
                raise NotFound(f"Group Type {row.id} has no specs with key {key}.")
            row.group_specs = {k: v for k, v in row.group_specs.items() if k != key}


def _unique(session: Session, name: str, but: str | None = None) -> None:
    clash = session.scalars(select(GroupType).where(GroupType.name == name)).first()
    if clash is not None and clash.id != but:
        raise Conflict(f"Group Type {name} already exists.")
