"""Image rows to Glance's response bodies (custom properties flattened in, as Glance shows them)."""

from __future__ import annotations

from onestack.services.image.models import Image, ImageMember, ImageTask, MetadefEntry, MetadefNamespace

# Glance keeps where data was staged to itself (it routes imports to that worker).
HIDDEN = ("os_glance_stage_host",)


def stamp(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def image(i: Image) -> dict:
    body = {k: v for k, v in (i.properties or {}).items() if k not in HIDDEN}
    body.update({
        "id": i.id, "name": i.name, "status": i.status, "visibility": i.visibility, "protected": i.protected,
        "os_hidden": i.os_hidden, "checksum": i.checksum, "os_hash_algo": i.os_hash_algo,
        "os_hash_value": i.os_hash_value, "owner": i.owner, "size": i.size, "virtual_size": i.virtual_size,
        "min_disk": i.min_disk, "min_ram": i.min_ram, "container_format": i.container_format,
        "disk_format": i.disk_format, "created_at": stamp(i.created_at), "updated_at": stamp(i.updated_at),
        "tags": list(i.tags or []), "self": f"/v2/images/{i.id}", "file": f"/v2/images/{i.id}/file",
        "schema": "/v2/schemas/image",
    })
    if i.status == "active":
        body["stores"] = "file"
    return body


def member(m: ImageMember) -> dict:
    return {"image_id": m.image_id, "member_id": m.member, "status": m.status, "created_at": stamp(m.created_at),
            "updated_at": stamp(m.updated_at), "schema": "/v2/schemas/member"}


def task_stub(t: ImageTask) -> dict:
    """A task as /v2/tasks lists it: without input, result and message."""
    body = {"id": t.id, "type": t.type, "status": t.status, "owner": t.owner, "created_at": stamp(t.created_at),
            "updated_at": stamp(t.updated_at), "self": f"/v2/tasks/{t.id}", "schema": "/v2/schemas/task"}
    if t.expires_at:
        body["expires_at"] = stamp(t.expires_at)
    return body


def task(t: ImageTask) -> dict:
    body = task_stub(t)
    body.update({"input": t.input, "result": t.result, "message": t.message})
    for key in ("image_id", "request_id", "user_id"):
        if getattr(t, key):
            body[key] = getattr(t, key)
    return body


def _stamps(row) -> dict:
    return {"created_at": stamp(row.created_at), "updated_at": stamp(row.updated_at)}


def namespace(n: MetadefNamespace) -> dict:
    body = {"namespace": n.namespace, "visibility": n.visibility, "protected": n.protected, "owner": n.owner,
            **_stamps(n), "self": f"/v2/metadefs/namespaces/{n.namespace}", "schema": "/v2/schemas/metadefs/namespace"}
    for key in ("display_name", "description"):
        if getattr(n, key) is not None:
            body[key] = getattr(n, key)
    return body


def association(link, name: str) -> dict:
    body = {"name": name, **_stamps(link)}
    for key in ("prefix", "properties_target"):
        if getattr(link, key) is not None:
            body[key] = getattr(link, key)
    return body


def metadef_object(e: MetadefEntry, ns: str) -> dict:
    return {"name": e.name, **e.body, **_stamps(e), "self": f"/v2/metadefs/namespaces/{ns}/objects/{e.name}",
            "schema": "v2/schemas/metadefs/object"}


def metadef_property(e: MetadefEntry) -> dict:
    return {"name": e.name, **e.body}


def metadef_tag(e: MetadefEntry) -> dict:
    return {"name": e.name, **_stamps(e)}
