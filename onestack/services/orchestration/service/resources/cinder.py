"""Block Storage types, made through the Block Storage API (``/volume/v3``): volumes and their attachment
to servers (the attachment goes through Compute's ``os-volume_attachments``, as Heat's does)."""

from __future__ import annotations

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ResourceType,
    gone,
    ignore_missing,
    image_id,
)


class Volume(ResourceType):
    name = "OS::Cinder::Volume"
    description = "A resource that implements Cinder volumes."
    properties = {
        "size": Prop("integer", "The size of the volume in GB. On update only increase in size is supported.",
                     update=True, min=1),
        "name": Prop("string", "A name used to distinguish the volume.", update=True),
        "description": Prop("string", "A description of the volume.", update=True),
        "volume_type": Prop("string", "If specified, the type of volume to use, mapping to a specific backend."),
        "metadata": Prop("map", "Key/value pairs to associate with the volume.", default={}, update=True),
        "availability_zone": Prop("string", "The availability zone in which the volume will be created."),
        "snapshot_id": Prop("string", "If specified, the snapshot to create the volume from."),
        "source_volid": Prop("string", "If specified, the volume to use as source."),
        "image": Prop("string", "If specified, the name or ID of the image to create the volume from."),
        "scheduler_hints": Prop("map", "Arbitrary key-value pairs specified by the client to help the Cinder "
                                "scheduler creating a volume."),
        "multiattach": Prop("boolean", "Whether allow the volume to be attached more than once."),
        "read_only": Prop("boolean", "Enables or disables read-only access mode of volume.", update=True),
    }
    attributes = {"availability_zone": "The availability zone in which the volume is located.",
                  "size": "The size of the volume in GB.", "snapshot_id": "The snapshot the volume was created "
                  "from, if any.", "display_name": "Name of the volume.", "display_description": "Description "
                  "of the volume.", "volume_type": "The type of the volume mapping to a backend, if any.",
                  "metadata": "Key/value pairs associated with the volume.", "source_volid": "The volume used "
                  "as source, if any.", "status": "The current status of the volume.", "created_at": "The "
                  "timestamp indicating volume creation.", "bootable": "Boolean indicating if the volume can "
                  "be booted or not.", "attachments": "A string representation of the list of attachments of "
                  "the volume.", "attachments_list": "The list of attachments of the volume.", "encrypted":
                  "Boolean indicating if the volume is encrypted or not.", "multiattach": "Boolean indicating "
                  "whether allow the volume to be attached more than once."}

    def create(self, h: Handle) -> None:
        p = h.properties
        if not p.get("size") and not p.get("snapshot_id") and not p.get("source_volid"):
            raise ResourceFailure("One of the properties size, snapshot_id or source_volid is required",
                                  "StackValidationFailed")
        volume = {"name": h.name_or_physical(), "metadata": p.get("metadata") or {}}
        for key in ("size", "description", "volume_type", "availability_zone", "snapshot_id", "source_volid",
                    "multiattach"):
            if p.get(key) is not None:
                volume[key] = p[key]
        if p.get("image"):
            volume["imageRef"] = image_id(h, p["image"])
        body = {"volume": volume}
        if p.get("scheduler_hints"):
            body["OS-SCH-HNT:scheduler_hints"] = p["scheduler_hints"]
        h.physical_id = h.cloud.post("block-storage", "/volumes", body)["volume"]["id"]

    def _volume(self, h: Handle) -> dict:
        h.cache.pop("volume", None)
        h.cache["volume"] = h.cloud.get("block-storage", f"/volumes/{h.physical_id}")["volume"]
        return h.cache["volume"]

    def _ready(self, h: Handle) -> bool:
        status = self._volume(h)["status"]
        if status.startswith("error"):
            raise ResourceFailure(f"Went to status {status} due to \"Unknown\"", "ResourceInError")
        return status in ("available", "in-use")

    def create_done(self, h: Handle) -> bool:
        if not self._ready(h):
            return False
        if h.properties.get("read_only") is not None:
            h.cloud.post("block-storage", f"/volumes/{h.physical_id}/action",
                         {"os-update_readonly_flag": {"readonly": h.properties["read_only"]}})
        return True

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("block-storage", "/volumes", "volumes")

    def update(self, h: Handle, old: dict, new: dict) -> None:
        path = f"/volumes/{h.physical_id}"
        changes = {}
        if old.get("name") != new.get("name"):
            changes["name"] = h.name_or_physical()
        if old.get("description") != new.get("description"):
            changes["description"] = new.get("description") or ""
        if changes:
            h.cloud.put("block-storage", path, {"volume": changes})
        if old.get("metadata") != new.get("metadata"):
            h.cloud.put("block-storage", f"{path}/metadata", {"metadata": new.get("metadata") or {}})
        if old.get("read_only") != new.get("read_only") and new.get("read_only") is not None:
            h.cloud.post("block-storage", f"{path}/action", {"os-update_readonly_flag": {"readonly": new["read_only"]}})
        if (new.get("size") or 0) < (old.get("size") or 0):
            raise ResourceFailure(f"The new size {new['size']} must be larger than the volume's {old['size']} GB",
                                  "NotSupported")
        if new.get("size") != old.get("size"):
            h.cloud.post("block-storage", f"{path}/action", {"os-extend": {"new_size": new["size"]}})

    def update_done(self, h: Handle) -> bool:
        return self._ready(h)

    snapshots = True

    def snapshot(self, h: Handle) -> None:
        """A backup of the volume (Heat's Snapshot of a volume), named after the resource's physical name."""
        if not h.physical_id or h.data.get("snapshot_backup"):
            return
        name = f"{h.physical_name()}-snapshot"
        found = [b for b in h.cloud.get("block-storage", "/backups")["backups"] if b.get("name") == name]
        if found:
            h.data["snapshot_backup"] = found[0]["id"]
            return
        try:
            made = h.cloud.post("block-storage", "/backups", {"backup": {
                "volume_id": h.physical_id, "name": name, "force": True}})["backup"]
        except CloudError as exc:
            if exc.status == 404:
                return
            raise
        h.data["snapshot_backup"] = made["id"]

    def snapshot_done(self, h: Handle) -> bool:
        if not h.data.get("snapshot_backup"):
            return True
        backup = h.cloud.get("block-storage", f"/backups/{h.data['snapshot_backup']}")["backup"]
        if backup["status"] == "error":
            raise ResourceFailure(f"The volume's backup {backup['id']} went to status error: "
                                  f"{backup.get('fail_reason') or 'unknown'}", "ResourceInError")
        return backup["status"] == "available"

    def delete(self, h: Handle) -> None:
        if h.physical_id:
            ignore_missing(lambda: h.cloud.delete("block-storage", f"/volumes/{h.physical_id}"))

    def delete_done(self, h: Handle) -> bool:
        if not h.physical_id:
            return True
        if gone(lambda: self._volume(h)):
            return True
        if h.cache["volume"]["status"] == "error_deleting":
            raise ResourceFailure("Volume could not be deleted: it went to status error_deleting",
                                  "ResourceInError")
        return False

    def attribute(self, h: Handle, name: str):
        if not h.physical_id:
            return None
        volume = h.cache.get("volume") or self._volume(h)
        aliases = {"display_name": "name", "display_description": "description", "attachments_list": "attachments"}
        if name == "show":
            return volume
        if name == "attachments":
            return str(volume.get("attachments", []))
        return volume.get(aliases.get(name, name))


class VolumeAttachment(ResourceType):
    name = "OS::Cinder::VolumeAttachment"
    description = "Resource for associating volume to instance."
    properties = {
        "instance_uuid": Prop("string", "The ID of the server to which the volume attaches.", required=True,
                              update=True),
        "volume_id": Prop("string", "The ID of the volume to be attached.", required=True, update=True),
        "mountpoint": Prop("string", "The location where the volume is exposed on the instance.", update=True),
    }

    def _attach(self, h: Handle) -> None:
        attachment = {"volumeId": h.properties["volume_id"]}
        if h.properties.get("mountpoint"):
            attachment["device"] = h.properties["mountpoint"]
        made = h.cloud.post("compute", f"/servers/{h.properties['instance_uuid']}/os-volume_attachments",
                            {"volumeAttachment": attachment})["volumeAttachment"]
        h.physical_id = f"{h.properties['instance_uuid']}:{made['volumeId']}"

    def _volume_status(self, h: Handle) -> str:
        _, _, volume = (h.physical_id or "").partition(":")
        return h.cloud.get("block-storage", f"/volumes/{volume}")["volume"]["status"]

    def create(self, h: Handle) -> None:
        self._attach(h)

    def create_done(self, h: Handle) -> bool:
        status = self._volume_status(h)
        if status.startswith("error"):
            raise ResourceFailure(f"Went to status {status} due to \"attaching failed\"", "ResourceInError")
        return status == "in-use"

    def delete(self, h: Handle) -> None:
        if h.physical_id:
            server, _, volume = h.physical_id.partition(":")
            ignore_missing(lambda: h.cloud.delete("compute", f"/servers/{server}/os-volume_attachments/{volume}"))

    def delete_done(self, h: Handle) -> bool:
        if not h.physical_id:
            return True
        try:
            status = self._volume_status(h)
        except CloudError as exc:
            if exc.status == 404:  # the volume is gone, so detached
                return True
            raise
        return status not in ("detaching", "in-use")

    def update(self, h: Handle, old: dict, new: dict) -> None:
        # A different server, volume or mount point is a detach of the old and an attach of the new.
        self.delete(h)
        h.data["reattach"] = True

    def update_done(self, h: Handle) -> bool:
        if h.data.get("reattach"):
            if not self.delete_done(h):
                return False
            self._attach(h)
            h.data["reattach"] = False
        return self.create_done(h)


class VolumeType(ResourceType):
    name = "OS::Cinder::VolumeType"
    description = "A resource for creating cinder volume types (admin only, as in Block Storage)."
    properties = {
        "name": Prop("string", "Name of the volume type.", required=True, update=True),
        "description": Prop("string", "Description of the volume type.", update=True),
        "metadata": Prop("map", "The extra specs key and value pairs of the volume type.", default={},
                         update=True),
        "is_public": Prop("boolean", "Whether the volume type is accessible to the public.", default=True,
                          update=True),
        "projects": Prop("list", "Projects to add volume type access to (a private type).", default=[],
                         update=True, schema=Prop("string")),
    }

    def create(self, h: Handle) -> None:
        p = h.properties
        body = {"name": p["name"], "os-volume-type-access:is_public": p["is_public"],
                "extra_specs": {k: str(v) for k, v in (p["metadata"] or {}).items()}}
        if p.get("description") is not None:
            body["description"] = p["description"]
        h.physical_id = h.cloud.post("block-storage", "/types", {"volume_type": body})["volume_type"]["id"]
        self._access(h, [], p["projects"])

    def _access(self, h: Handle, before: list, after: list) -> None:
        if h.properties.get("is_public"):
            return
        path = f"/types/{h.physical_id}/action"
        for project in sorted(set(after) - set(before)):
            h.cloud.post("block-storage", path, {"addProjectAccess": {"project": project}})
        for project in sorted(set(before) - set(after)):
            h.cloud.post("block-storage", path, {"removeProjectAccess": {"project": project}})

    def update(self, h: Handle, old: dict, new: dict) -> None:
        path = f"/types/{h.physical_id}"
        changes = {key: new.get(key) for key in ("name", "description") if old.get(key) != new.get(key)}
        if old.get("is_public") != new.get("is_public"):
            changes["is_public"] = new["is_public"]
        if changes:
            h.cloud.put("block-storage", path, {"volume_type": changes})
        specs = {k: str(v) for k, v in (new.get("metadata") or {}).items()}
        for key in set(old.get("metadata") or {}) - set(specs):
            ignore_missing(lambda key=key: h.cloud.delete("block-storage", f"{path}/extra_specs/{key}"))
        if specs:
            h.cloud.post("block-storage", f"{path}/extra_specs", {"extra_specs": specs})
        self._access(h, old.get("projects") or [], new.get("projects") or [])

    def find(self, h: Handle) -> str | None:
        found = [t for t in h.cloud.get("block-storage", "/types", params={"is_public": "None"})["volume_types"]
                 if t["name"] == h.properties["name"]]
        return found[0]["id"] if len(found) == 1 else None

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("block-storage", f"/types/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        if name == "show":
            return h.cloud.get("block-storage", f"/types/{h.physical_id}")["volume_type"]
        return None


class QoSSpecs(ResourceType):
    name = "OS::Cinder::QoSSpecs"
    description = "A resource for creating cinder QoS specs (admin only, as in Block Storage)."
    properties = {
        "name": Prop("string", "Name of the QoS."),
        "specs": Prop("map", "The specs key and value pairs of the QoS.", required=True, update=True),
    }

    def create(self, h: Handle) -> None:
        specs = {k: str(v) for k, v in h.properties["specs"].items()}
        made = h.cloud.post("block-storage", "/qos-specs", {"qos_specs": {"name": h.name_or_physical(), **specs}})
        h.physical_id = made["qos_specs"]["id"]

    def update(self, h: Handle, old: dict, new: dict) -> None:
        path = f"/qos-specs/{h.physical_id}"
        gone_keys = sorted(set(old.get("specs") or {}) - set(new.get("specs") or {}))
        if gone_keys:
            h.cloud.put("block-storage", f"{path}/delete_keys", {"keys": gone_keys})
        if new.get("specs"):
            h.cloud.put("block-storage", path, {"qos_specs": {k: str(v) for k, v in new["specs"].items()}})

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("block-storage", "/qos-specs", "qos_specs", exact=True)

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("block-storage", f"/qos-specs/{h.physical_id}",
                                              params={"force": "true"}))

    def attribute(self, h: Handle, name: str):
        return h.cloud.get("block-storage", f"/qos-specs/{h.physical_id}")["qos_specs"] if name == "show" else None


TYPES = (Volume, VolumeAttachment, VolumeType, QoSSpecs)
