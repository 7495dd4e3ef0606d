"""What Cinder's bodies promise, as JSON Schema: the routes' ``response=``, published in the OpenAPI
description and checked by the fuzzer against every success.

The facts are Tempest's volume v3 response schemas (the keys Tempest requires, their types): required here
are the keys every microversion shows; keys only some versions or callers (the admin's ``os-vol-*``) see are
optional; newer microversions add keys (``group_id`` 3.13, ``service_uuid`` and ``shared_targets`` 3.48,
``consumes_quota`` 3.65), so other keys may follow.
"""

from __future__ import annotations

from onestack.http.shapes import (
                   BOOLEAN,
                   INTEGER,
                   LINKS,
                   OBJECT,
                   STRING,
                   TIME,
                   array,
                   many,
                   nullable,
                   obj,
                   one,
)

_TEXT = nullable(STRING)
_ATTACHMENT = obj({"server_id": _TEXT, "attachment_id": STRING, "host_name": _TEXT, "volume_id": STRING,
                   "device": _TEXT, "id": STRING}, {"attached_at": nullable(TIME)})
_METADATA = {"type": "object", "additionalProperties": STRING}

# what a volume shows at creation and update (Tempest's ``create_volume``); ``show`` and the detailed list add
# the extended attributes
_VOLUME = obj({
    "id": STRING, "name": _TEXT, "description": _TEXT, "status": STRING, "size": INTEGER,
    "availability_zone": _TEXT, "created_at": TIME, "updated_at": nullable(TIME), "user_id": STRING,
    "attachments": array(_ATTACHMENT), "links": LINKS, "encrypted": BOOLEAN, "replication_status": _TEXT,
    "metadata": _METADATA, "multiattach": BOOLEAN, "consistencygroup_id": _TEXT, "bootable": STRING,
    "volume_type": _TEXT, "snapshot_id": _TEXT, "source_volid": _TEXT,
}, {
    "migration_status": _TEXT, "os-vol-host-attr:host": _TEXT, "os-vol-tenant-attr:tenant_id": STRING,
    "os-vol-mig-status-attr:migstat": _TEXT, "os-vol-mig-status-attr:name_id": _TEXT,
    "volume_image_metadata": nullable(OBJECT), "group_id": _TEXT, "provider_id": _TEXT,
    "service_uuid": _TEXT, "shared_targets": BOOLEAN, "cluster_name": _TEXT, "volume_type_id": _TEXT,
    "consumes_quota": BOOLEAN,
})
VOLUME = one("volume", _VOLUME)
# 3.45's ``with_count`` adds the count
VOLUMES = obj({"volumes": array(obj({"id": STRING, "name": _TEXT, "links": LINKS}))},
              {"volumes_links": LINKS, "count": INTEGER})
VOLUMES_DETAIL = obj({"volumes": array(_VOLUME)}, {"volumes_links": LINKS, "count": INTEGER})

_SNAPSHOT = obj({
    "id": STRING, "name": _TEXT, "description": _TEXT, "status": STRING, "size": INTEGER, "volume_id": STRING,
    "metadata": _METADATA, "created_at": TIME, "updated_at": nullable(TIME),
}, {"group_snapshot_id": _TEXT, "user_id": STRING, "consumes_quota": BOOLEAN})
# the detailed views add the progress and the owner
_SNAPSHOT_DETAIL = {**_SNAPSHOT, "required": [*_SNAPSHOT["required"], "os-extended-snapshot-attributes:progress",
                                              "os-extended-snapshot-attributes:project_id"],
                    "properties": {**_SNAPSHOT["properties"], "os-extended-snapshot-attributes:progress": STRING,
                                   "os-extended-snapshot-attributes:project_id": STRING}}
SNAPSHOT = one("snapshot", _SNAPSHOT)
SNAPSHOT_DETAIL = one("snapshot", _SNAPSHOT_DETAIL)
SNAPSHOTS = obj({"snapshots": array(_SNAPSHOT)}, {"snapshots_links": LINKS, "count": INTEGER})
SNAPSHOTS_DETAIL = obj({"snapshots": array(_SNAPSHOT_DETAIL)}, {"snapshots_links": LINKS, "count": INTEGER})

_TYPE = obj({"id": STRING, "name": STRING, "is_public": BOOLEAN, "description": _TEXT},
            {"extra_specs": _METADATA, "os-volume-type-access:is_public": BOOLEAN, "qos_specs_id": _TEXT})
VOLUME_TYPE = one("volume_type", _TYPE)
VOLUME_TYPES = many("volume_types", _TYPE)
