"""Swift's API: ``/info`` and ``/v1/<account>[/<container>[/<object>]]``.

Swift routes by the shape of the path, not by a route table: one endpoint takes every ``/v1`` request,
splits the path as Swift does and hands it to the account, container or object handlers.  Bodies are
raw bytes, streamed; errors are Swift's plain and HTML pages with Swift's status codes.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from onestack.http import errors
from onestack.http.listing import STRING, query_parameters
from onestack.http.routing import Call, Endpoint, Service
from onestack.services.object import responses, views
from onestack.services.object.api import accounts, bulk, containers, cors, formpost, info, objects, staticweb
from onestack.services.object.api.request import Swift
from onestack.services.object.service import tempurl

LOG = logging.getLogger("onestack.object")
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS")
HANDLERS = {"account": accounts.HANDLERS, "container": containers.HANDLERS, "object": objects.HANDLERS}


def dispatch(call: Call) -> Response:
    req = Swift.parse(call)
    handler = HANDLERS[req.level].get(call.request.method)
    if req.method == "OPTIONS":
        handler = cors.preflight
    elif "bulk-delete" in req.query and req.method in ("POST", "DELETE") and req.level != "object":
        handler = bulk.bulk_delete
    elif "extract-archive" in req.query and req.method == "PUT":
        handler = bulk.extract_archive
    elif formpost.is_form(req):
        handler = formpost.post
    if handler is None:
        raise errors.MethodNotAllowed(headers={"Allow": ", ".join(sorted(HANDLERS[req.level]))})
    if handler is not formpost.post and "temp_url_sig" in req.query and req.level == "object" and req.method in tempurl.METHODS:
        req.accept_temp_url()
    site = staticweb.site_of(req)
    response = handler(req) if site is None else staticweb.serve(req, site)
    cors.decorate(req, response)
    response.headers["X-Trans-Id"] = req.trans_id
    return response


class SwiftService(Service):
    """Renders every error as Swift does (text, not a JSON fault)."""

    def render(self, err: errors.APIError, request: Request | None = None) -> Response:
        headers = dict(err.headers)
        if request is not None:
            headers["X-Trans-Id"] = Swift.trans_id_of(request)
        if err.status == 401 and request is not None:
            base = request.scope["onestack.runtime"].base_url(request)
            headers.setdefault("WWW-Authenticate", f"Keystone uri='{base}/identity'")
        return views.fault(err, headers)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        LOG.exception("unexpected error in %s %s", request.method, request.url.path)
        return self.render(errors.APIError(), request)

    def fault_content(self) -> dict:
        # Swift's error page (HTML, or the plain reason), as ``views.fault`` writes it
        return {"text/html": {"schema": {"type": "string"}}}


# what a listing reads (``Swift.listing_query``): ``format=json`` is the one whose body is declared
LISTING_QUERY = query_parameters(paging=("limit", "marker"), format={"enum": ["json", "xml", "plain"]},
                                 end_marker=STRING, prefix=STRING, delimiter=STRING, reverse=STRING)


def _listing(path: str, response: dict) -> Endpoint:
    """An account's or a container's GET, routed to ``dispatch`` like every Swift path (which splits the raw
    path itself): its own route only so that the description declares the JSON listing it answers."""
    return Endpoint(path, ("GET",), dispatch, stream_body=True, response=response, query=LISTING_QUERY)


def service() -> Service:
    return SwiftService("object-store", "/object-store", errors.generic_fault, [
        Endpoint("/info", ("GET", "HEAD", "OPTIONS"), info.show),
        Endpoint("/healthcheck", ("GET", "HEAD"), info.healthcheck),
        *[endpoint for version in ("/v1", "/v1.0") for endpoint in (
            _listing(f"{version}/{{account}}", responses.ACCOUNT_LISTING),
            _listing(f"{version}/{{account}}/{{container}}", responses.CONTAINER_LISTING))],
        Endpoint("/v1/{rest:anypath}", METHODS, dispatch, stream_body=True),
        Endpoint("/v1.0/{rest:anypath}", METHODS, dispatch, stream_body=True),
        # Swift's keystonemiddleware runs with delay_auth_decision: an anonymous request goes on, and the
        # container's ACLs, a temp URL or a form post may still let it in (``Swift.authorize``)
    ], token_gate=None)
