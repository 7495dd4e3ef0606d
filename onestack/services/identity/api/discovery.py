"""Version discovery at /identity/ and /identity/v3, in Keystone's exact shape."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, route

VERSION_ID = "v3.14"
UPDATED = "2020-04-07T00:00:00Z"


def _version(call: Call) -> dict:
    return {
        "id": VERSION_ID, "status": "stable", "updated": UPDATED,
        "links": [{"rel": "self", "href": call.url("/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def versions(call: Call) -> Reply:
    return Reply({"versions": {"values": [_version(call)]}}, 300)


def v3(call: Call) -> dict:
    return {"version": _version(call)}


ROUTES = [route("/", "GET", versions, public=True), route("/v3", "GET", v3, public=True),
          route("/v3/", "GET", v3, public=True)]
