"""/v3/{project_id}/volumes: create, list (summary and detail), show, update, delete, metadata, summary."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import responses, schemas, views
from onestack.services.volume.api import metadata
from onestack.services.volume.api.paths import flag, next_links, v3
from onestack.services.volume.service import VolumeService
from onestack.services.volume.service import volumes as listed_volumes
from onestack.services.volume.service.access import sees_every_project


def volumes(call: Call) -> VolumeService:
    return call.runtime.volume


def _named(asked: dict) -> dict:
    """Cinder's older display_name/display_description spellings, as the current ones."""
    found = dict(asked)
    for old, new in (("display_name", "name"), ("display_description", "description")):
        if old in found:
            found.setdefault(new, found.pop(old))
    return found


def _shown(call: Call, row, extended: bool = True) -> dict:
    return {"volume": views.volume(row, call.url, call.version, sees_every_project(call.ctx), extended)}


def create(call: Call) -> Reply:
    asked = _named(call.body["volume"])
    if not call.version.at_least("3.13"):
        asked.pop("group_id", None)  # generic groups are 3.13's, as Cinder ignores the key before
    row = volumes(call).volumes.create(call.ctx, asked)
    return Reply(_shown(call, row, extended=False), 202)


def _listing(call: Call, detail: bool) -> dict:
    found = volumes(call).volumes.listing(call.ctx, call.query, call.version)
    admin = sees_every_project(call.ctx)
    body = {"volumes": [views.volume(r, call.url, call.version, admin) if detail else views.volume_summary(r, call.url)
                        for r in found.rows]}
    body.update(next_links(call, "volumes", found.next_marker))
    if found.count is not None:
        body["count"] = found.count
    return body


def index(call: Call) -> dict:
    return _listing(call, detail=False)


def detail(call: Call) -> dict:
    return _listing(call, detail=True)


def show(call: Call) -> dict:
    return _shown(call, volumes(call).volumes.show(call.ctx, call.path["volume_id"]))


def update(call: Call) -> dict:
    return _shown(call, volumes(call).volumes.update(call.ctx, call.path["volume_id"], _named(call.body["volume"])),
                  extended=False)


def delete(call: Call) -> Reply:
    volumes(call).volumes.delete(call.ctx, call.path["volume_id"], cascade=flag(call.query.get("cascade", False)),
                                 force=flag(call.query.get("force", False)) and call.version.at_least("3.23"))
    return Reply(status=202)


def summary(call: Call) -> dict:
    if not call.version.at_least("3.12"):
        raise NotFound("Volume summary could not be found.")
    count, size, values = volumes(call).volumes.summary(call.ctx, flag(call.query.get("all_tenants", False)))
    body = {"total_count": count, "total_size": size}
    if call.version.at_least("3.36"):
        body["metadata"] = values
    return {"volume-summary": body}


ROUTES = [
    *v3("/volumes", "POST", create, schema=schemas.VOLUME_CREATE, status=202, response=responses.VOLUME),
    *v3("/volumes", "GET", index, query=listed_volumes.QUERY, response=responses.VOLUMES),
    *v3("/volumes/detail", "GET", detail, query=listed_volumes.QUERY, response=responses.VOLUMES_DETAIL),
    *v3("/volumes/summary", "GET", summary),
    *v3("/volumes/{volume_id}", "GET", show, response=responses.VOLUME),
    *v3("/volumes/{volume_id}", "PUT", update, schema=schemas.VOLUME_UPDATE, response=responses.VOLUME),
    *v3("/volumes/{volume_id}", "DELETE", delete),
    *metadata.routes("volumes", "Volume", lambda call: call.runtime.volume.volumes),
]
