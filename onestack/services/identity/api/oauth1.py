"""/v3/OS-OAUTH1: consumers, request and access tokens (the flow is told in ``service/oauth1.py``)."""

from __future__ import annotations

from operator import attrgetter
from urllib.parse import urlencode

from starlette.responses import Response

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity, owned_delete, owned_show, owner, resource, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.oauth1 import OAuth1
from onestack.services.identity.service.oauth_signature import SignedRequest
from onestack.services.identity.views import OAUTH as BASE
from onestack.services.identity.views import Views, iso, user_access_tokens

OAUTH1 = attrgetter("oauth1")
CONSUMERS = resource(f"{BASE}/consumers", "consumer", "consumer_id", OAUTH1, Views.consumer)


def signed(call: Call, path: str) -> SignedRequest:
    return SignedRequest(call.request.method, call.url(path), call.headers.get("authorization"),
                         tuple(call.query.multi_items()))


def _form(status: int, **values: str) -> Response:
    """OAuth answers token requests form-encoded, not in JSON."""
    return Response(urlencode(values, safe=":"), status_code=status, media_type="application/x-www-form-urlencoded")


# -- consumers -----------------------------------------------------------------
def create_consumer(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_consumers")
    row = identity(call).oauth1.create_consumer(call.body["consumer"])
    # The secret is shown once, now; the consumer must keep it.
    return Reply({"consumer": views(call).consumer(row, secret=True)}, 201)


def list_consumers(call: Call) -> dict:
    authorize(call.ctx, "identity:get_consumer")
    v = views(call)
    return v.collection("consumers", [v.consumer(c) for c in identity(call).oauth1.consumers()],
                        "OS-OAUTH1/consumers")


# -- the flow ------------------------------------------------------------------
def create_request_token(call: Call) -> Response:
    token = identity(call).oauth1.request_token(signed(call, f"{BASE}/request_token"),
                                                call.headers.get("requested-project-id"))
    return _form(201, oauth_token=token.id, oauth_token_secret=token.secret, oauth_expires_at=iso(token.expires_at))


def authorize_request_token(call: Call) -> dict:
    authorize(call.ctx, "identity:authorize_request_token")
    verifier = identity(call).oauth1.authorize_request_token(call.ctx, call.path["request_token_id"],
                                                             call.body["roles"])
    return {"token": {"oauth_verifier": verifier}}


def create_access_token(call: Call) -> Response:
    token = identity(call).oauth1.access_token(signed(call, f"{BASE}/access_token"))
    return _form(201, oauth_token=token.id, oauth_token_secret=token.secret, oauth_expires_at=iso(token.expires_at))


# -- a user's access tokens --------------------------------------------------------
def list_access_tokens(call: Call) -> dict:
    user_id = owner(call, "identity:access_tokens")
    v = views(call)
    rows = identity(call).oauth1.access_tokens(call.ctx, user_id)
    return v.collection("access_tokens", [v.access_token(t) for t in rows],
                        user_access_tokens(user_id).removeprefix("/v3/"))


def list_access_token_roles(call: Call) -> dict:
    user_id = owner(call, "identity:access_tokens")
    v = views(call)
    token, roles = identity(call).oauth1.access_token_roles(user_id, call.path["access_token_id"])
    return v.collection("roles", [v.role(r) for r in roles],
                        f"{user_access_tokens(user_id).removeprefix('/v3/')}/{token.id}/roles")


def get_access_token_role(call: Call) -> dict:
    user_id = owner(call, "identity:access_tokens")
    role = identity(call).oauth1.access_token_role(user_id, call.path["access_token_id"], call.path["role_id"])
    return {"role": views(call).role(role)}


USER_TOKENS = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
ROUTES = [
    route(f"{BASE}/consumers", "POST", create_consumer, schema=schemas.oauth_consumer_create),
    route(f"{BASE}/consumers", "GET", list_consumers),
    CONSUMERS.show("identity:get_consumer", OAuth1.consumer),
    CONSUMERS.update("identity:manage_consumers", OAuth1.update_consumer, schemas.oauth_consumer_update),
    CONSUMERS.delete("identity:manage_consumers", OAuth1.delete_consumer),
    # signed by the consumer's secret (OAuth 1.0a), not a token
    route(f"{BASE}/request_token", "POST", create_request_token, public=True),
    route(f"{BASE}/authorize/{{request_token_id}}", "PUT", authorize_request_token, schema=schemas.oauth_authorize),
    route(f"{BASE}/access_token", "POST", create_access_token, public=True),
    route(USER_TOKENS, "GET", list_access_tokens),
    route(USER_TOKENS + "/{access_token_id}", "GET",
          owned_show(OAUTH1, "access_token", Views.access_token, "identity:access_tokens", OAuth1.get_access_token,
                     "access_token_id")),
    route(USER_TOKENS + "/{access_token_id}", "DELETE",
          owned_delete(OAUTH1, "identity:delete_access_token", OAuth1.delete_access_token, "access_token_id")),
    route(USER_TOKENS + "/{access_token_id}/roles", "GET", list_access_token_roles),
    route(USER_TOKENS + "/{access_token_id}/roles/{role_id}", "GET", get_access_token_role),
]
