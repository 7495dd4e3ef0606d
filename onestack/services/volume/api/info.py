"""What this Block Storage offers, as clients ask: /v3/{project_id}/extensions (Cinder's extension aliases,
only those whose API is served) and /resource_filters (3.33: the filters each list takes)."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call
from onestack.services.volume.api.paths import v3
from onestack.services.volume.service import attachments, backups, groups, messages, snapshots, volumes

UPDATED = "2024-09-01T00:00:00+00:00"
# alias -> (name, description)
EXTENSIONS = {
    "os-admin-actions": ("AdminActions", "Enable admin actions."),
    "capabilities": ("Capabilities", "Capabilities support."),
    "os-hosts": ("Hosts", "Admin-only host administration."),
    "scheduler-stats": ("Scheduler_stats", "Scheduler stats support."),
    "os-availability-zone": ("AvailabilityZones", "Describe Availability Zones."),
    "backups": ("Backups", "Backups support."),
    "os-backup-project-attr": ("BackupProjectAttribute", "Expose project attribute for backups."),
    "os-extended-snapshot-attributes": ("ExtendedSnapshotAttributes", "Extended SnapshotAttributes support."),
    "qos-specs": ("Qos_specs_manage", "QoS specs support."),
    "os-quota-class-sets": ("QuotaClasses", "Quota classes management support."),
    "os-quota-sets": ("Quotas", "Quota management support."),
    "os-services": ("Services", "Services support."),
    "os-snapshot-actions": ("SnapshotActions", "Enable snapshot manager actions."),
    "os-types-extra-specs": ("TypesExtraSpecs", "Type extra specs support."),
    "os-types-manage": ("TypesManage", "Types manage support."),
    "os-used-limits": ("UsedLimits", "Provide data on limited resources that are being used."),
    "os-volume-actions": ("VolumeActions", "Enable volume actions."),
    "os-vol-host-attr": ("VolumeHostAttribute", "Expose host as an attribute of a volume."),
    "os-vol-image-meta": ("VolumeImageMetadata", "Show image metadata associated with the volume."),
    "os-vol-mig-status-attr": ("VolumeMigStatusAttribute", "Expose migration_status as an attribute of a volume."),
    "os-vol-tenant-attr": ("VolumeTenantAttribute", "Expose the internal project_id as an attribute of a volume."),
    "os-volume-transfer": ("VolumeTransfer", "Volume transfer management support."),
    "os-volume-type-access": ("VolumeTypeAccess", "Volume type access support."),
    "encryption": ("VolumeTypeEncryption", "Encryption support for volume types."),
}
# What each list filters on, from the lists themselves (metadata where the rows have it).
RESOURCE_FILTERS = {
    "volume": [*volumes.FILTERS, "metadata", "volume_type"],
    "snapshot": [*snapshots.FILTERS, "metadata"],
    "backup": list(backups.FILTERS),
    "attachment": [*attachments.FILTERS],
    "message": list(messages.FILTERS),
    "volume_type": ["is_public"],
    "group": list(groups.FILTERS),
    "group_snapshot": list(groups.SNAPSHOT_FILTERS),
}


def extensions(call: Call) -> dict:
    return {"extensions": [{"alias": alias, "name": name, "description": description, "links": [],
                            "updated": UPDATED} for alias, (name, description) in sorted(EXTENSIONS.items())]}


def resource_filters(call: Call) -> dict:
    if not call.version.at_least("3.33"):
        raise NotFound("/resource_filters needs microversion 3.33 or later.")
    wanted = call.query.get("resource")
    return {"resource_filters": [{"resource": resource, "filters": sorted(filters)}
                                 for resource, filters in RESOURCE_FILTERS.items() if wanted in (None, resource)]}


ROUTES = [*v3("/extensions", "GET", extensions), *v3("/resource_filters", "GET", resource_filters)]
