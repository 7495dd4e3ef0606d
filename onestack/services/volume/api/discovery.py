"""Version discovery: GET /volume/ (300, every version) and GET /volume/v3/ (the v3 document)."""

from onestack.http.routing import Call, Reply, route, version_root
from onestack.services.volume import views


def versions(call: Call) -> Reply:
    return Reply({"versions": [views.version(call.url("/v3/"))]}, 300)


def v3(call: Call) -> dict:
    return {"versions": [views.version(call.url("/v3/"))]}


ROUTES = [version_root(versions), route("/v3/", "GET", v3, public=True),
          route("/v3", "GET", v3, public=True)]
