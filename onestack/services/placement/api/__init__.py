"""The placement service's routes."""

from onestack.http.microversion import Microversions
from onestack.http.routing import Service
from onestack.services.placement.api import (
    aggregates,
    allocations,
    candidates,
    classes,
    inventories,
    providers,
    root,
)
from onestack.services.placement.api import traits as traits_api
from onestack.services.placement.views import MAX_VERSION, MIN_VERSION, fault

MICROVERSIONS = Microversions("placement", MIN_VERSION, MAX_VERSION)


def service() -> Service:
    return Service("placement", "/placement", fault, [
        *root.ROUTES, *providers.ROUTES, *inventories.ROUTES, *aggregates.ROUTES, *traits_api.ROUTES,
        *classes.ROUTES, *allocations.ROUTES, *candidates.ROUTES], microversions=MICROVERSIONS)
