"""Version discovery at the service's root: every path a client may start from."""

from onestack.http.routing import Call, Reply, version_root
from onestack.services.orchestration import views


def versions(call: Call) -> Reply:
    return Reply({"versions": [views.version(call.url("/v1/"))]}, 300)


ROUTES = [version_root(versions)]
