"""GET /placement/: the version document, readable without a token."""

from onestack.http.routing import Call, Reply, route
from onestack.services.placement.versions import MAX_VERSION, MIN_VERSION


def versions(call: Call) -> Reply:
    return Reply({"versions": [{"id": "v1.0", "max_version": str(MAX_VERSION), "min_version": str(MIN_VERSION),
                                "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]})


ROUTES = [route("/", "GET", versions, public=True)]
