"""/os-migrations: the moves of servers between hosts (admin only), in each microversion's shape; and a
server's live migrations in progress (``/servers/{id}/migrations``, 2.22 on).

2.23 adds ``migration_type`` and links for running live migrations; 2.59 ``uuid``, paging and
``changes-since``; 2.66 ``changes-before``; 2.80 ``user_id``/``project_id`` and filters by them.
``/servers/{id}/migrations``: ``force_complete`` from 2.22, list, show and ``DELETE`` (abort) from 2.23
and 2.24, abort of a queued or preparing migration from 2.65.
"""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page_links
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute, request_id
from onestack.services.compute.policies import authorize


def list_migrations(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-migrations:index")
    rows, next_marker = compute(call).migrations.page(call.query, call.version)
    return {"migrations": [views.migration(r, call.url, call.version) for r in rows],
            **page_links("migrations", call.url, "/v2.1/os-migrations", call.query, next_marker)}


def _since(call: Call, version: str) -> None:
    if not at_least(call.version, version):
        raise NotFound("The resource could not be found.")


def _migration_id(call: Call) -> int:
    try:
        return int(call.path["migration_id"])
    except ValueError:
        raise BadRequest(f"Invalid migration id {call.path['migration_id']}.") from None


def list_server_migrations(call: Call) -> dict:
    _since(call, "2.23")
    rows = compute(call).actions.server_migrations(call.ctx, call.path["server_id"])
    return {"migrations": [views.server_migration(r, call.version) for r in rows]}


def show_server_migration(call: Call) -> dict:
    _since(call, "2.23")
    row = compute(call).actions.server_migration(call.ctx, call.path["server_id"], _migration_id(call))
    return {"migration": views.server_migration(row, call.version)}


def force_complete(call: Call) -> Reply:
    _since(call, "2.22")
    compute(call).actions.force_complete(call.ctx, call.path["server_id"], _migration_id(call), request_id(call))
    return Reply(status=202)


def abort(call: Call) -> Reply:
    _since(call, "2.24")
    compute(call).actions.abort_migration(call.ctx, call.path["server_id"], _migration_id(call),
                                          at_least(call.version, "2.65"), request_id(call))
    return Reply(status=202)


_ONE = "/v2.1/servers/{server_id}/migrations/{migration_id}"
ROUTES = [route("/v2.1/os-migrations", "GET", list_migrations),
          route("/v2.1/servers/{server_id}/migrations", "GET", list_server_migrations),
          route(_ONE, "GET", show_server_migration),
          route(_ONE, "DELETE", abort, status=202),
          route(f"{_ONE}/action", "POST", force_complete, schema=schemas.FORCE_COMPLETE, status=202)]
