"""The Orchestration service's routes (Heat's v1 API) under /orchestration."""

from onestack.http.errors import heat_fault
from onestack.http.routing import Service
from onestack.services.orchestration.api import discovery, info, resources, software, stacks

# Heat's max_json_body_size: templates are larger than other APIs' bodies.
BODY_LIMIT = 1048576


def service() -> Service:
    return Service("orchestration", "/orchestration", heat_fault,
                   [*discovery.ROUTES, *info.ROUTES, *stacks.ROUTES, *resources.ROUTES,
                    *software.ROUTES], body_limit=BODY_LIMIT)
