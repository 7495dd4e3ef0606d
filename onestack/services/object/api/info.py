"""``/info``: the capabilities this object store has, with their limits (clients plan uploads by it)."""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from onestack.http.routing import Call
from onestack.services.object import schemas
from onestack.services.object.api import bulk
from onestack.services.object.api.request import Swift
from onestack.services.object.service import formpost, manifest, symlinks, tempurl

LOG = logging.getLogger("onestack.object")


# The Swift release whose API this store answers as: clients gate features on it (Tempest reads 2.34 as
# "the account object-count quota exists").
SWIFT_VERSION = "2.34.0"


def capabilities() -> dict:
    return {
        "swift": {
            "version": SWIFT_VERSION,
            **schemas.CONSTRAINTS,
            "policies": [{"name": "Policy-0", "aliases": "Policy-0", "default": True}],
            "strict_cors_mode": True,
            "allow_account_management": False,
            "account_autocreate": True,
            "valid_api_versions": ["v1", "v1.0"],
        },
        "slo": manifest.CAPABILITIES,
        **bulk.CAPABILITIES,
        "staticweb": {},
        "formpost": formpost.CAPABILITIES,
        "account_quotas": {},
        "container_quotas": {},
        "symlink": symlinks.CAPABILITIES,
        "tempurl": tempurl.CAPABILITIES,
        "versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]},
        "object_versioning": {},
    }


def show(call: Call) -> Response:
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if call.request.method == "OPTIONS":
        return Response(status_code=200, headers={"Allow": "GET, HEAD, OPTIONS", "Content-Length": "0"})
    return Response(orjson.dumps(capabilities()), headers=headers)


def healthcheck(call: Call) -> Response:
    """Swift's ``/healthcheck``: ``OK`` while the store can read its database, 503 when it cannot."""
    headers = {"X-Trans-Id": Swift.trans_id_of(call.request)}
    try:
        call.runtime.object.account("")
    except Exception:  # any failure to read means unhealthy; the reason is in the server's log
        LOG.exception("object store health check failed")
        return Response("DOWN", status_code=503, headers=headers, media_type="text/plain")
    return Response("OK" if call.request.method == "GET" else b"", headers=headers, media_type="text/plain")
