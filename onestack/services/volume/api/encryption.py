"""/v3/{project_id}/types/{type_id}/encryption: a volume type's encryption (admins only)."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import v3
from onestack.services.volume.service.encryption import Encryption


def encryption(call: Call) -> Encryption:
    return call.runtime.volume.encryption


def show(call: Call) -> dict:
    """The encryption itself, unwrapped; ``{}`` for a type without one (Cinder's answers)."""
    row = encryption(call).show(call.ctx, call.path["type_id"])
    return views.encryption(row, detail=True) if row is not None else {}


def show_key(call: Call) -> dict:
    row = encryption(call).show(call.ctx, call.path["type_id"])
    key = call.path["key"]
    shown = views.encryption(row) if row is not None else {}
    if key not in shown:
        raise NotFound(f"Volume type encryption for type {call.path['type_id']} has no key {key}.")
    return {key: shown[key]}


def create(call: Call) -> dict:
    row = encryption(call).create(call.ctx, call.path["type_id"], call.body["encryption"])
    return {"encryption": views.encryption(row)}


def update(call: Call) -> dict:
    changed = encryption(call).update(call.ctx, call.path["type_id"], call.path["key"], call.body["encryption"])
    return {"encryption": changed}


def delete(call: Call) -> Reply:
    encryption(call).delete(call.ctx, call.path["type_id"], call.path["key"])
    return Reply(status=202)


ROUTES = [
    *v3("/types/{type_id}/encryption", "GET", show),
    *v3("/types/{type_id}/encryption", "POST", create, schema=schemas.ENCRYPTION_CREATE),
    *v3("/types/{type_id}/encryption/{key}", "GET", show_key),
    *v3("/types/{type_id}/encryption/{key}", "PUT", update, schema=schemas.ENCRYPTION_UPDATE),
    *v3("/types/{type_id}/encryption/{key}", "DELETE", delete),
]
