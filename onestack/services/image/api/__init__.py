"""The image service's routes."""

from onestack.http.errors import glance_fault
from onestack.http.routing import Service
from onestack.services.image.api import data, discovery, images, imports, members, metadefs


def service() -> Service:
    return Service("image", "/image", glance_fault, [*discovery.ROUTES, *images.ROUTES, *data.ROUTES, *members.ROUTES,
                                                      *imports.ROUTES, *metadefs.ROUTES])
