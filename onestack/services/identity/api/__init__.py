"""The identity service's routes, one module per group of resources."""

from onestack.http.errors import keystone_fault
from onestack.http.routing import Service
from onestack.services.identity.api import (
    auth,
    catalog,
    credentials,
    discovery,
    domain_config,
    endpoint_filter,
    limits,
    oauth1,
    policy_blobs,
    projects,
    role_assignments,
    roles,
    trusts,
    users,
)


def service() -> Service:
    endpoints = [*discovery.ROUTES, *auth.ROUTES, *projects.ROUTES, *users.ROUTES, *roles.ROUTES,
                 *role_assignments.ROUTES, *catalog.ROUTES, *credentials.ROUTES, *policy_blobs.ROUTES,
                 *endpoint_filter.ROUTES, *trusts.ROUTES, *limits.ROUTES,
                 *domain_config.ROUTES, *oauth1.ROUTES]
    return Service("identity", "/identity", keystone_fault, endpoints, trailing_slash_ok=True)
