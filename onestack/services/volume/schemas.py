"""Request bodies of the Block Storage API as JSON Schemas, version-keyed where a microversion changed
them (from 3.53 Cinder refuses properties it does not know)."""

from __future__ import annotations

from onestack.http.routing import Versioned

NAME = {"type": ["string", "null"], "maxLength": 255}
DESCRIPTION = {"type": ["string", "null"], "maxLength": 255}
UUID = {"type": "string", "format": "uuid"}
UUID_OR_NULL = {"type": ["string", "null"], "format": "uuid"}
SIZE = {"type": ["integer", "string", "null"], "pattern": "^[0-9]+$", "minimum": 1, "maximum": 2147483647}
BOOLEAN = {"type": ["boolean", "string"], "enum": [True, False, "true", "false", "True", "False", "1", "0",
                                                    "yes", "no", "on", "off"]}
BOOLEAN_OR_NULL = {"type": ["boolean", "string", "null"], "enum": [*BOOLEAN["enum"], None]}
METADATA = {"type": "object", "maxProperties": 128,
            "patternProperties": {"^.{1,255}$": {"type": "string", "maxLength": 255}},
            "additionalProperties": False}
METADATA_OR_NULL = {**METADATA, "type": ["object", "null"]}


def _wrapped(key: str, properties: dict, required: tuple[str, ...] = (), *, strict: bool = True,
             optional_body: bool = False) -> dict:
    inner = {"type": "object", "properties": properties, "required": list(required)}
    if strict:
        inner["additionalProperties"] = False
    return {"type": "object", "properties": {key: inner}, "required": [] if optional_body else [key]}


def _by_version(key: str, properties: dict, required: tuple[str, ...] = ()) -> Versioned:
    return Versioned({"3.0": _wrapped(key, properties, required, strict=False),
                      "3.53": _wrapped(key, properties, required)})


VOLUME_CREATE = _by_version("volume", {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION,
    "size": SIZE, "availability_zone": {"type": ["string", "null"], "maxLength": 255},
    "volume_type": {"type": ["string", "null"], "maxLength": 255}, "metadata": METADATA_OR_NULL,
    "snapshot_id": UUID_OR_NULL, "source_volid": UUID_OR_NULL, "consistencygroup_id": UUID_OR_NULL,
    "group_id": UUID_OR_NULL, "backup_id": UUID_OR_NULL, "imageRef": {"type": ["string", "null"]},
    "image_id": {"type": ["string", "null"]}, "multiattach": {"type": ["boolean", "null"]}})
VOLUME_UPDATE = _by_version("volume", {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION,
    "metadata": METADATA})

SNAPSHOT_CREATE = _by_version("snapshot", {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION,
    "volume_id": UUID_OR_NULL, "force": BOOLEAN, "metadata": METADATA_OR_NULL}, ("volume_id",))
SNAPSHOT_UPDATE = _by_version("snapshot", {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION})

METADATA_BODY = {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"]}
META_ITEM = {"type": "object", "properties": {"meta": {**METADATA, "minProperties": 1, "maxProperties": 1}},
             "required": ["meta"]}

# /volumes/{id}/action: one action per body, each with its own arguments.
VOLUME_ACTIONS: dict[str, dict] = {
    "os-extend": {"type": "object", "properties": {"new_size": SIZE}, "required": ["new_size"]},
    "revert": {"type": "object", "properties": {"snapshot_id": {"type": ["string", "null"]}}},
    "os-reset_status": {"type": "object", "properties": {
        "status": {"type": "string", "maxLength": 255}, "attach_status": {"enum": ["attached", "detached"]},
        "migration_status": {"type": ["string", "null"]}}},
    "os-force_delete": {"type": ["object", "null"]},
    "os-set_bootable": {"type": "object", "properties": {"bootable": BOOLEAN}, "required": ["bootable"]},
    "os-update_readonly_flag": {"type": "object", "properties": {"readonly": BOOLEAN}, "required": ["readonly"]},
    "os-reserve": {"type": ["object", "null"]},
    "os-unreserve": {"type": ["object", "null"]},
    "os-attach": {"type": "object", "properties": {
        "instance_uuid": UUID, "host_name": {"type": "string", "maxLength": 255},
        "mountpoint": {"type": "string", "maxLength": 255}, "mode": {"enum": ["rw", "ro"]}},
        "required": ["mountpoint"]},
    "os-begin_detaching": {"type": ["object", "null"]},
    "os-roll_detaching": {"type": ["object", "null"]},
    "os-detach": {"type": ["object", "null"], "properties": {"attachment_id": UUID_OR_NULL}},
    "os-force_detach": {"type": ["object", "null"], "properties": {"attachment_id": UUID_OR_NULL,
                                                                   "connector": {"type": ["object", "null"]}}},
    "os-initialize_connection": {"type": "object", "properties": {"connector": {"type": "object"}},
                                 "required": ["connector"]},
    "os-volume_upload_image": {"type": "object", "required": ["image_name"], "properties": {
        "image_name": {"type": "string", "minLength": 1, "maxLength": 255}, "force": BOOLEAN,
        "disk_format": {"enum": ["raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx"]},
        "container_format": {"enum": ["bare"]}, "visibility": {"enum": ["public", "private", "shared",
                                                                        "community"]},
        "protected": BOOLEAN}},
    "os-set_image_metadata": {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"]},
    "os-unset_image_metadata": {"type": "object", "properties": {"key": {"type": "string", "minLength": 1,
                                                                         "maxLength": 255}},
                                "required": ["key"]},
    "os-show_image_metadata": {"type": ["object", "null"]},
    "os-retype": {"type": "object", "required": ["new_type"], "properties": {
        "new_type": {"type": "string", "minLength": 1, "maxLength": 255},
        "migration_policy": {"enum": ["never", "on-demand", None]}}},
    "os-terminate_connection": {"type": "object", "properties": {"connector": {"type": ["object", "null"]}},
                                "required": ["connector"]},
    "os-reimage": {"type": "object", "properties": {"image_id": UUID, "reimage_reserved": BOOLEAN},
                   "required": ["image_id"], "additionalProperties": False},
    "os-migrate_volume": {"type": "object", "required": ["host"], "additionalProperties": False, "properties": {
        "host": {"type": "string", "minLength": 1, "maxLength": 255}, "force_host_copy": BOOLEAN,
        "lock_volume": BOOLEAN}},
    "os-migrate_volume_completion": {"type": "object", "properties": {"new_volume": UUID, "error": BOOLEAN_OR_NULL},
                                     "required": ["new_volume"]},
}
SNAPSHOT_ACTIONS: dict[str, dict] = {
    "os-reset_status": {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]},
    "os-force_delete": {"type": ["object", "null"]},
    "os-update_snapshot_status": {"type": "object", "properties": {
        "status": {"type": "string", "maxLength": 32}, "progress": {"type": "string", "maxLength": 8}},
        "required": ["status"]},
}


def one_action(actions: dict[str, dict]) -> dict:
    """A body naming exactly one of ``actions``, its argument checked by that action's schema."""
    return {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": actions,
            "additionalProperties": False}


TYPE_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s*$).+"}
EXTRA_SPECS = {"type": "object", "patternProperties": {"^[\\w\\.\\-:/ ]{1,255}$": {
    "type": ["string", "integer", "boolean", "number"]}}, "additionalProperties": False}
TYPE_CREATE = {"type": "object", "required": ["volume_type"], "properties": {"volume_type": {
    "type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": TYPE_NAME, "description": DESCRIPTION, "extra_specs": EXTRA_SPECS,
        "os-volume-type-access:is_public": BOOLEAN, "is_public": BOOLEAN}}}}
TYPE_UPDATE = {"type": "object", "required": ["volume_type"], "properties": {"volume_type": {
    "type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
        "name": TYPE_NAME, "description": DESCRIPTION, "is_public": BOOLEAN}}}}
EXTRA_SPECS_BODY = {"type": "object", "required": ["extra_specs"], "properties": {"extra_specs": EXTRA_SPECS}}
EXTRA_SPEC_ITEM = {**EXTRA_SPECS, "minProperties": 1, "maxProperties": 1}
TYPE_ACCESS = one_action({
    action: {"type": "object", "required": ["project"], "properties": {"project": {"type": "string",
                                                                                "minLength": 1,
                                                                                "maxLength": 255}}}
    for action in ("addProjectAccess", "removeProjectAccess")})
DEFAULT_TYPE = {"type": "object", "required": ["default_type"], "properties": {"default_type": {
    "type": "object", "required": ["volume_type"], "additionalProperties": False,
    "properties": {"volume_type": {"type": "string", "minLength": 1, "maxLength": 255}}}}}

QUOTA_VALUE = {"type": ["integer", "string"], "pattern": "^-?[0-9]+$"}
QUOTA_SET = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "additionalProperties": QUOTA_VALUE}}}
QUOTA_CLASS_SET = {"type": "object", "required": ["quota_class_set"], "properties": {"quota_class_set": {
    "type": "object", "additionalProperties": QUOTA_VALUE}}}

CONNECTOR = {"type": ["object", "null"]}
ATTACHMENT_CREATE = {"type": "object", "required": ["attachment"], "properties": {"attachment": {
    "type": "object", "required": ["volume_uuid"], "properties": {
        "volume_uuid": UUID, "instance_uuid": UUID_OR_NULL, "connector": CONNECTOR,
        "mode": {"enum": ["rw", "ro"]}}}}}
ATTACHMENT_UPDATE = {"type": "object", "required": ["attachment"], "properties": {"attachment": {
    "type": "object", "required": ["connector"], "properties": {"connector": {"type": "object"}}}}}
ATTACHMENT_ACTION = one_action({"os-complete": {"type": ["object", "null"]}})

CONTAINER = {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": "^[^/]+$"}
BACKUP_CREATE = _by_version("backup", {
    "volume_id": UUID, "container": CONTAINER, "name": NAME, "description": DESCRIPTION,
    "incremental": BOOLEAN_OR_NULL, "force": BOOLEAN_OR_NULL, "snapshot_id": UUID_OR_NULL, "metadata": METADATA_OR_NULL,
    "availability_zone": {"type": ["string", "null"], "maxLength": 255}}, ("volume_id",))
BACKUP_UPDATE = {"type": "object", "required": ["backup"], "properties": {"backup": {
    "type": "object", "additionalProperties": False, "properties": {
        "name": NAME, "description": DESCRIPTION, "metadata": METADATA_OR_NULL}}}}
BACKUP_RESTORE = {"type": "object", "required": ["restore"], "properties": {"restore": {
    "type": ["object", "null"], "additionalProperties": False, "properties": {
        "volume_id": UUID_OR_NULL, "name": NAME}}}}
BACKUP_ACTIONS = one_action({
    "os-reset_status": {"type": "object", "properties": {"status": {"type": "string", "maxLength": 255}},
                        "required": ["status"]},
    "os-force_delete": {"type": ["object", "null"]}})
BACKUP_IMPORT = {"type": "object", "required": ["backup-record"], "properties": {"backup-record": {
    "type": "object", "required": ["backup_service", "backup_url"], "properties": {
        "backup_service": {"type": "string", "minLength": 1, "maxLength": 255},
        "backup_url": {"type": "string", "minLength": 1, "maxLength": 65536}}}}}

TRANSFER_CREATE = {"type": "object", "required": ["transfer"], "properties": {"transfer": {
    "type": "object", "required": ["volume_id"], "additionalProperties": False, "properties": {
        "volume_id": UUID, "name": NAME, "no_snapshots": BOOLEAN}}}}
TRANSFER_ACCEPT = {"type": "object", "required": ["accept"], "properties": {"accept": {
    "type": "object", "required": ["auth_key"], "properties": {
        "auth_key": {"type": "string", "minLength": 1, "maxLength": 255}}}}}

QOS_VALUE = {"type": ["string", "integer", "number"]}
QOS_KEY = "^[\\w\\.\\-:]{1,255}$"
QOS_CREATE = {"type": "object", "required": ["qos_specs"], "properties": {"qos_specs": {
    "type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^(?!\\s*$).+"},
        "consumer": {"type": "string"}},
    "patternProperties": {QOS_KEY: QOS_VALUE}, "additionalProperties": False}}}
QOS_SET = {"type": "object", "required": ["qos_specs"], "properties": {"qos_specs": {
    "type": "object", "minProperties": 1, "properties": {"consumer": {"type": "string"}},
    "patternProperties": {QOS_KEY: QOS_VALUE}, "additionalProperties": False}}}
QOS_UNSET = {"type": "object", "required": ["keys"], "properties": {"keys": {
    "type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "maxLength": 255}}}}

# -- volume types' encryption -------------------------------------------------------------------------------
_ENCRYPTION = {
    "provider": {"type": "string", "minLength": 1, "maxLength": 255},
    "cipher": {"type": ["string", "null"], "maxLength": 255},
    "key_size": {"type": ["integer", "string", "null"], "pattern": "^[0-9]+$", "minimum": 0},
    "control_location": {"type": "string", "enum": ["front-end", "back-end"]},
}
ENCRYPTION_CREATE = {"type": "object", "required": ["encryption"], "additionalProperties": False, "properties": {
    "encryption": {"type": "object", "required": ["provider"], "additionalProperties": False,
                   "properties": _ENCRYPTION}}}
ENCRYPTION_UPDATE = {"type": "object", "required": ["encryption"], "additionalProperties": False, "properties": {
    "encryption": {"type": "object", "additionalProperties": False, "properties": _ENCRYPTION}}}

# -- generic volume groups (3.11-3.20) ----------------------------------------------------------------------
GROUP_TYPE_CREATE = {"type": "object", "required": ["group_type"], "properties": {"group_type": {
    "type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": TYPE_NAME, "description": DESCRIPTION, "is_public": BOOLEAN, "group_specs": EXTRA_SPECS}}}}
GROUP_TYPE_UPDATE = {"type": "object", "required": ["group_type"], "properties": {"group_type": {
    "type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
        "name": TYPE_NAME, "description": DESCRIPTION, "is_public": BOOLEAN}}}}
GROUP_SPECS_BODY = {"type": "object", "required": ["group_specs"], "properties": {"group_specs": EXTRA_SPECS}}
GROUP_SPEC_ITEM = EXTRA_SPEC_ITEM
GROUP_CREATE = {"type": "object", "required": ["group"], "properties": {"group": {
    "type": "object", "required": ["group_type", "volume_types"], "additionalProperties": False, "properties": {
        "name": NAME, "description": DESCRIPTION, "availability_zone": {"type": ["string", "null"], "maxLength": 255},
        "group_type": {"type": "string", "minLength": 1, "maxLength": 255},
        "volume_types": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1,
                                                                    "maxLength": 255}}}}}}
VOLUME_IDS = {"type": ["string", "null"], "pattern": "^[0-9a-fA-F, -]*$"}
GROUP_UPDATE = {"type": "object", "required": ["group"], "properties": {"group": {
    "type": "object", "additionalProperties": False, "properties": {
        "name": NAME, "description": DESCRIPTION, "add_volumes": VOLUME_IDS, "remove_volumes": VOLUME_IDS}}}}
RESET_STATUS = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string",
                                                                                   "minLength": 1}}}
GROUP_ACTIONS = one_action({
    "delete": {"type": ["object", "null"], "properties": {"delete-volumes": BOOLEAN}},
    "reset_status": RESET_STATUS})
GROUP_FROM_SOURCE = {"type": "object", "required": ["create-from-src"], "additionalProperties": False,
                     "properties": {"create-from-src": {
                         "type": "object", "additionalProperties": False, "properties": {
                             "name": NAME, "description": DESCRIPTION, "group_snapshot_id": UUID_OR_NULL,
                             "source_group_id": UUID_OR_NULL}}}}
GROUP_SNAPSHOT_CREATE = {"type": "object", "required": ["group_snapshot"], "properties": {"group_snapshot": {
    "type": "object", "required": ["group_id"], "additionalProperties": False, "properties": {
        "group_id": UUID, "name": NAME, "description": DESCRIPTION}}}}
GROUP_SNAPSHOT_ACTIONS = one_action({"reset_status": RESET_STATUS})
