"""Image rows to Glance's response bodies (custom properties flattened in, as Glance shows them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.services.image.models import (
    Image,
    ImageMember,
    ImageTask,
    MetadefEntry,
    MetadefNamespace,
    MetadefResourceType,
)

if TYPE_CHECKING:
    from onestack.services.image.service.metadefs import Contents

# Glance keeps where data was staged to itself (it routes imports to that worker).
# where an image's RBD copy is (``pool/id@snap``): the service's own bookkeeping, shown as a store only
RBD_LOCATION = "os_onestack_rbd_location"
# the stores that hold the image's data (``file``, ``swift``), comma-separated; absent means ``file``
STORES = "os_onestack_stores"
HIDDEN = ("os_glance_stage_host", RBD_LOCATION, STORES)


def stores_of(i: Image) -> list[str]:
    named = (i.properties or {}).get(STORES)
    return named.split(",") if named else ["file"]


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
        rbd = ["rbd"] if (i.properties or {}).get(RBD_LOCATION) else []
        body["stores"] = ",".join(dict.fromkeys(stores_of(i) + rbd))
    return body


def _listed(name: str, shown: list[dict], first: str, schema: str, next_query: str | None) -> dict:
    """A page of a list: its items, the first page, and the next one when there is more (``next_query``)."""
    body = {name: shown, "first": first, "schema": schema}
    if next_query:
        body["next"] = f"{first}?{next_query}"
    return body


def images(rows: list[Image], next_query: str | None) -> dict:
    return _listed("images", [image(r) for r in rows], "/v2/images", "/v2/schemas/images", next_query)


def member(m: ImageMember) -> dict:
    return {"image_id": m.image_id, "member_id": m.member, "status": m.status, "created_at": stamp(m.created_at),
            "updated_at": stamp(m.updated_at), "schema": "/v2/schemas/member"}


def members(rows: list[ImageMember]) -> dict:
    return {"members": [member(m) for m in rows], "schema": "/v2/schemas/members"}


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


def tasks(rows: list[ImageTask], next_query: str | None) -> dict:
    return _listed("tasks", [task_stub(t) for t in rows], "/v2/tasks", "/v2/schemas/tasks", next_query)


def _stamps(row) -> dict:
    return {"created_at": stamp(row.created_at), "updated_at": stamp(row.updated_at)}


def namespace(n: MetadefNamespace) -> dict:
    body = {"namespace": n.namespace, "visibility": n.visibility, "protected": n.protected, "owner": n.owner,
            **_stamps(n), "self": f"/v2/metadefs/namespaces/{n.namespace}", "schema": "/v2/schemas/metadefs/namespace"}
    for key in ("display_name", "description"):
        if getattr(n, key) is not None:
            body[key] = getattr(n, key)
    return body


def listed_namespace(n: MetadefNamespace, links: list[tuple]) -> dict:
    """A namespace as the list shows it: with its resource type associations, if any."""
    body = namespace(n)
    if links:
        body["resource_type_associations"] = [association(link, name) for link, name in links]
    return body


def namespaces(shown: list[dict], next_query: str | None) -> dict:
    return _listed("namespaces", shown, "/v2/metadefs/namespaces", "/v2/schemas/metadefs/namespaces", next_query)


def namespace_contents(c: Contents) -> dict:
    """A namespace with what it holds, each part shown only when it has something (as Glance does)."""
    body = namespace(c.namespace)
    parts = {"resource_type_associations": [association(link, name) for link, name in c.associations],
             "properties": {e.name: e.body for e in c.properties},
             "objects": [metadef_object(e, c.namespace.namespace) for e in c.objects],
             "tags": [metadef_tag(e) for e in c.tags]}
    body.update({key: value for key, value in parts.items() if value})
    return body


def resource_type(t: MetadefResourceType) -> dict:
    return {"name": t.name, "created_at": stamp(t.created_at), "updated_at": stamp(t.updated_at)}


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
