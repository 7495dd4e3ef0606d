"""Metadata definitions (Glance's metadefs): namespaces of property, object and tag definitions that
dashboards read to offer the right image, flavor or volume properties.

Glance's defaults: admins create, change and delete; anyone reads public namespaces, a project reads its
own private ones; a protected namespace cannot be deleted.  A private namespace someone may not see is a
404, so that its name does not leak.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import Conflict, Forbidden, NotFound
from onestack.http.listing import apply_sort
from onestack.services.image.models import (
    MetadefAssociation,
    MetadefEntry,
    MetadefNamespace,
    MetadefResourceType,
)
from onestack.services.image.policies import authorize

SORTABLE = {k: k for k in ("namespace", "created_at", "updated_at")}
KINDS = {"objects": "object", "properties": "property", "tags": "tag"}


def readable(ctx: Context):
    """The namespaces the caller may see, as an SQL condition."""
    if ctx.is_admin:
        return MetadefNamespace.id.isnot(None)
    return or_(MetadefNamespace.visibility == "public", MetadefNamespace.owner == ctx.project_id)


def namespace(session: Session, ctx: Context, name: str) -> MetadefNamespace:
    row = session.scalar(select(MetadefNamespace).where(MetadefNamespace.namespace == name, readable(ctx)))
    if row is None:
        raise NotFound(f"Metadata definition namespace={name} was not found.")
    return row


def create_namespace(session: Session, ctx: Context, body: dict) -> MetadefNamespace:
    authorize(ctx, "add_metadef_namespace")
    if session.scalar(select(MetadefNamespace.id).where(MetadefNamespace.namespace == body["namespace"])):
        raise Conflict(f"Metadata definition namespace={body['namespace']} already exists.")
    row = MetadefNamespace(namespace=body["namespace"], owner=body.get("owner") or ctx.project_id,
                           visibility=body.get("visibility", "private"), protected=body.get("protected", False),
                           display_name=body.get("display_name"), description=body.get("description"))
    session.add(row)
    session.flush()
    for association in body.get("resource_type_associations") or []:
        associate(session, ctx, row, association)
    for name, prop in (body.get("properties") or {}).items():
        add_entry(session, ctx, row, "property", {**prop, "name": name})
    for obj in body.get("objects") or []:
        add_entry(session, ctx, row, "object", obj)
    for tag in body.get("tags") or []:
        add_entry(session, ctx, row, "tag", tag)
    return row


def update_namespace(session: Session, ctx: Context, row: MetadefNamespace, body: dict) -> None:
    authorize(ctx, "modify_metadef_namespace")
    new_name = body["namespace"]
    if new_name != row.namespace and session.scalar(
            select(MetadefNamespace.id).where(MetadefNamespace.namespace == new_name)):
        raise Conflict(f"Metadata definition namespace={new_name} already exists.")
    row.namespace = new_name
    for key in ("display_name", "description", "visibility", "protected", "owner"):
        if key in body:
            setattr(row, key, body[key])


def delete_namespace(session: Session, ctx: Context, row: MetadefNamespace) -> None:
    authorize(ctx, "delete_metadef_namespace")
    if row.protected:
        raise Forbidden(f"Metadata definition namespace {row.namespace} is protected and cannot be deleted.")
    session.delete(row)


# -- resource types ----------------------------------------------------------------
def resource_types(session: Session) -> list[MetadefResourceType]:
    return list(session.scalars(select(MetadefResourceType).order_by(MetadefResourceType.name)))


def associations(session: Session, row: MetadefNamespace) -> list[tuple[MetadefAssociation, str]]:
    return list(session.execute(select(MetadefAssociation, MetadefResourceType.name)
                                .join(MetadefResourceType, MetadefResourceType.id == MetadefAssociation.resource_type_id)
                                .where(MetadefAssociation.namespace_id == row.id)
                                .order_by(MetadefResourceType.name)))


def associate(session: Session, ctx: Context, row: MetadefNamespace, body: dict) -> MetadefAssociation:
    authorize(ctx, "add_metadef_resource_type_association")
    kind = session.scalar(select(MetadefResourceType).where(MetadefResourceType.name == body["name"]))
    if kind is None:
        # Glance creates a resource type the first time a namespace is associated with it.
        kind = MetadefResourceType(name=body["name"], protected=False)
        session.add(kind)
        session.flush()
    if session.get(MetadefAssociation, (row.id, kind.id)) is not None:
        raise Conflict(f"Resource type {body['name']} is already associated with namespace {row.namespace}.")
    link = MetadefAssociation(namespace_id=row.id, resource_type_id=kind.id, prefix=body.get("prefix"),
                              properties_target=body.get("properties_target"))
    session.add(link)
    session.flush()
    return link


def dissociate(session: Session, ctx: Context, row: MetadefNamespace, name: str) -> None:
    authorize(ctx, "remove_metadef_resource_type_association")
    for link, linked_name in associations(session, row):
        if linked_name == name:
            session.delete(link)
            return
    raise NotFound(f"Resource type {name} is not associated with namespace {row.namespace}.")


# -- objects, properties, tags ------------------------------------------------------
def entries(session: Session, row: MetadefNamespace, kind: str) -> list[MetadefEntry]:
    return list(session.scalars(select(MetadefEntry).where(MetadefEntry.namespace_id == row.id,
                                                           MetadefEntry.kind == kind).order_by(MetadefEntry.id)))


def entry(session: Session, row: MetadefNamespace, kind: str, name: str) -> MetadefEntry:
    found = session.scalar(select(MetadefEntry).where(MetadefEntry.namespace_id == row.id, MetadefEntry.kind == kind,
                                                      MetadefEntry.name == name))
    if found is None:
        raise NotFound(f"Metadata definition {kind} {name} was not found in namespace {row.namespace}.")
    return found


def _unique(session: Session, row: MetadefNamespace, kind: str, name: str) -> None:
    if session.scalar(select(MetadefEntry.id).where(MetadefEntry.namespace_id == row.id, MetadefEntry.kind == kind,
                                                    MetadefEntry.name == name)):
        raise Conflict(f"A metadata definition {kind} with name={name} already exists in namespace "
                       f"{row.namespace}.")


def add_entry(session: Session, ctx: Context, row: MetadefNamespace, kind: str, body: dict) -> MetadefEntry:
    authorize(ctx, f"add_metadef_{kind}")
    name = body["name"]
    _unique(session, row, kind, name)
    item = MetadefEntry(namespace_id=row.id, kind=kind, name=name,
                        body={k: v for k, v in body.items() if k != "name"})
    session.add(item)
    session.flush()
    return item


def update_entry(session: Session, ctx: Context, row: MetadefNamespace, item: MetadefEntry, body: dict) -> None:
    authorize(ctx, f"modify_metadef_{item.kind}")
    if body["name"] != item.name:
        _unique(session, row, item.kind, body["name"])
    item.name = body["name"]
    item.body = {k: v for k, v in body.items() if k != "name"}


def delete_entry(session: Session, ctx: Context, item: MetadefEntry) -> None:
    authorize(ctx, f"delete_metadef_{item.kind}")
    session.delete(item)


def delete_all(session: Session, ctx: Context, row: MetadefNamespace, kind: str) -> None:
    authorize(ctx, f"delete_metadef_{kind}s")
    if row.protected:
        raise Forbidden(f"Metadata definition namespace {row.namespace} is protected.")
    session.execute(delete(MetadefEntry).where(MetadefEntry.namespace_id == row.id, MetadefEntry.kind == kind))


def replace_tags(session: Session, ctx: Context, row: MetadefNamespace, names: list[str], append: bool) -> None:
    """Glance's bulk tag create: replaces the namespace's tags unless the client asked to append."""
    authorize(ctx, "add_metadef_tags")
    if len(set(names)) != len(names):
        raise Conflict("A tag is named twice in the request.")
    if not append:
        session.execute(delete(MetadefEntry).where(MetadefEntry.namespace_id == row.id, MetadefEntry.kind == "tag"))
    for name in names:
        add_entry(session, ctx, row, "tag", {"name": name})



@dataclasses.dataclass(frozen=True)
class Contents:
    """A namespace with what it holds: its resource type associations (with the types' names), properties,
    objects and tags."""

    namespace: MetadefNamespace
    associations: list[tuple[MetadefAssociation, str]]
    properties: list[MetadefEntry]
    objects: list[MetadefEntry]
    tags: list[MetadefEntry]


def _contents(session: Session, row: MetadefNamespace) -> Contents:
    return Contents(row, associations(session, row), entries(session, row, "property"),
                    entries(session, row, "object"), entries(session, row, "tag"))


class Metadefs:
    """The transactions behind /v2/metadefs (``runtime.image.metadefs``)."""

    def __init__(self, db: Database):
        self.db = db

    def list_namespaces(self, ctx: Context, visibility: str | None, resource_types: set[str],
                        sort: tuple[list[str], list[str]]
                        ) -> list[tuple[MetadefNamespace, list[tuple[MetadefAssociation, str]]]]:
        """The namespaces the caller may see, each with its associations, in the order of ``sort`` (keys and
        directions); ``resource_types``, when given, keeps those associated with one of them."""
        stmt = select(MetadefNamespace).where(readable(ctx))
        if visibility:
            stmt = stmt.where(MetadefNamespace.visibility == visibility)
        stmt = apply_sort(stmt, MetadefNamespace, *sort, SORTABLE, default="created_at", default_dir="asc")
        with self.db.read() as session:
            found = []
            for row in session.scalars(stmt).all():
                links = associations(session, row)
                if resource_types and not resource_types & {name for _, name in links}:
                    continue
                found.append((row, links))
            return found

    def create_namespace(self, ctx: Context, body: dict) -> Contents:
        with self.db.write() as session:
            return _contents(session, create_namespace(session, ctx, body))

    def namespace(self, ctx: Context, name: str) -> Contents:
        with self.db.read() as session:
            return _contents(session, namespace(session, ctx, name))

    def update_namespace(self, ctx: Context, name: str, body: dict) -> MetadefNamespace:
        with self.db.write() as session:
            row = namespace(session, ctx, name)
            update_namespace(session, ctx, row, body)
            session.flush()
            return row

    def delete_namespace(self, ctx: Context, name: str) -> None:
        with self.db.write() as session:
            delete_namespace(session, ctx, namespace(session, ctx, name))

    def resource_types(self) -> list[MetadefResourceType]:
        with self.db.read() as session:
            return resource_types(session)

    def associations(self, ctx: Context, name: str) -> list[tuple[MetadefAssociation, str]]:
        with self.db.read() as session:
            return associations(session, namespace(session, ctx, name))

    def associate(self, ctx: Context, name: str, body: dict) -> MetadefAssociation:
        with self.db.write() as session:
            return associate(session, ctx, namespace(session, ctx, name), body)

    def dissociate(self, ctx: Context, name: str, resource_type: str) -> None:
        with self.db.write() as session:
            dissociate(session, ctx, namespace(session, ctx, name), resource_type)

    def entries(self, ctx: Context, name: str, kind: str) -> tuple[MetadefNamespace, list[MetadefEntry]]:
        with self.db.read() as session:
            row = namespace(session, ctx, name)
            return row, entries(session, row, kind)

    def add_entry(self, ctx: Context, name: str, kind: str, body: dict) -> tuple[MetadefNamespace, MetadefEntry]:
        with self.db.write() as session:
            row = namespace(session, ctx, name)
            return row, add_entry(session, ctx, row, kind, body)

    def entry(self, ctx: Context, name: str, kind: str, entry_name: str) -> tuple[MetadefNamespace, MetadefEntry]:
        with self.db.read() as session:
            row = namespace(session, ctx, name)
            return row, entry(session, row, kind, entry_name)

    def update_entry(self, ctx: Context, name: str, kind: str, entry_name: str, body: dict
                     ) -> tuple[MetadefNamespace, MetadefEntry]:
        with self.db.write() as session:
            row = namespace(session, ctx, name)
            item = entry(session, row, kind, entry_name)
            update_entry(session, ctx, row, item, body)
            session.flush()
            return row, item

    def delete_entry(self, ctx: Context, name: str, kind: str, entry_name: str) -> None:
        with self.db.write() as session:
            row = namespace(session, ctx, name)
            delete_entry(session, ctx, entry(session, row, kind, entry_name))

    def delete_all(self, ctx: Context, name: str, kind: str) -> None:
        with self.db.write() as session:
            delete_all(session, ctx, namespace(session, ctx, name), kind)

    def replace_tags(self, ctx: Context, name: str, names: list[str], append: bool) -> None:
        with self.db.write() as session:
            replace_tags(session, ctx, namespace(session, ctx, name), names, append)
