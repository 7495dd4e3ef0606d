"""What Nova's bodies promise, as JSON Schema: the routes' ``response=``, published in the OpenAPI
description and checked by the fuzzer against every success.

The facts are Tempest's response schemas for compute v2.1 (the keys Tempest requires of every body, their
types): required here are the keys every microversion shows; keys that only some versions, callers or states
show are optional; newer microversions add keys, so other keys may follow (Tempest closes each version's
schema; onestack's one schema covers every version it serves).
"""

from __future__ import annotations

from onestack.http.shapes import (
    BOOLEAN,
    INTEGER,
    LINKS,
    NUMBER,
    OBJECT,
    STRING,
    TIME,
    array,
    either,
    many,
    nullable,
    obj,
    one,
)

_REF = obj({"id": STRING, "links": LINKS})
_ADDRESS = obj({"version": {"enum": [4, 6]}, "addr": STRING},
               {"OS-EXT-IPS:type": STRING, "OS-EXT-IPS-MAC:mac_addr": STRING})
# a server's fault, shown in ERROR (or DELETED)
_FAULT = obj({"code": INTEGER, "created": TIME, "message": STRING}, {"details": STRING})

# the admin password is always shown (Nova's ``enable_instance_password``, on by default)
SERVER_CREATED = one("server", obj({"id": STRING, "links": LINKS, "adminPass": STRING}, {
    "security_groups": array(obj({"name": STRING})), "OS-DCF:diskConfig": STRING}))

_SERVER_BRIEF = obj({"id": STRING, "links": LINKS, "name": STRING})
SERVERS = many("servers", _SERVER_BRIEF, links=True)

# the image is a reference, or "" for a server booted from a volume; the flavor a reference until 2.47, then
# the flavor's own values
_SERVER = obj({
    "id": STRING, "name": STRING, "status": STRING, "image": either(_REF, nullable(STRING)), "flavor": OBJECT,
    "user_id": STRING, "tenant_id": STRING, "created": TIME, "updated": TIME, "metadata": OBJECT,
    "links": LINKS, "addresses": {"type": "object", "additionalProperties": array(_ADDRESS)}, "hostId": STRING,
}, {
    "progress": INTEGER, "fault": _FAULT, "accessIPv4": STRING, "accessIPv6": STRING, "OS-DCF:diskConfig": STRING,
    "key_name": nullable(STRING), "security_groups": array(obj({"name": STRING})),
    "OS-SRV-USG:launched_at": nullable(TIME), "OS-SRV-USG:terminated_at": nullable(TIME),
    "OS-EXT-AZ:availability_zone": STRING, "OS-EXT-STS:task_state": nullable(STRING),
    "OS-EXT-STS:vm_state": STRING, "OS-EXT-STS:power_state": INTEGER,
    "OS-EXT-SRV-ATTR:host": nullable(STRING), "OS-EXT-SRV-ATTR:instance_name": STRING,
    "OS-EXT-SRV-ATTR:hypervisor_hostname": nullable(STRING),
    "os-extended-volumes:volumes_attached": array(obj({"id": STRING})), "config_drive": STRING,
    # 2.9, 2.19, 2.26
    "locked": BOOLEAN, "description": nullable(STRING), "tags": array(STRING),
})
SERVER = one("server", _SERVER)
SERVERS_DETAIL = many("servers", _SERVER, links=True)

_FLAVOR_BRIEF = obj({"id": STRING, "name": STRING, "links": LINKS}, {"description": nullable(STRING)})
FLAVORS = many("flavors", _FLAVOR_BRIEF, links=True)
# swap is 0 or "" when the flavor has none (Nova writes "")
_FLAVOR = obj({"id": STRING, "name": STRING, "links": LINKS, "ram": INTEGER, "vcpus": INTEGER, "disk": INTEGER,
               "swap": {"type": ["integer", "string"]}}, {
    "OS-FLV-DISABLED:disabled": BOOLEAN, "os-flavor-access:is_public": BOOLEAN, "rxtx_factor": NUMBER,
    "OS-FLV-EXT-DATA:ephemeral": INTEGER, "description": nullable(STRING), "extra_specs": OBJECT})
FLAVOR = one("flavor", _FLAVOR)
FLAVORS_DETAIL = many("flavors", _FLAVOR, links=True)

# 2.2 adds the type; the list's entries carry no user (nor id) until the key pair is shown
_KEYPAIR_LISTED = obj({"name": STRING, "public_key": STRING, "fingerprint": STRING}, {"type": STRING})
KEYPAIRS = obj({"keypairs": array(obj({"keypair": _KEYPAIR_LISTED}))}, {"keypairs_links": LINKS})
KEYPAIR = one("keypair", obj({
    "name": STRING, "public_key": STRING, "fingerprint": STRING, "user_id": STRING, "deleted": BOOLEAN,
    "created_at": TIME, "updated_at": nullable(TIME), "deleted_at": nullable(TIME), "id": INTEGER},
    {"type": STRING}))
# a generated key pair's private key is in the answer to its creation alone
KEYPAIR_CREATED = one("keypair", obj({"name": STRING, "public_key": STRING, "fingerprint": STRING,
                                      "user_id": STRING}, {"private_key": STRING, "type": STRING}))

# ``policies`` and ``metadata`` until 2.64, ``policy`` and ``rules`` from it
_SERVER_GROUP = obj({"id": STRING, "name": STRING, "members": array(STRING)}, {
    "policies": array(STRING), "metadata": OBJECT, "policy": STRING, "rules": OBJECT, "project_id": STRING,
    "user_id": STRING})
SERVER_GROUP = one("server_group", _SERVER_GROUP)
SERVER_GROUPS = many("server_groups", _SERVER_GROUP)
