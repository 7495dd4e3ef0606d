"""The moves of servers between hosts as ``/os-migrations`` lists them, filtered per microversion.

Rows are written by the server actions that move servers (resize); this is the read side.  2.59 adds
``changes-since`` and pages newest first, 2.66 ``changes-before``, 2.80 filters by user and project.
"""

from __future__ import annotations

from sqlalchemy import desc, or_, select

from onestack.db.engine import Database
from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page, parse_limit
from onestack.http.microversion import Version, at_least
from onestack.services.compute.models import Migration
from onestack.services.compute.service import usage

_SIMPLE_FILTERS = ("status", "instance_uuid", "migration_type", "source_compute")


class Migrations:
    def __init__(self, db: Database):
        self.db = db

    def page(self, query, version: Version | None) -> tuple[list[Migration], str | None]:
        """The migrations the query asks for, and (from 2.59, which pages them) the next page's marker."""
        with self.db.read() as session:
            rows = list(session.scalars(_filtered(query, version)))
        if not at_least(version, "2.59"):
            return rows, None
        try:
            return page(rows, query, parse_limit(query), key=lambda r: r.uuid)
        except NotFound as exc:  # Nova: an unknown marker is a bad request
            raise BadRequest(exc.message) from None


def _filtered(query, version: Version | None):
    stmt = select(Migration).where(Migration.hidden.is_(False))
    for key in _SIMPLE_FILTERS:
        if query.get(key):
            stmt = stmt.where(getattr(Migration, key) == query[key])
    if query.get("host"):
        stmt = stmt.where(or_(Migration.source_compute == query["host"], Migration.dest_compute == query["host"]))
    if at_least(version, "2.59") and query.get("changes-since"):
        stmt = stmt.where(Migration.updated_at >= _time(query["changes-since"]))
    if at_least(version, "2.66") and query.get("changes-before"):
        stmt = stmt.where(Migration.updated_at <= _time(query["changes-before"]))
    if at_least(version, "2.80"):
        for key in ("user_id", "project_id"):
            if query.get(key):
                stmt = stmt.where(getattr(Migration, key) == query[key])
    if at_least(version, "2.59"):  # newest first, as Nova pages them
        return stmt.order_by(desc(Migration.created_at), desc(Migration.id))
    return stmt.order_by(Migration.id)


def _time(text: str):
    return usage.parse_time(text.replace("Z", "").split("+")[0], ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
                                                                  "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"))
