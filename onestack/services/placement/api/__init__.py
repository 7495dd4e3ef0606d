"""The placement service's routes and its fault format."""

from onestack.http import errors
from onestack.http.errors import APIError
from onestack.http.routing import Service
from onestack.services.placement.api import (
    aggregates,
    allocations,
    candidates,
    classes,
    inventories,
    providers,
    root,
    traits,
)
from onestack.services.placement.service import codes
from onestack.services.placement.versions import MAX_VERSION, MICROVERSIONS, MIN_VERSION

_ENTRY = {**errors.GENERIC_ENTRY, **{key: {"type": "string"} for key in
                                     ("code", "request_id", "max_version", "min_version")}}


@errors.shaped({"type": "object", "required": ["errors"], "properties": {"errors": {
    "type": "array", "minItems": 1, "items": {"type": "object", "required": list(errors.GENERIC_ENTRY),
                                              "properties": _ENTRY}}}})
def fault(err: APIError) -> dict:
    """Placement's error document: ``code`` from 1.23, the request id, and the supported range when the
    requested version itself was refused."""
    entry = {"status": err.status, "title": err.title, "detail": err.message}
    if err.version is not None and err.version.at_least("1.23"):
        entry["code"] = err.kind or codes.DEFAULT
    if err.request_id:
        entry["request_id"] = err.request_id
    if err.status == 406 and err.version is None:
        entry["max_version"], entry["min_version"] = str(MAX_VERSION), str(MIN_VERSION)
    return {"errors": [entry]}


def service() -> Service:
    return Service("placement", "/placement", fault, [
        *root.ROUTES, *providers.ROUTES, *inventories.ROUTES, *aggregates.ROUTES, *traits.ROUTES,
        *classes.ROUTES, *allocations.ROUTES, *candidates.ROUTES], microversions=MICROVERSIONS,
        check_body_on_read=True)
