"""Image service types, made through the Image API (``/image/v2``): an image whose data the image service
fetches from a URL itself (the ``web-download`` import, as Heat's ``OS::Glance::WebImage`` asks Glance)."""

from __future__ import annotations

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ResourceType,
    gone,
    ignore_missing,
)

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
# Properties that are the image's own fields, changed in place with a JSON patch.
FIELDS = ("name", "min_disk", "min_ram", "protected", "visibility", "architecture", "os_distro", "os_version",
          "kernel_id", "ramdisk_id", "owner")
CORE = ("name", "min_disk", "min_ram", "protected", "visibility", "owner")


class WebImage(ResourceType):
    name = "OS::Glance::WebImage"
    description = "A resource managing images in Glance using web-download import."
    properties = {
        "name": Prop("string", "Name for the image. The name of an image is not unique to a Image Service node.",
                     update=True),
        "id": Prop("string", "The image ID. Glance will generate a UUID if not specified."),
        "location": Prop("string", "URL where the data for this image already resides.", required=True),
        "disk_format": Prop("string", "Disk format of image.", required=True, allowed=DISK_FORMATS),
        "container_format": Prop("string", "Container format of image.", required=True,
                                 allowed=CONTAINER_FORMATS),
        "min_disk": Prop("integer", "Amount of disk space (in GB) required to boot image.", default=0,
                         update=True, min=0),
        "min_ram": Prop("integer", "Amount of ram (in MB) required to boot image.", default=0, update=True,
                        min=0),
        "protected": Prop("boolean", "Whether the image can be deleted.", default=False, update=True),
        "visibility": Prop("string", "Scope of image accessibility.", default="private", update=True,
                           allowed=("public", "private", "community", "shared")),
        "tags": Prop("list", "List of image tags.", default=[], update=True),
        "architecture": Prop("string", "Operating system architecture.", update=True),
        "os_distro": Prop("string", "The common name of the operating system distribution in lowercase.",
                          update=True),
        "os_version": Prop("string", "Operating system version as specified by the distributor.", update=True),
        "kernel_id": Prop("string", "ID of image stored in Glance that should be used as the kernel when booting "
                          "an AMI-style image.", update=True),
        "ramdisk_id": Prop("string", "ID of image stored in Glance that should be used as the ramdisk when "
                           "booting an AMI-style image.", update=True),
        "owner": Prop("string", "Owner of the image.", update=True),
        "extra_properties": Prop("map", "Arbitrary properties to associate with the image.", default={},
                                 update=True),
    }

    def create(self, h: Handle) -> None:
        p = h.properties
        image = {"name": h.name_or_physical(), "disk_format": p["disk_format"],
                 "container_format": p["container_format"], "tags": p.get("tags") or [],
                 **{k: p[k] for k in FIELDS if p.get(k) is not None and k != "name"},
                 **{k: str(v) for k, v in (p.get("extra_properties") or {}).items()}}
        if p.get("id"):
            image["id"] = p["id"]
        if not h.physical_id:  # a create resumed after a crash has its image already
            h.physical_id = h.cloud.post("image", "/v2/images", image)["id"]
        h.cloud.post("image", f"/v2/images/{h.physical_id}/import",
                     {"method": {"name": "web-download", "uri": p["location"]}})

    def _image(self, h: Handle) -> dict:
        h.cache["image"] = h.cloud.get("image", f"/v2/images/{h.physical_id}")
        return h.cache["image"]

    def create_done(self, h: Handle) -> bool:
        image = self._image(h)
        if image["status"] in ("killed", "deleted"):
            raise ResourceFailure(f"Image {h.physical_id} went to status {image['status']}: its data could not "
                                  f"be fetched from {h.properties['location']}", "ResourceInError")
        if image["status"] == "queued" and image.get("os_glance_failed_import"):
            raise ResourceFailure(f"Image {h.physical_id} could not be imported from {h.properties['location']}",
                                  "ResourceInError")
        return image["status"] == "active"

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("image", "/v2/images", "images")

    def update(self, h: Handle, old: dict, new: dict) -> None:
        patch = []
        for key in FIELDS:
            if old.get(key) != new.get(key):
                value = h.name_or_physical() if key == "name" else new.get(key)
                if value is None:
                    patch.append({"op": "remove", "path": f"/{key}"})
                else:  # JSON patch's add replaces a member that is there; an image's core fields always are
                    patch.append({"op": "replace" if key in CORE else "add", "path": f"/{key}", "value": value})
        if (old.get("tags") or []) != (new.get("tags") or []):
            patch.append({"op": "replace", "path": "/tags", "value": new.get("tags") or []})
        before, after = old.get("extra_properties") or {}, new.get("extra_properties") or {}
        patch += [{"op": "remove", "path": f"/{k}"} for k in before if k not in after]
        patch += [{"op": "add", "path": f"/{k}", "value": str(v)} for k, v in after.items() if before.get(k) != v]
        if patch:
            h.cloud.call("image", "PATCH", f"/v2/images/{h.physical_id}", patch,
                         headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})

    def delete(self, h: Handle) -> None:
        if not h.physical_id:
            return
        try:
            if self._image(h).get("protected"):
                raise ResourceFailure(f"Image {h.physical_id} is protected: unprotect it to delete the stack",
                                      "Forbidden")
        except CloudError as exc:
            if exc.status == 404:
                return
            raise
        ignore_missing(lambda: h.cloud.delete("image", f"/v2/images/{h.physical_id}"))

    def delete_done(self, h: Handle) -> bool:
        return not h.physical_id or gone(lambda: self._image(h))

    def attribute(self, h: Handle, name: str):
        if not h.physical_id:
            return None
        image = h.cache.get("image") or self._image(h)
        return image if name == "show" else image.get(name)


TYPES = (WebImage,)
