"""/os-migrations: the moves of servers between hosts (admin only), in each microversion's shape.

2.23 adds ``migration_type`` and links for running live migrations; 2.59 ``uuid``, paging and
``changes-since``; 2.66 ``changes-before``; 2.80 ``user_id``/``project_id`` and filters by them.
"""

from __future__ import annotations

from onestack.http.listing import page_links
from onestack.http.routing import Call, route
from onestack.services.compute import views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def list_migrations(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-migrations:index")
    rows, next_marker = compute(call).migrations.page(call.query, call.version)
    return {"migrations": [views.migration(r, call.url, call.version) for r in rows],
            **page_links("migrations", call.url, "/v2.1/os-migrations", call.query, next_marker)}


ROUTES = [route("/v2.1/os-migrations", "GET", list_migrations)]
