"""/v3/{project_id}/group_types (3.11), /groups (3.13) and /group_snapshots (3.14): generic volume groups."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import flag, next_links, v3
from onestack.services.volume.service.access import sees_every_project


def _needs(call: Call, version: str) -> None:
    """Cinder's answer to a method asked for below the microversion that brought it."""
    if not call.version.at_least(version):
        raise NotFound(f"This API needs microversion {version} or later.")


def _specs(specs: dict) -> dict[str, str]:
    return {key: str(value) for key, value in specs.items()}


# -- group types (3.11) -------------------------------------------------------------------------------------
def _types(call: Call):
    _needs(call, "3.11")
    return call.runtime.volume.group_types


def _type_shown(call: Call, row) -> dict:
    return {"group_type": views.group_type(row, sees_every_project(call.ctx))}


def type_index(call: Call) -> dict:
    admin = sees_every_project(call.ctx)
    return {"group_types": [views.group_type(r, admin) for r in _types(call).listing(call.ctx, call.query)]}


def type_show(call: Call) -> dict:
    return _type_shown(call, _types(call).show(call.ctx, call.path["group_type_id"]))


def type_create(call: Call) -> Reply:
    asked = call.body["group_type"]
    row = _types(call).create(call.ctx, asked["name"].strip(), asked.get("description"),
                              flag(asked.get("is_public", True)), _specs(asked.get("group_specs") or {}))
    return Reply(_type_shown(call, row), 202)


def type_update(call: Call) -> dict:
    asked = dict(call.body["group_type"])
    if "is_public" in asked:
        asked["is_public"] = flag(asked["is_public"])
    if "name" in asked:
        asked["name"] = asked["name"].strip()
    return _type_shown(call, _types(call).update(call.ctx, call.path["group_type_id"], asked))


def type_delete(call: Call) -> Reply:
    _types(call).delete(call.ctx, call.path["group_type_id"])
    return Reply(status=202)


def specs(call: Call) -> dict:
    return {"group_specs": _types(call).specs(call.ctx, call.path["group_type_id"])}


def set_specs(call: Call) -> Reply:
    """Cinder answers with the specs the request set."""
    asked = _specs(call.body["group_specs"])
    _types(call).set_specs(call.ctx, call.path["group_type_id"], asked)
    return Reply({"group_specs": asked}, 202)


def spec(call: Call) -> dict:
    found = _types(call).specs(call.ctx, call.path["group_type_id"])
    key = call.path["key"]
    if key not in found:
        raise NotFound(f"Group Type {call.path['group_type_id']} has no specs with key {key}.")
    return {key: found[key]}


def update_spec(call: Call) -> dict:
    ((key, value),) = call.body.items()
    if key != call.path["key"]:
        raise BadRequest("Request body and URI mismatch")
    _types(call).set_specs(call.ctx, call.path["group_type_id"], _specs({key: value}))
    return {key: str(value)}


def delete_spec(call: Call) -> Reply:
    _types(call).unset_spec(call.ctx, call.path["group_type_id"], call.path["key"])
    return Reply(status=202)


# -- groups (3.13) ------------------------------------------------------------------------------------------
def _groups(call: Call, version: str = "3.13"):
    _needs(call, version)
    return call.runtime.volume.groups


def _list_volume(call: Call) -> bool:
    return flag(call.query.get("list_volume", "false"))


def group_create(call: Call) -> Reply:
    row = _groups(call).create(call.ctx, call.body["group"])
    return Reply({"group": {"id": row.id, "name": row.name}}, 202)


def _group_listing(call: Call, detail: bool) -> dict:
    found, held = _groups(call).listing(call.ctx, call.query, call.version)
    body = {"groups": [views.group(r, call.version, held[r.id] if _list_volume(call) else None) if detail
                       else {"id": r.id, "name": r.name} for r in found.rows]}
    body.update(next_links(call, "groups", found.next_marker))
    if found.count is not None:
        body["count"] = found.count
    return body


def group_index(call: Call) -> dict:
    return _group_listing(call, detail=False)


def group_detail(call: Call) -> dict:
    return _group_listing(call, detail=True)


def group_show(call: Call) -> dict:
    row, volume_ids = _groups(call).show(call.ctx, call.path["group_id"])
    return {"group": views.group(row, call.version, volume_ids if _list_volume(call) else None)}


def group_update(call: Call) -> Reply:
    _groups(call).update(call.ctx, call.path["group_id"], call.body["group"])
    return Reply(status=202)


def group_action(call: Call) -> Reply:
    ((action, args),) = call.body.items()
    if action == "delete":
        _groups(call).delete(call.ctx, call.path["group_id"], flag((args or {}).get("delete-volumes", False)))
    else:
        _groups(call, "3.20").reset_status(call.ctx, call.path["group_id"], args["status"])
    return Reply(status=202)


def group_from_source(call: Call) -> Reply:
    row = _groups(call, "3.14").create_from_source(call.ctx, call.body["create-from-src"])
    return Reply({"group": {"id": row.id, "name": row.name}}, 202)


# -- group snapshots (3.14) ---------------------------------------------------------------------------------
def _group_snapshots(call: Call, version: str = "3.14"):
    _needs(call, version)
    return call.runtime.volume.group_snapshots


def snapshot_create(call: Call) -> Reply:
    row = _group_snapshots(call).create(call.ctx, call.body["group_snapshot"], call.version)
    return Reply({"group_snapshot": {"id": row.id, "name": row.name, "group_type_id": row.group_type_id}}, 202)


def _snapshot_listing(call: Call, detail: bool) -> dict:
    found = _group_snapshots(call).listing(call.ctx, call.query, call.version)
    body = {"group_snapshots": [views.group_snapshot(r) if detail else {"id": r.id, "name": r.name}
                                for r in found.rows]}
    body.update(next_links(call, "group_snapshots", found.next_marker))
    if found.count is not None:
        body["count"] = found.count
    return body


def snapshot_index(call: Call) -> dict:
    return _snapshot_listing(call, detail=False)


def snapshot_detail(call: Call) -> dict:
    return _snapshot_listing(call, detail=True)


def snapshot_show(call: Call) -> dict:
    return {"group_snapshot": views.group_snapshot(_group_snapshots(call).show(call.ctx,
                                                                              call.path["group_snapshot_id"]))}


def snapshot_delete(call: Call) -> Reply:
    _group_snapshots(call).delete(call.ctx, call.path["group_snapshot_id"])
    return Reply(status=202)


def snapshot_action(call: Call) -> Reply:
    _group_snapshots(call, "3.19").reset_status(call.ctx, call.path["group_snapshot_id"],
                                                call.body["reset_status"]["status"])
    return Reply(status=202)


ROUTES = [
    *v3("/group_types", "GET", type_index),
    *v3("/group_types", "POST", type_create, schema=schemas.GROUP_TYPE_CREATE),
    *v3("/group_types/{group_type_id}", "GET", type_show),
    *v3("/group_types/{group_type_id}", "PUT", type_update, schema=schemas.GROUP_TYPE_UPDATE),
    *v3("/group_types/{group_type_id}", "DELETE", type_delete),
    *v3("/group_types/{group_type_id}/group_specs", "GET", specs),
    *v3("/group_types/{group_type_id}/group_specs", "POST", set_specs, schema=schemas.GROUP_SPECS_BODY),
    *v3("/group_types/{group_type_id}/group_specs/{key}", "GET", spec),
    *v3("/group_types/{group_type_id}/group_specs/{key}", "PUT", update_spec, schema=schemas.GROUP_SPEC_ITEM),
    *v3("/group_types/{group_type_id}/group_specs/{key}", "DELETE", delete_spec),
    *v3("/groups", "GET", group_index),
    *v3("/groups", "POST", group_create, schema=schemas.GROUP_CREATE),
    *v3("/groups/detail", "GET", group_detail),
    *v3("/groups/action", "POST", group_from_source, schema=schemas.GROUP_FROM_SOURCE),
    *v3("/groups/{group_id}", "GET", group_show),
    *v3("/groups/{group_id}", "PUT", group_update, schema=schemas.GROUP_UPDATE),
    *v3("/groups/{group_id}/action", "POST", group_action, schema=schemas.GROUP_ACTIONS),
    *v3("/group_snapshots", "GET", snapshot_index),
    *v3("/group_snapshots", "POST", snapshot_create, schema=schemas.GROUP_SNAPSHOT_CREATE),
    *v3("/group_snapshots/detail", "GET", snapshot_detail),
    *v3("/group_snapshots/{group_snapshot_id}", "GET", snapshot_show),
    *v3("/group_snapshots/{group_snapshot_id}", "DELETE", snapshot_delete),
    *v3("/group_snapshots/{group_snapshot_id}/action", "POST", snapshot_action,
        schema=schemas.GROUP_SNAPSHOT_ACTIONS),
]
