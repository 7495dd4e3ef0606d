"""The compute service's routes (Nova v2.1 with microversions)."""

from onestack.http.errors import nova_fault
from onestack.http.routing import Service
from onestack.services.compute.api import discovery
from onestack.services.compute.versions import MICROVERSIONS


def service() -> Service:
    return Service("compute", "/compute", nova_fault, [*discovery.ROUTES], microversions=MICROVERSIONS)
