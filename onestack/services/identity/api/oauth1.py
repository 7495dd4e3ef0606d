"""/v3/OS-OAUTH1: consumers, and the three-legged flow that lets one act for a user on a project.

A consumer gets a request token for a project (signed with its secret), a user with roles there
authorizes it with some of them and hands the verifier back, the consumer swaps the authorized request
token for an access token, then signs ``POST /v3/auth/tokens`` (method ``oauth1``) with it to get tokens
that carry only those roles.  Deleting the access token or its consumer ends every such token.
"""

from __future__ import annotations

import datetime
import secrets
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from onestack.db.base import new_id, utcnow
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import assignments, schemas
from onestack.services.identity.api.common import authorize, extra_attributes, identity, merge_extra, views
from onestack.services.identity.models import (
    OAuthAccessToken,
    OAuthConsumer,
    OAuthRequestToken,
    Project,
    Role,
)
from onestack.services.identity.oauth1 import SignedRequest, new_secret, verify
from onestack.services.identity.store import get
from onestack.services.identity.tokens import iso

BASE = "/v3/OS-OAUTH1"
# Keystone's default lifetimes.
REQUEST_TOKEN_SECONDS = 8 * 3600
ACCESS_TOKEN_SECONDS = 24 * 3600


def signed(call: Call, path: str) -> SignedRequest:
    return SignedRequest(call.request.method, call.url(path), call.headers.get("authorization"),
                         tuple(call.query.multi_items()))


def _form(status: int, **values: str) -> Response:
    """OAuth answers token requests form-encoded, not in JSON."""
    return Response(urlencode(values, safe=":"), status_code=status, media_type="application/x-www-form-urlencoded")


# -- consumers -----------------------------------------------------------------
def _consumer_view(call: Call, c: OAuthConsumer, *, secret: bool = False) -> dict:
    body = {**(c.extra or {}), "id": c.id, "description": c.description,
            "links": {"self": call.url(f"{BASE}/consumers/{c.id}")}}
    if secret:
        body["secret"] = c.secret
    return body


def create_consumer(call: Call) -> Reply:
    authorize(call, "identity:manage_consumers")
    body = call.body["consumer"]
    with identity(call).store.write() as session:
        row = OAuthConsumer(id=new_id(), secret=new_secret(), description=body.get("description"),
                            extra=extra_attributes(body, ("description",)))
        session.add(row)
        # The secret is shown once, now; the consumer must keep it.
        return Reply({"consumer": _consumer_view(call, row, secret=True)}, 201)


def list_consumers(call: Call) -> dict:
    authorize(call, "identity:get_consumer")
    with identity(call).store.read() as session:
        rows = session.scalars(select(OAuthConsumer).order_by(OAuthConsumer.id)).all()
    return views(call).collection("consumers", [_consumer_view(call, c) for c in rows], "OS-OAUTH1/consumers")


def get_consumer(call: Call) -> dict:
    authorize(call, "identity:get_consumer")
    with identity(call).store.read() as session:
        return {"consumer": _consumer_view(call, get(session, OAuthConsumer, call.path["consumer_id"], "consumer"))}


def update_consumer(call: Call) -> dict:
    authorize(call, "identity:manage_consumers")
    body = call.body["consumer"]
    with identity(call).store.write() as session:
        row = get(session, OAuthConsumer, call.path["consumer_id"], "consumer")
        if "description" in body:
            row.description = body["description"]
        merge_extra(row, body, ("description",))
        return {"consumer": _consumer_view(call, row)}


def delete_consumer(call: Call) -> Reply:
    authorize(call, "identity:manage_consumers")
    with identity(call).store.write() as session:
        # Its request and access tokens go with it (foreign keys), and so every token issued through them.
        session.delete(get(session, OAuthConsumer, call.path["consumer_id"], "consumer"))
    return Reply(status=204)


# -- the flow ------------------------------------------------------------------
def _signed_by_consumer(call: Call, session: Session, path: str) -> tuple[dict, OAuthConsumer]:
    req = signed(call, path)
    params = req.params()
    consumer = session.get(OAuthConsumer, params["oauth_consumer_key"])
    if consumer is None:
        raise Unauthorized("Unknown OAuth consumer.")
    return params, consumer


def create_request_token(call: Call) -> Response:
    project_id = call.headers.get("requested-project-id")
    if not project_id:
        raise BadRequest("The Requested-Project-Id header is required.")
    path = f"{BASE}/request_token"
    with identity(call).store.write() as session:
        params, consumer = _signed_by_consumer(call, session, path)
        verify(signed(call, path), params, consumer.secret)
        if params.get("oauth_callback", "oob") != "oob":
            raise BadRequest("Only out-of-band (oob) OAuth callbacks are supported.")
        project = session.get(Project, project_id)
        if project is None or project.is_domain:
            raise NotFound(f"Could not find project: {project_id}.")
        expires = utcnow() + datetime.timedelta(seconds=REQUEST_TOKEN_SECONDS)
        token = OAuthRequestToken(id=new_id(), secret=new_secret(), consumer_id=consumer.id,
                                  project_id=project.id, expires_at=expires)
        session.add(token)
    return _form(201, oauth_token=token.id, oauth_token_secret=token.secret, oauth_expires_at=iso(expires))


def authorize_request_token(call: Call) -> dict:
    authorize(call, "identity:authorize_request_token")
    ctx = call.ctx
    if ctx.trust_id or ctx.oauth_access_token_id or ctx.application_credential is not None:
        raise Forbidden("A request token must be authorized with a token the user got directly.")
    with identity(call).store.write() as session:
        token = get(session, OAuthRequestToken, call.path["request_token_id"], "request token")
        if token.expires_at is not None and token.expires_at <= utcnow():
            raise Unauthorized("The request token has expired.")
        if token.verifier is not None:
            raise Conflict("The request token is already authorized.")
        project = session.get(Project, token.project_id)
        held = assignments.implied_closure(session, assignments.project_role_ids(session, ctx.user_id, project)) \
            if project is not None else set()
        role_ids = []
        for ref in call.body["roles"]:
            role = _role(session, ref)
            if role.id not in held:
                raise Unauthorized(f"The user does not hold role {role.id} on project {token.project_id}.")
            role_ids.append(role.id)
        token.authorizing_user_id = ctx.user_id
        token.role_ids = sorted(set(role_ids))
        token.verifier = secrets.token_urlsafe(6)
        return {"token": {"oauth_verifier": token.verifier}}


def _role(session: Session, ref: dict) -> Role:
    if "id" in ref:
        role = session.get(Role, ref["id"])
    else:
        role = session.scalars(select(Role).where(Role.name == ref["name"], Role.domain_id == "")).first()
    if role is None:
        raise NotFound(f"Could not find role: {ref.get('id') or ref.get('name')}.")
    return role


def create_access_token(call: Call) -> Response:
    path = f"{BASE}/access_token"
    with identity(call).store.write() as session:
        params, consumer = _signed_by_consumer(call, session, path)
        request_token = session.get(OAuthRequestToken, params.get("oauth_token"))
        if request_token is None or request_token.consumer_id != consumer.id:
            raise Unauthorized("Unknown request token for this consumer.")
        verify(signed(call, path), params, consumer.secret, request_token.secret)
        if request_token.expires_at is not None and request_token.expires_at <= utcnow():
            raise Unauthorized("The request token has expired.")
        verifier = params.get("oauth_verifier")
        if request_token.verifier is None or verifier is None \
                or not secrets.compare_digest(verifier, request_token.verifier):
            raise Unauthorized("The request token is not authorized, or the verifier is wrong.")
        expires = utcnow() + datetime.timedelta(seconds=ACCESS_TOKEN_SECONDS)
        token = OAuthAccessToken(id=new_id(), secret=new_secret(), consumer_id=consumer.id,
                                 authorizing_user_id=request_token.authorizing_user_id,
                                 project_id=request_token.project_id, role_ids=request_token.role_ids,
                                 expires_at=expires)
        session.add(token)
        # A request token is exchanged once.
        session.delete(request_token)
    return _form(201, oauth_token=token.id, oauth_token_secret=token.secret, oauth_expires_at=iso(expires))


# -- a user's access tokens --------------------------------------------------------
def _user_tokens(call: Call) -> str:
    return f"/v3/users/{call.path['user_id']}/OS-OAUTH1/access_tokens"


def _access_view(call: Call, t: OAuthAccessToken) -> dict:
    own = f"{_user_tokens(call)}/{t.id}"
    return {"id": t.id, "consumer_id": t.consumer_id, "project_id": t.project_id,
            "authorizing_user_id": t.authorizing_user_id, "expires_at": iso(t.expires_at) if t.expires_at else None,
            "links": {"self": call.url(own), "roles": call.url(f"{own}/roles")}}


def _access_token(call: Call, session: Session) -> OAuthAccessToken:
    token = session.get(OAuthAccessToken, call.path["access_token_id"])
    if token is None or token.authorizing_user_id != call.path["user_id"]:
        raise NotFound(f"Could not find access token: {call.path['access_token_id']}.")
    return token


def list_access_tokens(call: Call) -> dict:
    authorize(call, "identity:access_tokens", {"user_id": call.path["user_id"]})
    if call.ctx.oauth_access_token_id:
        raise Forbidden("A token issued through OAuth cannot list access tokens.")
    with identity(call).store.read() as session:
        rows = session.scalars(select(OAuthAccessToken).where(
            OAuthAccessToken.authorizing_user_id == call.path["user_id"]).order_by(OAuthAccessToken.id)).all()
    return views(call).collection("access_tokens", [_access_view(call, t) for t in rows],
                                  _user_tokens(call).removeprefix("/v3/"))


def get_access_token(call: Call) -> dict:
    authorize(call, "identity:access_tokens", {"user_id": call.path["user_id"]})
    with identity(call).store.read() as session:
        return {"access_token": _access_view(call, _access_token(call, session))}


def delete_access_token(call: Call) -> Reply:
    authorize(call, "identity:delete_access_token", {"user_id": call.path["user_id"]})
    with identity(call).store.write() as session:
        session.delete(_access_token(call, session))
    return Reply(status=204)


def list_access_token_roles(call: Call) -> dict:
    authorize(call, "identity:access_tokens", {"user_id": call.path["user_id"]})
    v = views(call)
    with identity(call).store.read() as session:
        token = _access_token(call, session)
        roles = [r for r in (session.get(Role, rid) for rid in token.role_ids) if r is not None]
    return v.collection("roles", [v.role(r) for r in roles],
                        f"{_user_tokens(call).removeprefix('/v3/')}/{token.id}/roles")


def get_access_token_role(call: Call) -> dict:
    authorize(call, "identity:access_tokens", {"user_id": call.path["user_id"]})
    with identity(call).store.read() as session:
        token = _access_token(call, session)
        if call.path["role_id"] not in token.role_ids:
            raise NotFound(f"Could not find role: {call.path['role_id']}.")
        return {"role": views(call).role(get(session, Role, call.path["role_id"], "role"))}


USER_TOKENS = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
ROUTES = [
    route(f"{BASE}/consumers", "POST", create_consumer, schema=schemas.oauth_consumer_create),
    route(f"{BASE}/consumers", "GET", list_consumers),
    route(f"{BASE}/consumers/{{consumer_id}}", "GET", get_consumer),
    route(f"{BASE}/consumers/{{consumer_id}}", "PATCH", update_consumer, schema=schemas.oauth_consumer_update),
    route(f"{BASE}/consumers/{{consumer_id}}", "DELETE", delete_consumer),
    route(f"{BASE}/request_token", "POST", create_request_token),
    route(f"{BASE}/authorize/{{request_token_id}}", "PUT", authorize_request_token, schema=schemas.oauth_authorize),
    route(f"{BASE}/access_token", "POST", create_access_token),
    route(USER_TOKENS, "GET", list_access_tokens),
    route(USER_TOKENS + "/{access_token_id}", "GET", get_access_token),
    route(USER_TOKENS + "/{access_token_id}", "DELETE", delete_access_token),
    route(USER_TOKENS + "/{access_token_id}/roles", "GET", list_access_token_roles),
    route(USER_TOKENS + "/{access_token_id}/roles/{role_id}", "GET", get_access_token_role),
]
