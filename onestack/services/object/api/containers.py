"""A container: create or update (PUT), its listing (GET), counters (HEAD), metadata (POST), DELETE."""

from __future__ import annotations

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object import schemas, views
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.service import versioning


def put(req: Swift) -> Response:
    req.authorize("own")
    created = req.svc.put_container(req.account, req.container, req.changes("container", schemas.CONTAINER_HEADERS))
    return reply(201 if created else 202)


def get(req: Swift) -> Response:
    grant = req.authorize("list")
    query, fmt = req.listing_query(schemas.CONTAINER_LISTING_LIMIT)
    if "versions" in req.query:
        version_marker = req.query.get("version_marker")
        if version_marker and not query.marker:
            raise errors.BadRequest("version_marker param requires marker")
        container, entries = req.svc.list_versions(req.account, req.container, query,
                                                   versioning.normal(version_marker) if version_marker else None)
        body = views.versions_listing(req.container, req.account, entries, fmt)
    else:
        container, entries = req.svc.list_objects(req.account, req.container, query)
        body = views.container_listing(req.account, req.container, entries, fmt)
    headers = views.container_headers(container, grant.owner)
    if not entries and fmt == "plain":
        return reply(204, headers, content_type=views.PLAIN)
    return reply(200, headers, body, views.FORMATS[fmt])


def head(req: Swift) -> Response:
    grant = req.authorize("list")
    container = req.svc.container(req.account, req.container)
    return reply(204, views.container_headers(container, grant.owner), content_type=views.FORMATS[req.listing_format()])


def post(req: Swift) -> Response:
    req.authorize("own")
    req.svc.post_container(req.account, req.container, req.changes("container", schemas.CONTAINER_HEADERS))
    return reply(204)


def delete(req: Swift) -> Response:
    req.authorize("own")
    req.svc.delete_container(req.account, req.container)
    return reply(204)


HANDLERS = {"GET": get, "HEAD": head, "PUT": put, "POST": post, "DELETE": delete}
