"""/v3/{project_id}/snapshots: create, list, show, update, delete, metadata and the admin actions."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.routing import Call, Reply
from onestack.services.volume import responses, schemas, views
from onestack.services.volume.api import metadata
from onestack.services.volume.api.paths import flag, next_links, v3
from onestack.services.volume.api.volumes import _named
from onestack.services.volume.service import VolumeService
from onestack.services.volume.service import snapshots as listed_snapshots
from onestack.services.volume.service.snapshots import RESETTABLE


def service(call: Call) -> VolumeService:
    return call.runtime.volume


def create(call: Call) -> Reply:
    asked = _named(call.body["snapshot"])
    if "force" in asked:
        asked["force"] = flag(asked["force"])
    row = service(call).snapshots.create(call.ctx, asked, call.version)
    return Reply({"snapshot": views.snapshot(row, call.version, detail=False)}, 202)


def _listing(call: Call, detail: bool) -> dict:
    found = service(call).snapshots.listing(call.ctx, call.query, call.version)
    body = {"snapshots": [views.snapshot(r, call.version, detail) for r in found.rows]}
    body.update(next_links(call, "snapshots", found.next_marker))
    if found.count is not None:
        body["count"] = found.count
    return body


def index(call: Call) -> dict:
    return _listing(call, detail=False)


def detail(call: Call) -> dict:
    return _listing(call, detail=True)


def show(call: Call) -> dict:
    return {"snapshot": views.snapshot(service(call).snapshots.show(call.ctx, call.path["snapshot_id"]),
                                       call.version)}


def update(call: Call) -> dict:
    row = service(call).snapshots.update(call.ctx, call.path["snapshot_id"], _named(call.body["snapshot"]))
    return {"snapshot": views.snapshot(row, call.version, detail=False)}


def delete(call: Call) -> Reply:
    service(call).snapshots.delete(call.ctx, call.path["snapshot_id"])
    return Reply(status=202)


def act(call: Call) -> Reply:
    ((name, args),) = call.body.items()
    snapshots = service(call).snapshots
    if name == "os-reset_status":
        if args["status"] not in RESETTABLE:
            raise BadRequest(f"Invalid input received: '{args['status']}' is not a valid snapshot status.")
        snapshots.reset_status(call.ctx, call.path["snapshot_id"], args["status"])
    elif name == "os-update_snapshot_status":
        snapshots.update_status(call.ctx, call.path["snapshot_id"], args["status"], args.get("progress"))
    else:
        snapshots.delete(call.ctx, call.path["snapshot_id"], force=True)
    return Reply(status=202)


ROUTES = [
    *v3("/snapshots", "POST", create, schema=schemas.SNAPSHOT_CREATE, status=202, response=responses.SNAPSHOT),
    *v3("/snapshots", "GET", index, query=listed_snapshots.QUERY, response=responses.SNAPSHOTS),
    *v3("/snapshots/detail", "GET", detail, query=listed_snapshots.QUERY, response=responses.SNAPSHOTS_DETAIL),
    *v3("/snapshots/{snapshot_id}", "GET", show, response=responses.SNAPSHOT_DETAIL),
    *v3("/snapshots/{snapshot_id}", "PUT", update, schema=schemas.SNAPSHOT_UPDATE, response=responses.SNAPSHOT),
    *v3("/snapshots/{snapshot_id}", "DELETE", delete),
    *v3("/snapshots/{snapshot_id}/action", "POST", act, schema=schemas.one_action(schemas.SNAPSHOT_ACTIONS)),
    *metadata.routes("snapshots", "Snapshot", lambda call: call.runtime.volume.snapshots),
]
