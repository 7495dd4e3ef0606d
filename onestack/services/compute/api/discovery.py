"""Version documents at /compute and /compute/v2.1, as Nova serves them."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, VersionChoices, route, version_root
from onestack.services.compute.versions import MICROVERSIONS

UPDATED = "2013-07-23T11:33:21Z"


def _v21(call: Call) -> dict:
    return {"id": "v2.1", "status": "CURRENT", "version": str(MICROVERSIONS.maximum),
            "min_version": str(MICROVERSIONS.minimum), "updated": UPDATED,
            "links": [{"rel": "self", "href": call.url("/v2.1/")},
                      {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


def _v20(call: Call) -> dict:
    """The legacy v2 API, as Nova still lists it (its self link must be followable: Tempest follows it)."""
    return {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": call.url("/v2/")}]}


def versions(call: Call) -> Reply:
    return Reply({"versions": [_v20(call), {k: v for k, v in _v21(call).items() if k != "media-types"}]})


def version(call: Call) -> dict:
    return {"version": _v21(call)}


def legacy_version(call: Call) -> dict:
    body = _v20(call)
    body["links"].append({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"})
    body["media-types"] = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}]
    return {"version": body}


def choices(call: Call, segment: str) -> Reply:
    """Nova's versions app for any path outside ``/v2.1`` and ``/v2``: 300 with each version's link to the
    path asked under the ``v2`` prefix (Nova builds both links under ``v2``), whatever the method or token."""
    rest = call.request.url.path.removeprefix(call.request.scope.get("root_path", "")).strip("/")
    href = call.url(f"/v2/{rest}")
    return Reply({"choices": [
        {"id": v["id"], "status": v["status"], "links": [{"rel": "self", "href": href}],
         "media-types": [{"base": "application/json",
                          "type": f"application/vnd.openstack.compute+json;version={v['id'].removeprefix('v').removesuffix('.0')}"}]}
        for v in (_v20(call), _v21(call))]}, 300)


# Nova's urlmap routes /v2.1 and /v2 (and what is under them) to the API, anything else to its versions app
CHOICES = VersionChoices(serves=lambda segment: segment in ("v2", "v2.1"), answer=choices)

ROUTES = [version_root(versions), route("/v2.1", "GET", version, public=True),
          route("/v2.1/", "GET", version, public=True),
          route("/v2", "GET", legacy_version, public=True), route("/v2/", "GET", legacy_version, public=True)]
