"""/v2.1/os-volumes and /v2.1/os-snapshots: Nova's volume proxy to Block Storage (gone at 2.36).

Both lists show whole volumes (Nova's summary and detail views are the same), cut by ``offset`` and
``limit`` as Nova cuts them."""

from __future__ import annotations

from onestack.http.listing import parse_limit, parse_offset
from onestack.http.resource import summary_and_detail
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.volume_proxy import VolumeProxy
from onestack.services.compute.versions import PROXY_LAST, served_until


def _proxy(call: Call, rule: str) -> VolumeProxy:
    served_until(call.version, PROXY_LAST)
    authorize(call.ctx, f"os_compute_api:os-volumes:{rule}")
    return compute(call).volume_proxy


def _cut(call: Call, rows: list) -> list:
    limit = parse_limit(call.query)
    rows = rows[parse_offset(call.query):]
    return rows if limit is None else rows[:limit]


def _volumes(call: Call, detail: bool) -> dict:
    rows = _proxy(call, "detail" if detail else "list").list(call.ctx)
    return {"volumes": [views.proxied_volume(row) for row in _cut(call, rows)]}


def show_volume(call: Call) -> dict:
    return {"volume": views.proxied_volume(_proxy(call, "show").get(call.ctx, call.path["volume_id"]))}


def create_volume(call: Call) -> dict:
    return {"volume": views.proxied_volume(_proxy(call, "create").create(call.ctx, call.body["volume"]))}


def delete_volume(call: Call) -> Reply:
    _proxy(call, "delete").delete(call.ctx, call.path["volume_id"])
    return Reply(status=202)


def _snapshots(call: Call, detail: bool) -> dict:
    rows = _proxy(call, "snapshots:detail" if detail else "snapshots:list").snapshots(call.ctx)
    return {"snapshots": [views.proxied_snapshot(row) for row in _cut(call, rows)]}


def show_snapshot(call: Call) -> dict:
    snapshot = _proxy(call, "snapshots:show").snapshot(call.ctx, call.path["snapshot_id"])
    return {"snapshot": views.proxied_snapshot(snapshot)}


def create_snapshot(call: Call) -> dict:
    proxy = _proxy(call, "snapshots:create")  # past 2.35 the body is not checked: the 404 comes first
    asked = call.body["snapshot"]
    made = proxy.create_snapshot(call.ctx, asked, schemas.as_bool(asked.get("force", False)))
    return {"snapshot": views.proxied_snapshot(made)}


def delete_snapshot(call: Call) -> Reply:
    _proxy(call, "snapshots:delete").delete_snapshot(call.ctx, call.path["snapshot_id"])
    return Reply(status=202)


ROUTES = [
    *summary_and_detail("/v2.1/os-volumes", _volumes),
    route("/v2.1/os-volumes", "POST", create_volume, schema=schemas.VOLUME_CREATE),
    route("/v2.1/os-volumes/{volume_id}", "GET", show_volume),
    route("/v2.1/os-volumes/{volume_id}", "DELETE", delete_volume),
    *summary_and_detail("/v2.1/os-snapshots", _snapshots),
    route("/v2.1/os-snapshots", "POST", create_snapshot, schema=schemas.SNAPSHOT_CREATE),
    route("/v2.1/os-snapshots/{snapshot_id}", "GET", show_snapshot),
    route("/v2.1/os-snapshots/{snapshot_id}", "DELETE", delete_snapshot),
]
