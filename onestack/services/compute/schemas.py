"""Request bodies as Nova's JSON schemas accept them, and 400s worded as Nova words them.

Routes name their schema (``route(..., schema=...)``); a ``Versioned`` map holds the schema each microversion
range accepts.  ``GONE`` past a route's last microversion leaves the body to the handler, which answers 404.
"""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.jsonbody import first_error
from onestack.http.microversion import Version, at_least, pick
from onestack.http.routing import Versioned
from onestack.services.compute.models.quota_resources import (
    MAX_LIMIT,
    quota_class_resources,
    quota_set_resources,
)


def check(body, schema: dict) -> None:
    """Nova's validation error: the offending field (last step of its path), its value and what is wrong."""
    error = first_error(body, schema)
    if error is None:
        return
    if error.path:
        raise BadRequest(f"Invalid input for field/attribute {error.path[-1]}. Value: {error.instance}. "
                         f"{error.message}")
    raise BadRequest(error.message)


# Any body at all: what a route checks past the microversion that removed it (its handler answers 404).
GONE: dict = {}

# Nova's parameter_types.boolean: what ``strutils.bool_from_string`` reads, as an enum.
TRUE_WORDS = ("True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
FALSE_WORDS = ("False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
BOOLEAN = {"enum": [True, *TRUE_WORDS, False, *FALSE_WORDS]}


def as_bool(value) -> bool:
    return value is True or value in TRUE_WORDS


# Printable characters, no whitespace at either end (Nova's 'name' format).
NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"}


def _integer(minimum: int) -> dict:
    """Nova's flavor_param_*: an integer, or a string of digits (the minimum is checked after conversion)."""
    return {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minLength": 1, "minimum": minimum,
            "maximum": MAX_LIMIT}


def _object(key: str, properties: dict, required: list[str]) -> dict:
    """``{key: {...}}`` with nothing else in either object."""
    return {"type": "object", "required": [key], "additionalProperties": False,
            "properties": {key: {"type": "object", "properties": properties, "required": required,
                                 "additionalProperties": False}}}


# -- flavors ---------------------------------------------------------------------------
FLAVOR_DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 65535}
_FLAVOR = {
    "name": NAME,
    "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255,
           "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
    "ram": _integer(1), "vcpus": _integer(1), "disk": _integer(0),
    "OS-FLV-EXT-DATA:ephemeral": _integer(0), "swap": _integer(0),
    "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$", "minimum": 0,
                    "exclusiveMinimum": True, "maximum": 3.40282e38},
    "os-flavor-access:is_public": BOOLEAN,
}
FLAVOR_REQUIRED = ["name", "ram", "vcpus", "disk"]
FLAVOR_CREATE = Versioned({
    "2.1": _object("flavor", _FLAVOR, FLAVOR_REQUIRED),
    "2.55": _object("flavor", {**_FLAVOR, "description": FLAVOR_DESCRIPTION}, FLAVOR_REQUIRED)})
# PUT /flavors/{id} came with descriptions (2.55)
FLAVOR_UPDATE = Versioned({"2.55": _object("flavor", {"description": FLAVOR_DESCRIPTION}, ["description"])})


EXTRA_SPECS = {"type": "object", "additionalProperties": False, "patternProperties": {
    "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": ["string", "number", "boolean"], "minLength": 0, "maxLength": 255}}}
EXTRA_SPECS_CREATE = {"type": "object", "required": ["extra_specs"], "additionalProperties": False,
                      "properties": {"extra_specs": EXTRA_SPECS}}
EXTRA_SPEC_UPDATE = {**EXTRA_SPECS, "minProperties": 1, "maxProperties": 1}

_TENANT = {"type": "object", "required": ["tenant"], "additionalProperties": False,
           "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255}}}
FLAVOR_ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1,
                 "properties": {"addTenantAccess": _TENANT, "removeTenantAccess": _TENANT}}

# -- keypairs --------------------------------------------------------------------------
KEYPAIR_NAME = {"allOf": [NAME, {"pattern": "^[a-zA-Z0-9 _-]+$"}]}
KEYPAIR_NAME_292 = {"allOf": [NAME, {"pattern": r"^[a-zA-Z0-9 _@.-]+$"}]}
_KEYPAIR = {"name": KEYPAIR_NAME, "public_key": {"type": "string"}}
_KEYPAIR_22 = {**_KEYPAIR, "type": {"type": "string", "enum": ["ssh", "x509"]}}
_KEYPAIR_210 = {**_KEYPAIR_22, "user_id": {"type": "string", "minLength": 1, "maxLength": 255}}
KEYPAIR_CREATE = Versioned({
    "2.1": _object("keypair", _KEYPAIR, ["name"]),
    "2.2": _object("keypair", _KEYPAIR_22, ["name"]),
    "2.10": _object("keypair", _KEYPAIR_210, ["name"]),
    # 2.92: Nova no longer generates keys (import only); names may hold '@' and '.'.
    "2.92": _object("keypair", {**_KEYPAIR_210, "name": KEYPAIR_NAME_292}, ["name", "public_key"])})


# -- quotas ----------------------------------------------------------------------------
QUOTA_LIMIT = {"type": ["integer", "string"], "pattern": "^-?[0-9]+$", "minimum": -1, "maximum": MAX_LIMIT}
# Microversions at which the accepted resources change (see quota_resources).
_QUOTA_SET_STEPS = ("2.1", "2.36", "2.57")
_QUOTA_CLASS_STEPS = ("2.1", "2.50", "2.57")


def _limits_body(key: str, resources: tuple[str, ...], extra: dict) -> dict:
    return _object(key, {**dict.fromkeys(resources, QUOTA_LIMIT), **extra}, [])


QUOTA_SET_UPDATE = Versioned({step: _limits_body("quota_set", quota_set_resources(Version.parse(step)),
                                                 {"force": BOOLEAN}) for step in _QUOTA_SET_STEPS})
QUOTA_CLASS_UPDATE = Versioned({step: _limits_body("quota_class_set", quota_class_resources(Version.parse(step)), {})
                                for step in _QUOTA_CLASS_STEPS})


# -- servers --------------------------------------------------------------------------------
METADATA = {"type": "object", "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255}},
            "additionalProperties": False}
UUID = {"type": "string", "format": "uuid"}

_ACCESS_IPS = {"accessIPv4": {"type": "string", "format": "ipv4"}, "accessIPv6": {"type": "string", "format": "ipv6"},
               "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]}}
_NETWORK = {"uuid": {"type": "string"}, "port": {"type": ["string", "null"]}, "fixed_ip": {"type": "string"}}
# One server uuid or a list of them (Nova's different_host and same_host; Nova checks a lone same_host
# string for no shape, and one naming no server leaves no host).
_SERVER_UUIDS = {"type": ["string", "array"], "items": UUID}
# Nova's os:scheduler_hints: the hints its filters read are checked for shape, and any other key is taken
# (a scheduler may have filters of its own).  Which ones onestack's scheduler reads: docs/services/compute.md.
_HINTS = {"type": "object", "additionalProperties": True, "properties": {
    "group": UUID, "different_host": {**_SERVER_UUIDS, "format": "uuid"}, "same_host": _SERVER_UUIDS,
    "query": {"type": ["string", "object"]}, "target_cell": NAME,
    "different_cell": {"type": ["string", "array"], "items": {"type": "string"}},
    "build_near_host_ip": {"type": "string", "oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    "cidr": {"type": "string", "pattern": "^/[0-9a-f.:]+$"}}}
TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}
# One block device mapping (v2) as Nova takes it; what it means is checked by the boot's volumes.
_BLOCK_DEVICE = {"type": "object", "additionalProperties": False, "properties": {
    "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
    "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "uuid": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9._-]*$"},
    "device_name": {"type": ["string", "null"], "maxLength": 255, "pattern": "^[a-zA-Z0-9._/-]*$"},
    "volume_size": {"type": ["integer", "string", "null"], "pattern": "^[0-9]+$", "minimum": 1},
    "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
    "delete_on_termination": {"type": ["boolean", "string"], "enum": [True, False, "True", "False", "true",
                                                                       "false", "1", "0"]},
    "guest_format": {"type": ["string", "null"], "maxLength": 255}, "disk_bus": {"type": ["string", "null"]},
    "device_type": {"type": ["string", "null"]}, "no_device": {}, "connection_info": {"type": ["string", "null"]},
    "tag": TAG, "volume_type": {"type": ["string", "null"], "maxLength": 255}}}
_SERVER = {
    "name": NAME,
    "imageRef": {"type": "string", "maxLength": 255},
    "flavorRef": {"type": ["string", "integer"], "minLength": 1},
    "adminPass": {"type": "string"},
    "metadata": METADATA,
    "networks": {"type": "array", "items": {"type": "object", "properties": _NETWORK, "additionalProperties": False}},
    "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
    "user_data": {"type": "string", "maxLength": 65535},
    "security_groups": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255}}, "required": ["name"],
        "additionalProperties": False}},
    "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
    "config_drive": {"type": ["boolean", "string"]},
    "min_count": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
    "max_count": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
    "return_reservation_id": {"type": ["boolean", "string"]},
    **_ACCESS_IPS,
    "block_device_mapping_v2": {"type": "array", "items": _BLOCK_DEVICE},
    "block_device_mapping": {"type": "array"},
    "personality": {"type": "array"},
}
_REBUILD = {"imageRef": {"type": "string", "minLength": 1, "maxLength": 255}, "name": NAME,
            "adminPass": {"type": "string"}, "metadata": METADATA, "preserve_ephemeral": {"type": "boolean"},
            **_ACCESS_IPS, "personality": {"type": "array"}}


def _server_body(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": {
        "server": {"type": "object", "properties": properties, "required": required, "additionalProperties": False},
        "os:scheduler_hints": _HINTS, "OS-SCH-HNT:scheduler_hints": _HINTS},
        "required": ["server"], "additionalProperties": False}


# What later microversions accept beyond 2.1, each a small change of the request's fields.
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 255,
               "pattern": r"^[^\x00-\x1f\x7f]*$"}
TRUSTED_CERTS = {"type": ["array", "null"], "minItems": 1, "maxItems": 50, "uniqueItems": True,
                 "items": {"type": "string", "minLength": 1}}
HOSTNAME = {"type": "string", "minLength": 2, "maxLength": 63, "pattern": "^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$"}
# 2.94: a fully qualified name is a hostname too
HOSTNAME_FQDN = {"type": "string", "minLength": 2, "maxLength": 255,
                 "pattern": r"^[a-zA-Z0-9]+[a-zA-Z0-9-.]*[a-zA-Z0-9]+$"}
USER_DATA = {"type": ["string", "null"], "maxLength": 65535}


def _with(**fields):
    return lambda props: props.update(fields)


def _without(*fields):
    return lambda props: [props.pop(f) for f in fields]


def _tagged_networks(props: dict) -> None:
    """2.32 (and again from 2.42): a requested network may carry a device tag."""
    props["networks"] = {"type": "array", "items": {"type": "object", "properties": {**_NETWORK, "tag": TAG},
                                                     "additionalProperties": False}}


def _networks_required(props: dict) -> None:
    """2.37: networks is required, a list or 'auto' / 'none'."""
    props["networks"] = {"oneOf": [props["networks"], {"type": "string", "enum": ["auto", "none"]}]}


# (microversion, change to the fields), in order; the 2.37 'networks' requirement is in SERVER_CREATE
SERVER_CREATE_DELTAS = (
    ("2.19", _with(description=DESCRIPTION)),
    ("2.32", _tagged_networks),
    ("2.33", _with(networks=_SERVER["networks"])),
    ("2.37", _networks_required),
    ("2.42", lambda props: (_tagged_networks(props), _networks_required(props))),
    ("2.52", _with(tags={"type": "array", "items": TAG, "maxItems": 50})),
    ("2.57", _without("personality")),
    ("2.63", _with(trusted_image_certificates=TRUSTED_CERTS)),
    ("2.74", _with(host={"type": "string", "minLength": 1, "maxLength": 255},
                   hypervisor_hostname={"type": "string", "minLength": 1, "maxLength": 255})),
    ("2.90", _with(hostname=HOSTNAME)),
    ("2.94", _with(hostname=HOSTNAME_FQDN)),
)
SERVER_UPDATE_DELTAS = (
    ("2.19", _with(description=DESCRIPTION)),
    ("2.90", _with(hostname=HOSTNAME)),
    ("2.94", _with(hostname=HOSTNAME_FQDN)),
)
REBUILD_DELTAS = (
    ("2.19", _with(description=DESCRIPTION)),
    ("2.54", _with(key_name={"type": ["string", "null"], "minLength": 1, "maxLength": 255})),
    ("2.57", lambda props: (props.pop("personality"), props.update(user_data=USER_DATA))),
    ("2.63", _with(trusted_image_certificates=TRUSTED_CERTS)),
    ("2.90", _with(hostname=HOSTNAME)),
    ("2.94", _with(hostname=HOSTNAME_FQDN)),
)


def _versions(base: dict, deltas: tuple, build) -> Versioned:
    """The schema at 2.1 and after each delta, built once."""
    steps, props = {"2.1": build(base, "2.1")}, dict(base)
    for since, change in deltas:
        props = dict(props)
        change(props)
        steps[since] = build(props, since)
    return Versioned(steps)


SERVER_CREATE = _versions(_SERVER, SERVER_CREATE_DELTAS, lambda props, since: _server_body(
    props, ["name", "flavorRef", "networks"] if at_least(Version.parse(since), "2.37") else ["name", "flavorRef"]))
SERVER_UPDATE = _versions({"name": NAME, **_ACCESS_IPS}, SERVER_UPDATE_DELTAS, lambda props, since: {
    "type": "object", "properties": {"server": {"type": "object", "properties": props, "additionalProperties": False}},
    "required": ["server"], "additionalProperties": False})
REBUILD = _versions(_REBUILD, REBUILD_DELTAS, lambda props, since: _object("rebuild", props, ["imageRef"]))


# Nova's os-volumes and os-snapshots proxies (to 2.35)
_PROXY_TEXT = {"type": "string"}
VOLUME_CREATE = Versioned({"2.1": _object("volume", {
    "volume_type": _PROXY_TEXT, "metadata": METADATA, "snapshot_id": _PROXY_TEXT,
    "size": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
    "availability_zone": _PROXY_TEXT, "display_name": _PROXY_TEXT, "display_description": _PROXY_TEXT}, ["size"]),
    "2.36": GONE})
SNAPSHOT_CREATE = Versioned({"2.1": _object("snapshot", {
    "volume_id": _PROXY_TEXT, "force": BOOLEAN, "display_name": _PROXY_TEXT,
    "display_description": _PROXY_TEXT}, ["volume_id"]), "2.36": GONE})

metadata_all = {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"],
                "additionalProperties": False}
metadata_item = {"type": "object", "properties": {"meta": {**METADATA, "minProperties": 1, "maxProperties": 1}},
                 "required": ["meta"], "additionalProperties": False}

server_group_create = {
    "type": "object",
    "properties": {"server_group": {"type": "object", "properties": {
        "name": NAME,
        "policies": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
            "enum": ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]}},
        "policy": {"enum": ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]},
        "rules": {"type": "object", "properties": {"max_server_per_host": {"type": "integer", "minimum": 1}},
                  "additionalProperties": False}},
        "required": ["name"], "additionalProperties": False}},
    "required": ["server_group"],
    "additionalProperties": False,
}


# -- server actions (the whole body, {action: arguments}) -------------------------------------------------
_FLAVOR_REF = {"type": ["string", "integer"], "minLength": 1}
# Nova takes null or an (ignored) object for actions without arguments; Tempest sends {}
_NONE = {"type": ["null", "object"]}
ACTIONS = {
    "resize": _object("resize", {"flavorRef": _FLAVOR_REF, "OS-DCF:diskConfig": {"type": "string",
                                                                                 "enum": ["AUTO", "MANUAL"]}},
                      ["flavorRef"]),
    "confirmResize": {"type": "object", "properties": {"confirmResize": _NONE}},
    "revertResize": {"type": "object", "properties": {"revertResize": _NONE}},
    "createImage": _object("createImage", {"name": NAME, "metadata": METADATA}, ["name"]),
    "createBackup": _object("createBackup", {
        "name": NAME, "backup_type": {"type": "string"}, "metadata": METADATA,
        "rotation": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0}},
        ["name", "backup_type", "rotation"]),
    "changePassword": _object("changePassword", {"adminPass": {"type": "string"}}, ["adminPass"]),
    "os-resetState": _object("os-resetState", {"state": {"type": "string", "enum": ["active", "error"]}},
                             ["state"]),
    "shelve": {"type": "object", "properties": {"shelve": _NONE}},
    "shelveOffload": {"type": "object", "properties": {"shelveOffload": _NONE}},
    "rescue": {"type": "object", "properties": {"rescue": {"type": ["object", "null"], "properties": {
        "adminPass": {"type": "string"}, "rescue_image_ref": {"type": "string", "format": "uuid"}},
        "additionalProperties": False}}},
    "unrescue": {"type": "object", "properties": {"unrescue": _NONE}},
}

# Remote consoles: the 2.6 body, and the actions it replaced (until 2.5), each with the types it takes.
REMOTE_CONSOLE = _object("remote_console", {
    "protocol": {"type": "string", "enum": ["vnc", "spice", "rdp", "serial", "mks"]},
    "type": {"type": "string", "enum": ["novnc", "xvpvnc", "rdp-html5", "spice-html5", "spice-direct", "serial",
                                        "webmks"]}}, ["protocol", "type"])
CONSOLE_ACTIONS = {  # action -> (protocol, the types it takes)
    "os-getVNCConsole": ("vnc", ["novnc", "xvpvnc"]), "os-getSPICEConsole": ("spice", ["spice-html5"]),
    "os-getRDPConsole": ("rdp", ["rdp-html5"]), "os-getSerialConsole": ("serial", ["serial"]),
}
for _action, (_protocol, _types) in CONSOLE_ACTIONS.items():
    ACTIONS[_action] = _object(_action, {"type": {"type": "string", "enum": _types}}, ["type"])


# -- interfaces (os-interface) --------------------------------------------------------------------------
_INTERFACE = {"port_id": {"type": ["string", "null"], "format": "uuid"}, "net_id": {"type": ["string", "null"],
                                                                                    "format": "uuid"},
              "fixed_ips": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                  "type": "object", "properties": {"ip_address": {"type": "string", "format": "ip-address"}},
                  "required": ["ip_address"], "additionalProperties": False}}}
INTERFACE_ATTACH = Versioned({
    "2.1": {"type": "object", "properties": {"interfaceAttachment": {
        "type": "object", "properties": _INTERFACE, "additionalProperties": False}}, "additionalProperties": False},
    # 2.49: the attached device may carry a tag
    "2.49": {"type": "object", "properties": {"interfaceAttachment": {
        "type": "object", "properties": {**_INTERFACE, "tag": TAG}, "additionalProperties": False}},
        "additionalProperties": False}})


# -- volume attachments (os-volume_attachments) ------------------------------------------------------------
# Nova's pattern for a device name; the name is a hint the drivers do not follow (as libvirt's does not)
_DEVICE = {"type": ["string", "null"], "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}
_VOLUME_ATTACH = {"volumeId": UUID, "device": _DEVICE}
VOLUME_ATTACH = Versioned({
    "2.1": _object("volumeAttachment", _VOLUME_ATTACH, ["volumeId"]),
    # 2.49: a device tag
    "2.49": _object("volumeAttachment", {**_VOLUME_ATTACH, "tag": TAG}, ["volumeId"]),
    # 2.79: whether deleting the server deletes the volume
    "2.79": _object("volumeAttachment", {**_VOLUME_ATTACH, "tag": TAG, "delete_on_termination": {"type": "boolean"}},
                    ["volumeId"])})
VOLUME_ATTACHMENT_UPDATE = Versioned({
    "2.1": _object("volumeAttachment", _VOLUME_ATTACH, ["volumeId"]),
    # 2.85: the whole attachment may be given back, with delete_on_termination changed
    "2.85": _object("volumeAttachment", {**_VOLUME_ATTACH, "id": UUID, "serverId": UUID, "tag": TAG,
                                         "delete_on_termination": {"type": "boolean"}}, ["volumeId"]),
    # 2.89: and the fields 2.89 shows
    "2.89": _object("volumeAttachment", {**_VOLUME_ATTACH, "id": UUID, "serverId": UUID, "tag": TAG,
                                         "delete_on_termination": {"type": "boolean"}, "attachment_id": UUID,
                                         "bdm_uuid": UUID}, ["volumeId"])})


# -- unshelve: where an offloaded server goes ------------------------------------------------------------
_ZONE = {"type": "string", "minLength": 1, "maxLength": 255}
UNSHELVE = Versioned({
    "2.1": {"type": "object", "properties": {"unshelve": _NONE}},
    # 2.77: an availability zone
    "2.77": {"type": "object", "properties": {"unshelve": {"type": ["null", "object"], "properties": {
        "availability_zone": _ZONE}, "additionalProperties": False}}},
    # 2.91: or a host (admins), and a null zone unpins the server
    "2.91": {"type": "object", "properties": {"unshelve": {"type": ["null", "object"], "properties": {
        "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
        "host": {"type": "string", "minLength": 1, "maxLength": 255}}, "additionalProperties": False}}}})


# -- moving servers: cold and live migration, evacuation (admins) ----------------------------------------------
_HOST = {"type": "string", "minLength": 1, "maxLength": 255}
_BOOL = {"type": ["boolean", "string"], "enum": [  # Nova's parameter_types.boolean
    True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
    False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"]}
MIGRATE = Versioned({
    "2.1": {"type": "object", "properties": {"migrate": _NONE}},
    # 2.56: the destination may be named
    "2.56": {"type": "object", "properties": {"migrate": {"type": ["null", "object"], "properties": {
        "host": {**_HOST, "type": ["string", "null"]}}, "additionalProperties": False}}}})
_LIVE = {"host": {**_HOST, "type": ["string", "null"]}}
LIVE_MIGRATE = Versioned({
    "2.1": _object("os-migrateLive", {**_LIVE, "block_migration": _BOOL, "disk_over_commit": _BOOL},
                   ["block_migration", "disk_over_commit", "host"]),
    # 2.25: block_migration may be "auto"; disk_over_commit is gone
    "2.25": _object("os-migrateLive", {**_LIVE, "block_migration": {"enum": [*_BOOL["enum"], "auto"]}},
                    ["block_migration", "host"]),
    # 2.30: force (skip the scheduler's checks of a named host)
    "2.30": _object("os-migrateLive", {**_LIVE, "block_migration": {"enum": [*_BOOL["enum"], "auto"]},
                                       "force": _BOOL}, ["block_migration", "host"]),
    # 2.68: force is gone again
    "2.68": _object("os-migrateLive", {**_LIVE, "block_migration": {"enum": [*_BOOL["enum"], "auto"]}},
                    ["block_migration", "host"])})
_EVACUATE = {"host": _HOST, "adminPass": {"type": "string"}}
EVACUATE = Versioned({
    "2.1": _object("evacuate", {**_EVACUATE, "onSharedStorage": _BOOL}, ["onSharedStorage"]),
    # 2.14: onSharedStorage is gone (Nova finds out itself)
    "2.14": _object("evacuate", _EVACUATE, []),
    # 2.29: force
    "2.29": _object("evacuate", {**_EVACUATE, "force": _BOOL}, []),
    # 2.68: force is gone again
    "2.68": _object("evacuate", _EVACUATE, [])})
FORCE_COMPLETE = {"type": "object", "properties": {"force_complete": {"type": "null"}},
                  "required": ["force_complete"], "additionalProperties": False}
_MOVES = {"migrate": MIGRATE, "os-migrateLive": LIVE_MIGRATE, "evacuate": EVACUATE}


def _action_body(version: str) -> dict:
    """POST /servers/{id}/action: whichever action the body names is checked against that action's schema
    at ``version`` (actions without one are checked by their handler)."""
    at = Version.parse(version)
    bodies = {**ACTIONS, "rebuild": pick(REBUILD, at), "unshelve": pick(UNSHELVE, at),
              **{name: pick(schema, at) for name, schema in _MOVES.items()}}
    return {"type": "object", "properties": {name: body["properties"][name] for name, body in bodies.items()}}


_STEPS = {*REBUILD, *UNSHELVE, *(since for schema in _MOVES.values() for since in schema)}
SERVER_ACTION = Versioned({since: _action_body(since) for since in sorted(_STEPS, key=Version.parse)})


# -- external events (os-server-external-events) ------------------------------------------------------------
EVENT_NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]
# Event names later microversions add, as Nova's schemas do.
LATER_EVENTS = {"2.51": "volume-extended", "2.76": "power-update", "2.82": "accelerator-request-bound",
                "2.93": "volume-reimaged"}


def _events(names: list[str]) -> dict:
    event = {"type": "object", "required": ["server_uuid", "name"], "additionalProperties": False, "properties": {
        "server_uuid": {"type": "string", "format": "uuid"}, "name": {"type": "string", "enum": names},
        "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
        "tag": {"type": "string", "maxLength": 255}}}
    return {"type": "object", "required": ["events"], "additionalProperties": False,
            "properties": {"events": {"type": "array", "minItems": 1, "items": event}}}


EXTERNAL_EVENTS = Versioned({since: _events(EVENT_NAMES + [n for v, n in LATER_EVENTS.items()
                                                           if Version.parse(v) <= Version.parse(since)])
                             for since in ("2.1", *LATER_EVENTS)})

# -- assisted volume snapshots (os-assisted-volume-snapshots) -----------------------------------------------
_NAMED = {"type": "string", "minLength": 1}
ASSISTED_SNAPSHOT = {"type": "object", "required": ["snapshot"], "additionalProperties": False, "properties": {
    "snapshot": {"type": "object", "required": ["volume_id", "create_info"], "additionalProperties": False,
                 "properties": {"volume_id": _NAMED, "create_info": {
                     "type": "object", "required": ["snapshot_id", "type", "new_file"], "additionalProperties": False,
                     "properties": {"snapshot_id": _NAMED, "type": {"type": "string", "enum": ["qcow2"]},
                                    "new_file": _NAMED, "id": _NAMED}}}}}}

# -- server tags (2.26) ----------------------------------------------------------------------------------
SERVER_TAGS = {"type": "object", "properties": {"tags": {"type": "array", "items": TAG, "maxItems": 50}},
               "required": ["tags"], "additionalProperties": False}

# -- aggregates -----------------------------------------------------------------------------------------
# Nova's zone names: like a name, and no ':' (it separates zone and host in a boot request).
_AGGREGATE_ZONE = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
                   "pattern": r"^(?!\s)[^:\x00-\x1f\x7f]*(?<!\s)$"}
AGGREGATE_CREATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": NAME, "availability_zone": _AGGREGATE_ZONE}}}}
AGGREGATE_UPDATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "minProperties": 1, "additionalProperties": False,
                  "properties": {"name": NAME, "availability_zone": _AGGREGATE_ZONE}}}}
_AGGREGATE_HOST = {"type": "object", "required": ["host"], "additionalProperties": False,
                   "properties": {"host": {"type": "string", "minLength": 1, "maxLength": 255}}}
AGGREGATE_ACTIONS = {"add_host": _AGGREGATE_HOST, "remove_host": _AGGREGATE_HOST, "set_metadata": {
    "type": "object", "required": ["metadata"], "additionalProperties": False, "properties": {
        "metadata": {"type": "object", "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {
            "type": ["string", "null"], "maxLength": 255}}, "additionalProperties": False}}}}
# POST /os-aggregates/{id}/action: the named action's arguments checked against its schema
AGGREGATE_ACTION = {"type": "object", "properties": AGGREGATE_ACTIONS}

# -- services (PUT /os-services/{id}, 2.53), os-hosts ------------------------------------------------------
SERVICE_UPDATE = Versioned({"2.53": {"type": "object", "minProperties": 1, "additionalProperties": False,
                                     "properties": {"status": {"type": "string", "enum": ["enabled", "disabled"]},
                                                    "disabled_reason": {"type": "string", "minLength": 1,
                                                                        "maxLength": 255},
                                                    "forced_down": BOOLEAN}}})
# PUT /os-services/force-down (2.11 to 2.52): the flag, checked when it is there
FORCE_DOWN = Versioned({"2.11": {"type": "object", "properties": {"forced_down": BOOLEAN}}, "2.53": GONE})
_SWITCH = {"type": "string", "enum": ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]}
# os-hosts went at 2.43
HOST_UPDATE = Versioned({"2.1": {"type": "object", "additionalProperties": False,
                                 "anyOf": [{"required": ["status"]}, {"required": ["maintenance_mode"]}],
                                 "properties": {"status": _SWITCH, "maintenance_mode": _SWITCH}},
                         "2.43": GONE})
