"""The identity service's routes, one module per group of resources."""

from starlette.requests import Request
from starlette.responses import Response

from onestack.http.errors import APIError, Forbidden, NotFound, keystone_fault
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
from onestack.services.identity.policies import authorize


class IdentityAPI(Service):
    """A row a handler looked for under ``common.check`` and did not find is a 404 only to a caller whom
    the rule would let see it; anyone else gets the 403 an existing row would give, so that a refused
    caller learns nothing of which identifiers exist."""

    async def _api_error(self, request: Request, exc: APIError) -> Response:
        unchecked = getattr(request.state, "unchecked", None)
        if isinstance(exc, NotFound) and unchecked:
            ctx, action = unchecked
            try:
                authorize(ctx, action, {})
            except Forbidden as refused:
                exc = refused
        return self.render(exc, request)


def service() -> Service:
    endpoints = [*discovery.ROUTES, *auth.ROUTES, *projects.ROUTES, *users.ROUTES, *roles.ROUTES,
                 *role_assignments.ROUTES, *catalog.ROUTES, *credentials.ROUTES, *policy_blobs.ROUTES,
                 *endpoint_filter.ROUTES, *trusts.ROUTES, *limits.ROUTES,
                 *domain_config.ROUTES, *oauth1.ROUTES]
    # Keystone routes first and authenticates in each resource: an unknown path is a 404 without a token
    return IdentityAPI("identity", "/identity", keystone_fault, endpoints, trailing_slash_ok=True, token_gate="routes")
