"""An account: its containers' listing (GET), its counters (HEAD) and its metadata (POST)."""

from __future__ import annotations

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object import policies, schemas, views
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.service import quotas


def get(req: Swift) -> Response:
    grant = req.authorize("list")
    query, fmt = req.listing_query(schemas.ACCOUNT_LISTING_LIMIT)
    account, entries = req.svc.list_containers(req.account, query)
    headers = views.account_headers(account, grant.owner)
    if not entries and fmt == "plain":
        return reply(204, headers, content_type=views.PLAIN)
    return reply(200, headers, views.account_listing(req.account, entries, fmt), views.FORMATS[fmt])


def head(req: Swift) -> Response:
    grant = req.authorize("read")
    headers = views.account_headers(req.svc.account(req.account), grant.owner)
    return reply(204, headers, content_type=views.FORMATS[req.listing_format()])


def post(req: Swift) -> Response:
    req.authorize("own")
    changes = req.changes("account", frozenset({quotas.ACCOUNT_COUNT}))
    if any(key in changes for key in quotas.RESELLER_ONLY) and not policies.is_reseller(req.ctx):
        raise errors.Forbidden()  # the account's quotas are the reseller's, not its owner's
    req.svc.post_account(req.account, changes)
    return reply(204)


def not_allowed(req: Swift) -> Response:
    """Accounts come with projects: Swift's ``allow_account_management`` is off.  Swift authorizes before
    the handler looks at that, so an anonymous caller gets 401 and another account's user 403."""
    req.authorize("own")
    raise errors.MethodNotAllowed(headers={"Allow": "GET, HEAD, POST"})


HANDLERS = {"GET": get, "HEAD": head, "POST": post, "PUT": not_allowed, "DELETE": not_allowed}
