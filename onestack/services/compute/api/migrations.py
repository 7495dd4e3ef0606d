"""/os-migrations: the moves of servers between hosts (admin only), in each microversion's shape.

Rows are written by the server actions that move servers (resize, migrate); this is the read side.
2.23 adds ``migration_type`` and links for running live migrations; 2.59 ``uuid``, paging and
``changes-since``; 2.66 ``changes-before``; 2.80 ``user_id``/``project_id`` and filters by them.
"""

from __future__ import annotations

from sqlalchemy import desc, or_, select

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page, parse_limit
from onestack.http.microversion import at_least
from onestack.http.routing import Call, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.models import Migration
from onestack.services.compute.policies import authorize
from onestack.services.compute.service import usage

_SIMPLE_FILTERS = ("status", "instance_uuid", "migration_type", "source_compute")


def _view(call: Call, row: Migration) -> dict:
    body = {"id": row.id, "status": row.status, "instance_uuid": row.instance_uuid, "source_node": row.source_node,
            "source_compute": row.source_compute, "dest_node": row.dest_node, "dest_compute": row.dest_compute,
            "dest_host": row.dest_host, "old_instance_type_id": row.old_instance_type_id,
            "new_instance_type_id": row.new_instance_type_id, "created_at": views.stamp(row.created_at),
            "updated_at": views.stamp(row.updated_at)}
    if at_least(call.version, "2.23"):
        body["migration_type"] = row.migration_type
        if row.migration_type == "live-migration" and row.status in ("queued", "preparing", "running"):
            path = f"servers/{row.instance_uuid}/migrations/{row.id}"
            body["links"] = [{"rel": "self", "href": call.url(f"/v2.1/{path}")},
                             {"rel": "bookmark", "href": call.url(f"/{path}")}]
    if at_least(call.version, "2.59"):
        body["uuid"] = row.uuid
    if at_least(call.version, "2.80"):
        body["user_id"], body["project_id"] = row.user_id, row.project_id
    return body


def _filtered(call: Call):
    query = call.query
    stmt = select(Migration).where(Migration.hidden.is_(False))
    for key in _SIMPLE_FILTERS:
        if query.get(key):
            stmt = stmt.where(getattr(Migration, key) == query[key])
    if query.get("host"):
        stmt = stmt.where(or_(Migration.source_compute == query["host"], Migration.dest_compute == query["host"]))
    if at_least(call.version, "2.59") and query.get("changes-since"):
        stmt = stmt.where(Migration.updated_at >= _time(query["changes-since"]))
    if at_least(call.version, "2.66") and query.get("changes-before"):
        stmt = stmt.where(Migration.updated_at <= _time(query["changes-before"]))
    if at_least(call.version, "2.80"):
        for key in ("user_id", "project_id"):
            if query.get(key):
                stmt = stmt.where(getattr(Migration, key) == query[key])
    if at_least(call.version, "2.59"):  # newest first, as Nova pages them
        return stmt.order_by(desc(Migration.created_at), desc(Migration.id))
    return stmt.order_by(Migration.id)


def _time(text: str):
    return usage.parse_time(text.replace("Z", "").split("+")[0], ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
                                                                  "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"))


def list_migrations(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-migrations:index")
    with compute(call).db.read() as session:
        rows = list(session.scalars(_filtered(call)))
        links = {}
        if at_least(call.version, "2.59"):
            try:
                rows, next_marker = page(rows, call.query, parse_limit(call.query), key=lambda r: r.uuid)
            except NotFound as exc:  # Nova: an unknown marker is a bad request
                raise BadRequest(exc.message) from None
            if next_marker is not None:
                links["migrations_links"] = views.next_link(call.url, "os-migrations", call.query, next_marker)
        return {"migrations": [_view(call, r) for r in rows], **links}


ROUTES = [route("/v2.1/os-migrations", "GET", list_migrations)]
