"""CORS: a container's ``X-Container-Meta-Access-Control-Allow-Origin`` (space-separated origins or ``*``)
lets browser pages of those origins call it.  ``OPTIONS`` answers preflights; other answers to an allowed
``Origin`` carry ``Access-Control-Allow-Origin`` and the headers a page may read."""

from __future__ import annotations

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object.api.request import Swift, reply

ALLOW_ORIGIN = "X-Container-Meta-Access-Control-Allow-Origin"
MAX_AGE = "X-Container-Meta-Access-Control-Max-Age"
EXPOSE = "X-Container-Meta-Access-Control-Expose-Headers"
METHODS = ("HEAD", "GET", "PUT", "POST", "COPY", "OPTIONS", "DELETE")
EXPOSED = ("cache-control", "content-language", "content-type", "expires", "last-modified", "pragma", "etag",
           "x-timestamp", "x-trans-id", "x-openstack-request-id")


def _rule(req: Swift) -> tuple[list[str], dict] | None:
    if req.container is None:
        return None
    found = req.svc.find_container(req.account, req.container)
    return (found.meta.get(ALLOW_ORIGIN, "").split(), found.meta) if found is not None else None


def preflight(req: Swift) -> Response:
    """``OPTIONS``: the methods; for a preflight, whether the container lets the origin in (else 401)."""
    allow = {"Allow": ", ".join(METHODS)}
    origin, method = req.headers.get("origin"), req.headers.get("access-control-request-method")
    if not origin or not method:
        return reply(200, allow)
    found = _rule(req)
    if found is None or not ("*" in found[0] or origin in found[0]) or method.upper() not in METHODS:
        raise errors.Unauthorized()
    headers = {**allow, "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": ", ".join(METHODS)}
    if found[1].get(MAX_AGE):
        headers["Access-Control-Max-Age"] = found[1][MAX_AGE]
    if req.headers.get("access-control-request-headers"):
        headers["Access-Control-Allow-Headers"] = req.headers["access-control-request-headers"]
    return reply(200, headers)


def decorate(req: Swift, response: Response) -> None:
    """Add the CORS headers to an answer to an allowed ``Origin``."""
    origin = req.headers.get("origin")
    if not origin or req.method == "OPTIONS":
        return
    found = _rule(req)
    if found is None or not ("*" in found[0] or origin in found[0]):
        return
    anonymous = not (req.headers.get("x-auth-token") or req.headers.get("x-storage-token"))
    response.headers["Access-Control-Allow-Origin"] = "*" if found[0] == ["*"] and anonymous else origin
    exposed = list(EXPOSED) + [k for k in response.headers if k.lower().startswith(("x-object-meta-",
                                                                                   "x-container-meta-"))]
    exposed += found[1].get(EXPOSE, "").split()
    response.headers["Access-Control-Expose-Headers"] = ", ".join(dict.fromkeys(h.lower() for h in exposed))
