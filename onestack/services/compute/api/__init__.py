"""The compute service's routes (Nova v2.1 with microversions)."""

from onestack.http.errors import nova_fault
from onestack.http.routing import Service
from onestack.services.compute.api import discovery, flavors, keypairs, limits, quotas
from onestack.services.compute.versions import MICROVERSIONS


def service() -> Service:
    return Service("compute", "/compute", nova_fault,
                   [*discovery.ROUTES, *flavors.ROUTES, *keypairs.ROUTES, *quotas.ROUTES, *limits.ROUTES],
                   microversions=MICROVERSIONS)
