"""The Block Storage API's microversions: the range onestack serves and what each version it honours
changes (Cinder's ``rest_api_version_history``).  A version missing here behaves as the one before it;
what Cinder added there and onestack does not provide is listed in docs/volume.md."""

from __future__ import annotations

from onestack.http.microversion import Microversions, Version

HISTORY: dict[str, str] = {
    "3.0": "The v3 API: volumes with metadata and actions, snapshots, volume types with extra specs and "
           "access, quota sets, limits, availability zones, services.",
    "3.1": "os-volume_upload_image takes the image's visibility and protected flag.",
    "3.2": "The volume list filters on bootable as a boolean.",
    "3.3": "User messages (/messages): what went wrong with a volume, snapshot or backup task.",
    "3.7": "Services show their cluster (none here).",
    "3.9": "Backups may be renamed and described (PUT /backups/{id}).",
    "3.11": "Group types with group specs (/group_types).",
    "3.12": "/volumes/summary counts the volumes and their gigabytes.",
    "3.13": "Generic volume groups (/groups): create, list, show, update (add and remove volumes), delete "
            "with their volumes; volumes are created in a group (group_id).",
    "3.14": "Group snapshots (/group_snapshots); a group is created from a group snapshot or another group; "
            "snapshots show group_snapshot_id, groups their source.",
    "3.18": "Admins see a backup's project (os-backup-project-attr:project_id).",
    "3.19": "Admins reset a group snapshot's status.",
    "3.20": "Admins reset a group's status.",
    "3.21": "Admins see a volume's provider_id.",
    "3.22": "The snapshot list filters on metadata.",
    "3.23": "A volume delete may force (force=true).",
    "3.25": "Groups list their volumes with list_volume=true.",
    "3.27": "The attachments API (/attachments).",
    "3.30": "Snapshots sort by name.",
    "3.33": "/resource_filters lists the filters each list takes.",
    "3.34": "Lists take like filters: name~=part.",
    "3.36": "/volumes/summary shows the metadata values in use.",
    "3.38": "Groups show replication_status (disabled here).",
    "3.39": "An admin's /limits may name another project (project_id=).",
    "3.40": "A volume is reverted to its latest snapshot (the revert action).",
    "3.41": "Snapshots show user_id.",
    "3.43": "Backups carry metadata.",
    "3.44": "Attachments complete (os-complete).",
    "3.45": "Volume, snapshot and backup lists count the matches with with_count=true.",
    "3.47": "A volume may be created from a backup (backup_id).",
    "3.48": "Volumes show shared_targets and service_uuid.",
    "3.50": "Volumes may be created multiattach through their type.",
    "3.51": "A backup is created in an availability zone.",
    "3.53": "Request bodies naming a property the API does not know are refused (400).",
    "3.54": "An attachment is created with a mode (rw or ro).",
    "3.55": "Volume transfers at /volume-transfers, with no_snapshots.",
    "3.56": "Backups show user_id.",
    "3.57": "Transfers show source_project_id, destination_project_id and accepted.",
    "3.61": "Admins see a volume's cluster_name (none here).",
    "3.62": "Projects have their own default volume type (/default-types).",
    "3.63": "Volumes show volume_type_id.",
    "3.64": "Volumes show encryption_key_id.",
    "3.65": "Volumes and snapshots show consumes_quota.",
    "3.66": "In-use volumes are snapshotted without force; force=false is no longer refused for them.",
    "3.67": "Every path may leave out the project id (/v3/volumes as well as /v3/{project_id}/volumes).",
    "3.68": "A volume is re-imaged with another image (os-reimage), reserved ones too with reimage_reserved.",
}

MICROVERSIONS = Microversions("volume", Version(3, 0), Version.parse(max(HISTORY, key=Version.parse)))
