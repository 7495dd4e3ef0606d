"""Object Storage's container, made through the Object Storage API (``/object-store/v1/AUTH_<project>``)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ResourceType,
    ignore_missing,
)


class Container(ResourceType):
    name = "OS::Swift::Container"
    description = "A resource for managing Swift containers."
    properties = {
        "name": Prop("string", "Name for the container. If not specified, a unique name will be generated."),
        "X-Container-Read": Prop("string", "Specify the ACL permissions on who can read objects in the "
                                 "container."),
        "X-Container-Write": Prop("string", "Specify the ACL permissions on who can write objects to the "
                                  "container."),
        "X-Container-Meta": Prop("map", "A map of user-defined meta data to associate with the container.",
                                 default={}),
        "X-Account-Meta": Prop("map", "A map of user-defined meta data to associate with the account.",
                               default={}),
        "PurgeOnDelete": Prop("boolean", "If True, delete any objects in the container when the container is "
                              "deleted. Otherwise, deleting a non-empty container will result in an error.",
                              default=False),
    }
    attributes = {"DomainName": "The host from the container URL.", "WebsiteURL": "The URL of the container.",
                  "RootURL": "The parent URL of the container.", "ObjectCount": "The number of objects stored "
                  "in the container.", "BytesUsed": "The number of bytes stored in the container.",
                  "HeadContainer": "A map containing all headers for the container."}

    def _path(self, h: Handle) -> str:
        return f"/{quote(h.physical_id or h.name_or_physical(), safe='')}"

    def create(self, h: Handle) -> None:
        p = h.properties
        headers = {f"X-Container-Meta-{k}": str(v) for k, v in (p["X-Container-Meta"] or {}).items()}
        for key in ("X-Container-Read", "X-Container-Write"):
            if p.get(key):
                headers[key] = p[key]
        name = h.name_or_physical()
        h.cloud.call("object-store", "PUT", f"/{quote(name, safe='')}", headers=headers)
        h.physical_id = name
        if p["X-Account-Meta"]:
            h.cloud.call("object-store", "POST", "", headers={
                f"X-Account-Meta-{k}": str(v) for k, v in p["X-Account-Meta"].items()})

    def _objects(self, h: Handle) -> list[dict]:
        return h.cloud.get("object-store", self._path(h), params={"format": "json"}) or []

    def delete(self, h: Handle) -> None:
        try:
            objects = self._objects(h)
        except CloudError as exc:
            if exc.status == 404:
                return
            raise
        if objects and not h.properties.get("PurgeOnDelete"):
            raise ResourceFailure(f"Deleting non-empty container ({h.physical_id}) when PurgeOnDelete is False",
                                  "Conflict")
        for item in objects:
            ignore_missing(lambda item=item: h.cloud.delete(
                "object-store", f"{self._path(h)}/{quote(item['name'], safe='')}"))
        ignore_missing(lambda: h.cloud.delete("object-store", self._path(h)))

    def attribute(self, h: Handle, name: str):
        url = h.cloud.endpoint("object-store") + self._path(h)
        if name == "DomainName":
            return urlsplit(url).hostname
        if name == "WebsiteURL":
            return url
        if name == "RootURL":
            return h.cloud.endpoint("object-store") + "/"
        if name in ("ObjectCount", "BytesUsed", "HeadContainer", "show"):
            objects = self._objects(h)
            count, used = len(objects), sum(o.get("bytes", 0) for o in objects)
            return {"ObjectCount": count, "BytesUsed": used}.get(name, {"name": h.physical_id,
                                                                         "object_count": count,
                                                                         "bytes_used": used})
        return None


TYPES = (Container,)
