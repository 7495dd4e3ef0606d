"""The image service's routes."""

import dataclasses
from collections.abc import Callable

from onestack.http.errors import glance_fault
from onestack.http.routing import Call, Endpoint, Service
from onestack.services.image.api import data, discovery, images, imports, members, metadefs


def _behind_a_token(ep: Endpoint) -> Endpoint:
    """Glance serves its schemas, as all of /v2, to authenticated callers only (only discovery is open)."""
    fn: Callable[[Call], object] = ep.fn

    def authenticated(call: Call):
        call.ctx  # noqa: B018 -- reading it authenticates the caller (401 without a valid token)
        return fn(call)

    authenticated.__name__, authenticated.__doc__ = fn.__name__, fn.__doc__
    return dataclasses.replace(ep, fn=authenticated)


def service() -> Service:
    routes = [*discovery.ROUTES, *images.ROUTES, *data.ROUTES, *members.ROUTES, *imports.ROUTES, *metadefs.ROUTES]
    return Service("image", "/image", glance_fault,
                   [_behind_a_token(e) if e.path.startswith("/v2/schemas/") else e for e in routes],
                   version_choices=discovery.CHOICES)
