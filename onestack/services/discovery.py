"""Version documents for the services whose APIs arrive in later issues.

Each answers discovery at its root exactly as its OpenStack project does, so
that clients reading the catalog find a well-formed service; every other
path under it answers the service's own 404.  When a service lands, its
package takes over its prefix and its entry here goes away.
"""

from __future__ import annotations

from collections.abc import Callable

from onestack.http import errors
from onestack.http.routing import Call, Reply, Service, route


def _link(call: Call, path: str) -> list[dict]:
    return [{"rel": "self", "href": call.url(path)}]




def _volume(call: Call) -> Reply:
    return Reply({"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.0", "min_version": "3.0",
                                "updated": "2023-08-31T00:00:00Z", "links": _link(call, "/v3/"),
                                "media-types": [{"base": "application/json",
                                                 "type": "application/vnd.openstack.volume+json;version=3"}]}]},
                 300)


def _orchestration(call: Call) -> Reply:
    return Reply({"versions": [{"id": "v1.0", "status": "CURRENT", "links": _link(call, "/v1/")}]}, 300)


PENDING: dict[str, tuple[str, errors.FaultFormat, str, Callable[[Call], Reply]]] = {
    "block-storage": ("/volume", errors.nova_fault, "/", _volume),
    "orchestration": ("/orchestration", errors.generic_fault, "/", _orchestration),
}


def services() -> list[Service]:
    return [Service(name, prefix, fault, [route(path, "GET", fn)])
            for name, (prefix, fault, path, fn) in PENDING.items()]
