"""The compute API's microversions: the range onestack serves and what changed in each.

Like Nova's ``rest_api_version_history.rst``, every version onestack serves is listed with the
behaviour it brings; a version is only added here when that behaviour is built (Tempest runs every
test up to the maximum).  Views and schemas ask ``at_least(call, "2.x")``.
"""

from __future__ import annotations

from onestack.http.microversion import Microversions, Version

HISTORY: dict[str, str] = {
    "2.1": "The v2.1 API: servers, flavors, keypairs, limits, quotas, availability zones, services.",
}

MICROVERSIONS = Microversions("compute", Version(2, 1), Version.parse(max(HISTORY, key=Version.parse)),
                              legacy_headers=("x-openstack-nova-api-version",))


def at_least(version: Version | None, text: str) -> bool:
    return version is not None and version >= Version.parse(text)
