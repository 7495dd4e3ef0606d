"""The Volume service's routes."""

from onestack.http.errors import generic_fault
from onestack.http.routing import Service
from onestack.services.volume.api import discovery


def service() -> Service:
    return Service("block-storage", "/volume", generic_fault, [*discovery.ROUTES])
