"""/v3/{project_id}/types: volume types, their extra specs and access; /default-types (3.62)."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import STRING, query_parameters
from onestack.http.routing import Call, Reply
from onestack.services.volume import responses, schemas, views
from onestack.services.volume.api.paths import flag, v3
from onestack.services.volume.service import VolumeService
from onestack.services.volume.service.access import sees_every_project


def service(call: Call) -> VolumeService:
    return call.runtime.volume


def _shown(call: Call, row, answer: str = "show") -> dict:
    return {"volume_type": views.volume_type(row, sees_every_project(call.ctx), answer)}


def index(call: Call) -> dict:
    admin = sees_every_project(call.ctx)
    return {"volume_types": [views.volume_type(r, admin)
                             for r in service(call).list_types(call.ctx, call.query.get("is_public"))]}


def show(call: Call) -> dict:
    return _shown(call, service(call).show_type(call.ctx, call.path["type_id"]))


def _specs(specs: dict) -> dict[str, str]:
    """Cinder keeps every extra spec as a string (true, 1 and 1.5 become "True", "1", "1.5")."""
    return {key: str(value) for key, value in specs.items()}


def create(call: Call) -> dict:
    asked = call.body["volume_type"]
    public = flag(asked.get("os-volume-type-access:is_public", asked.get("is_public", True)))
    row = service(call).create_type(call.ctx, asked["name"].strip(), asked.get("description"), public,
                                    _specs(asked.get("extra_specs") or {}))
    return _shown(call, row, "create")


def update(call: Call) -> dict:
    asked = dict(call.body["volume_type"])
    if "is_public" in asked:
        asked["is_public"] = flag(asked["is_public"])
    if "name" in asked:
        asked["name"] = asked["name"].strip()
    return _shown(call, service(call).update_type(call.ctx, call.path["type_id"], asked), "update")


def delete(call: Call) -> Reply:
    service(call).delete_type(call.ctx, call.path["type_id"])
    return Reply(status=202)


def extra_specs(call: Call) -> dict:
    row = service(call).show_type(call.ctx, call.path["type_id"])
    return {"extra_specs": _specs(row.extra_specs) if sees_every_project(call.ctx) else {}}


def set_extra_specs(call: Call) -> dict:
    """Cinder answers with the specs the request set, not every spec the type has."""
    asked = _specs(call.body["extra_specs"])
    kept = service(call).set_extra_specs(call.ctx, call.path["type_id"], asked)
    return {"extra_specs": {key: str(kept[key]) for key in asked}}


def extra_spec(call: Call) -> dict:
    specs = extra_specs(call)["extra_specs"]
    if call.path["key"] not in specs:
        raise NotFound(f"Volume Type {call.path['type_id']} has no extra specs with key {call.path['key']}.")
    return {call.path["key"]: specs[call.path["key"]]}


def update_extra_spec(call: Call) -> dict:
    ((key, value),) = call.body.items()
    if key != call.path["key"]:
        raise BadRequest("Request body and URI mismatch")
    service(call).set_extra_specs(call.ctx, call.path["type_id"], _specs({key: value}))
    return {key: str(value)}


def delete_extra_spec(call: Call) -> Reply:
    service(call).unset_extra_spec(call.ctx, call.path["type_id"], call.path["key"])
    return Reply(status=202)


def access(call: Call) -> dict:
    return {"volume_type_access": [{"volume_type_id": a.type_id, "project_id": a.project_id}
                                   for a in service(call).type_access(call.ctx, call.path["type_id"])]}


def change_access(call: Call) -> Reply:
    ((action, args),) = call.body.items()
    service(call).change_type_access(call.ctx, call.path["type_id"], args["project"],
                                     add=action == "addProjectAccess")
    return Reply(status=202)


# -- /default-types (3.62) ----------------------------------------------------------------------------------
def _from_3_62(call: Call) -> None:
    if not call.version.at_least("3.62"):
        raise NotFound("The default-types API needs microversion 3.62 or later.")


def default_types(call: Call) -> dict:
    _from_3_62(call)
    return {"default_types": [views.default_type(r) for r in service(call).project_defaults(call.ctx)]}


def default_type(call: Call) -> dict:
    _from_3_62(call)
    return {"default_type": views.default_type(service(call).project_default(call.ctx,
                                                                             call.path["target_project"]))}


def set_default_type(call: Call) -> dict:
    _from_3_62(call)
    row = service(call).set_project_default(call.ctx, call.path["target_project"],
                                            call.body["default_type"]["volume_type"])
    return {"default_type": views.default_type(row)}


def unset_default_type(call: Call) -> Reply:
    _from_3_62(call)
    service(call).unset_project_default(call.ctx, call.path["target_project"])
    return Reply(status=204)


ROUTES = [
    *v3("/types", "GET", index, response=responses.VOLUME_TYPES,
        query=query_parameters(paging=(), is_public=STRING)),
    *v3("/types", "POST", create, schema=schemas.TYPE_CREATE, response=responses.VOLUME_TYPE),
    *v3("/types/{type_id}", "GET", show, response=responses.VOLUME_TYPE),
    *v3("/types/{type_id}", "PUT", update, schema=schemas.TYPE_UPDATE, response=responses.VOLUME_TYPE),
    *v3("/types/{type_id}", "DELETE", delete),
    *v3("/types/{type_id}/extra_specs", "GET", extra_specs),
    *v3("/types/{type_id}/extra_specs", "POST", set_extra_specs, schema=schemas.EXTRA_SPECS_BODY),
    *v3("/types/{type_id}/extra_specs/{key}", "GET", extra_spec),
    *v3("/types/{type_id}/extra_specs/{key}", "PUT", update_extra_spec, schema=schemas.EXTRA_SPEC_ITEM),
    *v3("/types/{type_id}/extra_specs/{key}", "DELETE", delete_extra_spec),
    *v3("/types/{type_id}/os-volume-type-access", "GET", access),
    *v3("/types/{type_id}/action", "POST", change_access, schema=schemas.TYPE_ACCESS),
    *v3("/default-types", "GET", default_types),
    *v3("/default-types/{target_project}", "GET", default_type),
    *v3("/default-types/{target_project}", "PUT", set_default_type, schema=schemas.DEFAULT_TYPE),
    *v3("/default-types/{target_project}", "DELETE", unset_default_type),
]
