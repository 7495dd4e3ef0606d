"""Rows as the Block Storage API shows them; every microversion difference of an answer lives here."""

from __future__ import annotations

import datetime

from onestack.http.microversion import Version, at_least
from onestack.services.volume.models import (
    Attachment,
    Backup,
    DefaultType,
    Group,
    GroupSnapshot,
    GroupType,
    Message,
    QosSpecs,
    Snapshot,
    Transfer,
    TypeEncryption,
    Volume,
    VolumeType,
    host_name,
    host_of,
    volume_host,
)
from onestack.services.volume.public import Connection
from onestack.services.volume.versions import MICROVERSIONS

UPDATED = "2024-09-01T00:00:00Z"


def when(moment: datetime.datetime | None) -> str | None:
    """Cinder's timestamps: naive UTC with microseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


def version(href: str) -> dict:
    return {"id": "v3.0", "status": "CURRENT", "version": str(MICROVERSIONS.maximum),
            "min_version": str(MICROVERSIONS.minimum), "updated": UPDATED,
            "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": href}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}


def links(url, project_id: str, collection: str, ident: str) -> list[dict]:
    """``url`` makes an absolute URL of a path under the service (``call.url``)."""
    return [{"rel": "self", "href": url(f"/v3/{project_id}/{collection}/{ident}")},
            {"rel": "bookmark", "href": url(f"/{project_id}/{collection}/{ident}")}]


def attachment_summary(attachment: Attachment) -> dict:
    """An attachment as a volume lists it."""
    return {"id": attachment.volume_id, "attachment_id": attachment.id, "volume_id": attachment.volume_id,
            "server_id": attachment.instance_uuid, "host_name": attachment.attached_host,
            "device": attachment.mountpoint, "attached_at": when(attachment.attach_time)}


def volume_summary(volume: Volume, url) -> dict:
    return {"id": volume.id, "name": volume.name, "links": links(url, volume.project_id, "volumes", volume.id)}


def volume(volume: Volume, url, version: Version | None, admin: bool, extended: bool = True) -> dict:
    """``extended``: show and list/detail add what Cinder's extensions add (the owner, image metadata, an
    admin's host and migration fields); a create or update answer has none of them."""
    body = {
        "id": volume.id, "name": volume.name, "description": volume.description, "size": volume.size,
        "status": volume.status, "availability_zone": volume.availability_zone,
        "created_at": when(volume.created_at), "updated_at": when(volume.updated_at),
        "attachments": [attachment_summary(a) for a in volume.attachments if a.attach_status == "attached"],
        "links": links(url, volume.project_id, "volumes", volume.id),
        # the admin metadata Cinder shows with a volume's own (readonly, once set)
        "metadata": {**volume.metadata_, **(volume.admin_metadata or {})},
        "bootable": "true" if volume.bootable else "false",
        "encrypted": volume.encryption_key_id is not None, "multiattach": volume.multiattach, "replication_status": None,
        "consistencygroup_id": None,
        # an admin's only, as Cinder shows it
        "migration_status": volume.migration_status if admin else None, "snapshot_id": volume.snapshot_id,
        "source_volid": volume.source_volid, "user_id": volume.user_id,
        "volume_type": volume.volume_type.name, "group_id": volume.group_id,
    }
    if extended:
        body["os-vol-tenant-attr:tenant_id"] = volume.project_id
        if volume.image_metadata:
            body["volume_image_metadata"] = dict(volume.image_metadata)
    if admin and extended:
        body.update({"os-vol-host-attr:host": volume_host(volume.backend),
                     "os-vol-mig-status-attr:migstat": volume.migration_status,
                     "os-vol-mig-status-attr:name_id": None})
        if at_least(version, "3.61"):
            body["cluster_name"] = None
    if admin and at_least(version, "3.21"):
        body["provider_id"] = None
    if at_least(version, "3.48"):
        body.update({"shared_targets": False, "service_uuid": SERVICE_UUID})
    if at_least(version, "3.63"):
        body["volume_type_id"] = volume.type_id
    if at_least(version, "3.64"):
        body["encryption_key_id"] = volume.encryption_key_id
    if at_least(version, "3.65"):
        body["consumes_quota"] = True
    return body


def snapshot(snapshot: Snapshot, version: Version | None, detail: bool = True) -> dict:
    body = {"id": snapshot.id, "name": snapshot.name, "description": snapshot.description,
            "volume_id": snapshot.volume_id, "status": snapshot.status, "size": snapshot.size,
            "metadata": dict(snapshot.metadata_), "created_at": when(snapshot.created_at),
            "updated_at": when(snapshot.updated_at)}
    if detail:
        body["os-extended-snapshot-attributes:progress"] = snapshot.progress or (
            "100%" if snapshot.status == "available" else "0%")
        body["os-extended-snapshot-attributes:project_id"] = snapshot.project_id
    if at_least(version, "3.14"):
        body["group_snapshot_id"] = snapshot.group_snapshot_id
    if at_least(version, "3.41"):
        body["user_id"] = snapshot.user_id
    if at_least(version, "3.65"):
        body["consumes_quota"] = True
    return body


def backup_summary(row: Backup, url) -> dict:
    return {"id": row.id, "name": row.name, "links": links(url, row.project_id, "backups", row.id)}


def backup(row: Backup, url, version: Version | None, admin: bool, has_dependents: bool) -> dict:
    body = {**backup_summary(row, url), "description": row.description, "status": row.status,
            "availability_zone": row.availability_zone, "container": row.container,
            "created_at": when(row.created_at), "updated_at": when(row.updated_at), "fail_reason": row.fault,
            "volume_id": row.volume_id, "is_incremental": row.is_incremental,
            "has_dependent_backups": has_dependents, "size": row.size, "object_count": row.object_count,
            "snapshot_id": row.snapshot_id, "data_timestamp": when(row.data_timestamp)}
    if admin and at_least(version, "3.18"):
        body["os-backup-project-attr:project_id"] = row.project_id
    if at_least(version, "3.43"):
        body["metadata"] = dict(row.metadata_)
    if at_least(version, "3.56"):
        body["user_id"] = row.user_id
    if at_least(version, "3.64"):
        body["encryption_key_id"] = row.encryption_key_id
    return body


def volume_type(row: VolumeType, admin: bool, answer: str = "show") -> dict:
    """``answer``: "show" (show and list), "create" or "update": Cinder's create answer has no
    ``qos_specs_id``, its update answer neither that nor the type-access attribute (Tempest's schemas)."""
    body = {"id": row.id, "name": row.name, "description": row.description, "is_public": row.is_public}
    if answer != "update":
        body["os-volume-type-access:is_public"] = row.is_public
    if admin:
        body["extra_specs"] = {k: str(v) for k, v in row.extra_specs.items()}
        if answer == "show":
            body["qos_specs_id"] = row.qos_specs_id
    return body


def encryption(row: TypeEncryption, detail: bool = False) -> dict:
    """A type's encryption; ``detail``: as its show answers (with the record's dates and Cinder's
    soft-delete fields)."""
    body = {"volume_type_id": row.type_id, "encryption_id": row.id, "provider": row.provider,
            "cipher": row.cipher, "key_size": row.key_size, "control_location": row.control_location}
    if detail:
        body.update({"deleted": False, "created_at": when(row.created_at), "updated_at": when(row.updated_at),
                     "deleted_at": None})
    return body


def group_type(row: GroupType, admin: bool) -> dict:
    body = {"id": row.id, "name": row.name, "description": row.description, "is_public": row.is_public}
    if admin:
        body["group_specs"] = {k: str(v) for k, v in row.group_specs.items()}
    return body


def group(row: Group, version: Version | None, volume_ids: list[str] | None = None) -> dict:
    """A group as show and the detailed list give it; ``volume_ids``: its volumes (3.25, asked with
    ``list_volume``)."""
    body = {"id": row.id, "name": row.name, "description": row.description, "status": row.status,
            "availability_zone": row.availability_zone, "created_at": when(row.created_at),
            "group_type": row.group_type_id, "volume_types": list(row.volume_type_ids)}
    if at_least(version, "3.14"):
        body.update({"group_snapshot_id": row.group_snapshot_id, "source_group_id": row.source_group_id})
    if volume_ids is not None and at_least(version, "3.25"):
        body["volumes"] = volume_ids
    if at_least(version, "3.38"):
        body["replication_status"] = "disabled"
    return body


def group_snapshot(row: GroupSnapshot) -> dict:
    return {"id": row.id, "name": row.name, "description": row.description, "status": row.status,
            "group_id": row.group_id, "group_type_id": row.group_type_id, "created_at": when(row.created_at)}


def upload(volume: Volume, image: dict) -> dict:
    """What os-volume_upload_image answers: the volume, now uploading, and the image it fills."""
    return {"id": volume.id, "updated_at": when(volume.updated_at), "status": volume.status,
            "display_description": volume.description, "size": volume.size,
            "volume_type": volume_type(volume.volume_type, admin=True), "image_id": image["id"],
            "container_format": image.get("container_format"), "disk_format": image.get("disk_format"),
            "image_name": image.get("name"), "protected": image.get("protected", False),
            "visibility": image.get("visibility")}


def transfer(row: Transfer, url, version: Version | None, detail: bool = True, auth_key: str | None = None) -> dict:
    """A transfer; ``auth_key`` only in the answer to its creation."""
    body = {"id": row.id, "name": row.name, "volume_id": row.volume_id,
            "links": links(url, row.project_id, "volume-transfers", row.id)}
    if detail:
        body["created_at"] = when(row.created_at)
        if at_least(version, "3.55"):
            body["no_snapshots"] = row.no_snapshots
        if at_least(version, "3.57"):
            body.update({"source_project_id": row.project_id, "destination_project_id": row.destination_project_id,
                         "accepted": row.accepted})
    if auth_key is not None:
        body["auth_key"] = auth_key
    return body


def qos_specs(row: QosSpecs) -> dict:
    return {"id": row.id, "name": row.name, "consumer": row.consumer, "specs": dict(row.specs)}


def qos_links(url, project_id: str, row: QosSpecs) -> list[dict]:
    return links(url, project_id, "qos-specs", row.id)


def message(row: Message, url) -> dict:
    return {"id": row.id, "message_level": "ERROR", "user_message": row.user_message, "event_id": row.event_id,
            "resource_type": row.resource_type, "resource_uuid": row.resource_uuid, "request_id": row.request_id,
            "created_at": when(row.created_at), "guaranteed_until": when(row.expires_at),
            "links": links(url, row.project_id, "messages", row.id)}


def default_type(row: DefaultType) -> dict:
    return {"project_id": row.project_id, "volume_type_id": row.type_id}


def attachment(row: Attachment, connection: Connection | None, detail: bool = True) -> dict:
    body = {"id": row.id, "status": row.attach_status, "instance": row.instance_uuid, "volume_id": row.volume_id}
    if detail:
        body.update({"attached_at": when(row.attach_time), "detached_at": when(row.detach_time),
                     "attach_mode": row.attach_mode,
                     "connection_info": connection.as_dict()["data"] | {
                         "driver_volume_type": connection.driver_volume_type} if connection else {}})
    return body


def quota_set(project_id: str, values: dict) -> dict:
    return {"id": project_id, **values}


def absolute_limits(limits: dict, used: dict) -> dict:
    return {"rate": [], "absolute": {
        "maxTotalVolumes": limits["volumes"], "maxTotalSnapshots": limits["snapshots"],
        "maxTotalVolumeGigabytes": limits["gigabytes"], "maxTotalBackups": limits["backups"],
        "maxTotalBackupGigabytes": limits["backup_gigabytes"], "totalVolumesUsed": used["volumes"],
        "totalGigabytesUsed": used["gigabytes"], "totalSnapshotsUsed": used["snapshots"],
        "totalBackupsUsed": used["backups"], "totalBackupGigabytesUsed": used["backup_gigabytes"]}}


# The one volume service of this cloud (Cinder's service_uuid names the cinder-volume service).
SERVICE_UUID = "0b1c6e5e-7a2f-4c36-9d0e-5d1c0f7e9a11"


def services(started: datetime.datetime, version: Version | None, host: str | None = None,
             binary_asked: str | None = None, backends: tuple[str, ...] | list[str] = ("file",)) -> list[dict]:
    """This cloud's scheduler and a volume service per backend (as Cinder runs one per enabled backend);
    ``host`` matches a service's host or, as in Cinder, the host of its host@backend."""
    rows = []
    for binary, where in (("cinder-scheduler", host_name()),
                          *(("cinder-volume", f"{host_name()}@{name}") for name in backends)):
        if host is not None and host not in (where, host_of(where)):
            continue
        if binary_asked is not None and binary != binary_asked:
            continue
        row = {"binary": binary, "host": where, "zone": "nova", "status": "enabled", "state": "up",
               "updated_at": when(started), "disabled_reason": None}
        if at_least(version, "3.7"):
            row["cluster"] = None
        if binary == "cinder-volume":
            row.update({"replication_status": "disabled", "active_backend_id": None, "frozen": False})
        rows.append(row)
    return rows


def pool(name: str, capabilities: dict, detail: bool) -> dict:
    if not detail:
        return {"name": name}
    return {"name": name, "capabilities": {**capabilities, "timestamp": when(capabilities["timestamp"]),
                                           "updated": when(capabilities["timestamp"])}}


def backend_capabilities(capabilities: dict) -> dict:
    """Cinder's answer for a host's capabilities: the backend's, with the properties a type may ask of it."""
    return {"namespace": f"OS::Storage::Capabilities::{capabilities['volume_backend_name']}",
            "vendor_name": capabilities["vendor_name"], "volume_backend_name": capabilities["volume_backend_name"],
            "pool_name": None, "driver_version": capabilities["driver_version"],
            "storage_protocol": capabilities["storage_protocol"], "display_name": None, "description": None,
            "visibility": None, "replication_targets": [],
            "properties": {"thin_provisioning": {"title": "Thin Provisioning", "type": "boolean",
                                                 "description": "Sets thin provisioning."},
                           "qos": {"title": "QoS", "type": "boolean",
                                   "description": "Enables QoS (front-end specs: QEMU throttles the guest's disk)."}}}


def host(binary: str, name: str, started: datetime.datetime) -> dict:
    return {"service": binary, "host_name": name, "zone": "nova", "service-status": "available",
            "service-state": "enabled", "last-update": when(started)}


def host_usage(row: dict, host_name: str) -> dict:
    """One line of a host's usage; Cinder gives every number as a string."""
    return {"host": host_name, "project": row["project"], "volume_count": str(row["volume_count"]),
            "total_volume_gb": str(row["total_volume_gb"]), "snapshot_count": str(row["snapshot_count"]),
            "total_snapshot_gb": str(row["total_snapshot_gb"])}
