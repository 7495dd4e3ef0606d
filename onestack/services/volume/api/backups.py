"""/v3/{project_id}/backups: create (full or incremental), list, show, update (3.9), delete, restore, the
admin actions, and exported records."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import flag, next_links, v3
from onestack.services.volume.api.volumes import _named
from onestack.services.volume.service.access import sees_every_project
from onestack.services.volume.service.backups import Backups, Shown


def backups(call: Call) -> Backups:
    return call.runtime.volume.backups


def _detail(call: Call, shown: Shown) -> list[dict]:
    admin = sees_every_project(call.ctx)
    return [views.backup(r, call.url, call.version, admin, r.id in shown.with_dependents) for r in shown.rows]


def create(call: Call) -> Reply:
    asked = _named(call.body["backup"])
    for field in ("incremental", "force"):
        asked[field] = flag(asked.get(field) or False)
    if not call.version.at_least("3.43"):
        asked.pop("metadata", None)
    if not call.version.at_least("3.51"):
        asked.pop("availability_zone", None)
    row = backups(call).create(call.ctx, asked)
    return Reply({"backup": views.backup_summary(row, call.url)}, 202)


def _listing(call: Call, detail: bool) -> dict:
    shown = backups(call).listing(call.ctx, call.query, call.version)
    body = {"backups": _detail(call, shown) if detail else [views.backup_summary(r, call.url) for r in shown.rows]}
    body.update(next_links(call, "backups", shown.next_marker))
    if shown.count is not None:
        body["count"] = shown.count
    return body


def index(call: Call) -> dict:
    return _listing(call, detail=False)


def detail(call: Call) -> dict:
    return _listing(call, detail=True)


def show(call: Call) -> dict:
    return {"backup": _detail(call, backups(call).show(call.ctx, call.path["backup_id"]))[0]}


def update(call: Call) -> dict:
    if not call.version.at_least("3.9"):
        raise NotFound("Updating a backup needs microversion 3.9 or later.")
    changes = dict(call.body["backup"])
    if not call.version.at_least("3.43"):
        changes.pop("metadata", None)
    row = backups(call).update(call.ctx, call.path["backup_id"], changes)
    return {"backup": views.backup_summary(row, call.url)}


def delete(call: Call) -> Reply:
    backups(call).delete(call.ctx, call.path["backup_id"], force=flag(call.query.get("force", False)))
    return Reply(status=202)


def restore(call: Call) -> Reply:
    asked = call.body["restore"] or {}
    backup, volume = backups(call).restore(call.ctx, call.path["backup_id"], asked.get("volume_id"),
                                           asked.get("name"))
    return Reply({"restore": {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name}}, 202)


def act(call: Call) -> Reply:
    ((name, args),) = call.body.items()
    if name == "os-reset_status":
        backups(call).reset_status(call.ctx, call.path["backup_id"], args["status"])
    else:
        backups(call).delete(call.ctx, call.path["backup_id"], force=True)
    return Reply(status=202)


def export_record(call: Call) -> dict:
    return {"backup-record": backups(call).export_record(call.ctx, call.path["backup_id"])}


def import_record(call: Call) -> Reply:
    asked = call.body["backup-record"]
    row = backups(call).import_record(call.ctx, asked["backup_service"], asked["backup_url"])
    return Reply({"backup": views.backup_summary(row, call.url)}, 201)


ROUTES = [
    *v3("/backups", "POST", create, schema=schemas.BACKUP_CREATE),
    *v3("/backups", "GET", index),
    *v3("/backups/detail", "GET", detail),
    *v3("/backups/import_record", "POST", import_record, schema=schemas.BACKUP_IMPORT),
    *v3("/backups/{backup_id}", "GET", show),
    *v3("/backups/{backup_id}", "PUT", update, schema=schemas.BACKUP_UPDATE),
    *v3("/backups/{backup_id}", "DELETE", delete),
    *v3("/backups/{backup_id}/restore", "POST", restore, schema=schemas.BACKUP_RESTORE),
    *v3("/backups/{backup_id}/action", "POST", act, schema=schemas.BACKUP_ACTIONS),
    *v3("/backups/{backup_id}/export_record", "GET", export_record),
]
