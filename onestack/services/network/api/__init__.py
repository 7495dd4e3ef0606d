"""The network service's routes: one set per resource from its attribute table, plus the rest."""

from onestack.http.errors import neutron_fault
from onestack.http.routing import Service
from onestack.services.network.api import (
    discovery,
    floatingip_pools,
    port_bindings,
    port_forwardings,
    quotas,
    routers,
    tags,
)
from onestack.services.network.api.collections import collection_routes
from onestack.services.network.service import COLLECTIONS


def service() -> Service:
    routes = [*discovery.ROUTES, *quotas.ROUTES, *routers.ACTIONS, *floatingip_pools.ROUTES, *port_forwardings.ROUTES,
              *port_bindings.ROUTES]
    for coll in COLLECTIONS:
        if coll.standard_attributes:
            routes += tags.routes(coll)
        routes += collection_routes(coll)
    return Service("network", "/network", neutron_fault, routes)
