"""Version discovery, schemas and store info, as Glance serves them."""

from __future__ import annotations

from onestack.http.routing import Call, Reply, VersionChoices, route, version_root
from onestack.services.image import schemas
from onestack.services.image.policies import authorize

# Glance 2023+ lists every minor version it supports, newest CURRENT.
MINORS = 16


def _versions(call: Call) -> list[dict]:
    href = call.url("/v2/")
    return [{"id": f"v2.{minor}", "status": "CURRENT" if minor == MINORS else "SUPPORTED",
             "links": [{"rel": "self", "href": href}]} for minor in range(MINORS, -1, -1)]


def versions(call: Call) -> Reply:
    return Reply({"versions": _versions(call)}, 300)


def versions_list(call: Call) -> dict:
    return {"versions": _versions(call)}


def negotiated(call: Call, segment: str) -> Reply:
    """Glance's version negotiation, ahead of keystonemiddleware: a first segment naming no version it serves
    gets the 300 version list, ``versions`` (and anything under it) the 200 one, whatever the method."""
    return Reply({"versions": _versions(call)}, 200 if segment == "versions" else 300)


# the URL versions Glance's negotiation accepts: v2 and each minor it lists
SERVED = frozenset({"v2", *(f"v2.{minor}" for minor in range(MINORS + 1))})
CHOICES = VersionChoices(serves=SERVED.__contains__, answer=negotiated)


def image_schema(call: Call) -> dict:
    return schemas.shown_image()


def images_schema(call: Call) -> dict:
    return schemas.shown_images()


def member_schema(call: Call) -> dict:
    return schemas.SHOWN_MEMBER


def members_schema(call: Call) -> dict:
    return schemas.shown_members()


def stores(call: Call) -> dict:
    authorize(call.ctx, "get_images")  # for authenticated callers only
    found = [{"id": "file", "description": "Files in the cloud's data dir", "default": True}]
    if call.runtime.image.swift is not None:
        found.append({"id": "swift", "description": "Objects of the cloud's Object Storage (Glance's swift "
                                                    "store layout)"})
    if call.runtime.image.rbd is not None:
        found.append({"id": "rbd", "description": "Raw images copied into the Ceph cluster's images pool "
                                                  "(for RBD volumes to clone)"})
    return {"stores": found}


def usage(call: Call) -> dict:
    """The caller's project against its image quotas (Glance's /v2/info/usage)."""
    ctx = call.ctx
    authorize(ctx, "get_images")
    return {"usage": call.runtime.image.usage(ctx.project_id)}


ROUTES = [
    version_root(versions),
    route("/versions", "GET", versions_list, public=True),
    route("/v2/schemas/image", "GET", image_schema),
    route("/v2/schemas/images", "GET", images_schema),
    route("/v2/schemas/member", "GET", member_schema),
    route("/v2/schemas/members", "GET", members_schema),
    route("/v2/info/stores", "GET", stores),
    route("/v2/info/usage", "GET", usage),
]
