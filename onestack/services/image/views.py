"""Image rows to Glance's response bodies (custom properties flattened in, as Glance shows them)."""

from __future__ import annotations

from onestack.services.image.models import Image, ImageMember


def stamp(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def image(i: Image) -> dict:
    body = dict(i.properties or {})
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
