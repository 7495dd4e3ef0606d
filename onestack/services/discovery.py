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


def _object_store(call: Call) -> Reply:
    return Reply({"swift": {"version": "onestack", "max_file_size": 5368709122}})


PENDING: dict[str, tuple[str, errors.FaultFormat, str, Callable[[Call], Reply]]] = {
    "object-store": ("/object-store", errors.generic_fault, "/info", _object_store),
}


def services() -> list[Service]:
    return [Service(name, prefix, fault, [route(path, "GET", fn)])
            for name, (prefix, fault, path, fn) in PENDING.items()]
