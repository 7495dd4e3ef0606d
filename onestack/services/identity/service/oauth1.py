"""OS-OAUTH1: consumers, and the three-legged flow that lets one act for a user on a project.

A consumer gets a request token for a project (signed with its secret), a user with roles there
authorizes it with some of them and hands the verifier back, the consumer swaps the authorized request
token for an access token, then signs ``POST /v3/auth/tokens`` (method ``oauth1``) with it to get tokens
that carry only those roles.  Deleting the access token or its consumer ends every such token.
"""

from __future__ import annotations

import datetime
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id, utcnow
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from onestack.services.identity.models import (
    OAuthAccessToken,
    OAuthConsumer,
    OAuthRequestToken,
    Project,
    Role,
)
from onestack.services.identity.service import held_roles
from onestack.services.identity.service.oauth_signature import SignedRequest, new_secret, verify
from onestack.services.identity.service.rows import (
    deleted,
    extra_attributes,
    get,
    listed,
    merge_extra,
    one,
    owned,
)
from onestack.services.identity.service.transactions import Transactions

# Keystone's default lifetimes.
REQUEST_TOKEN_SECONDS = 8 * 3600
ACCESS_TOKEN_SECONDS = 24 * 3600


def _signed_by_consumer(session: Session, req: SignedRequest) -> tuple[dict, OAuthConsumer]:
    params = req.params()
    consumer = session.get(OAuthConsumer, params["oauth_consumer_key"])
    if consumer is None:
        raise Unauthorized("Unknown OAuth consumer.")
    return params, consumer


def _role(session: Session, ref: dict) -> Role:
    if "id" in ref:
        role = session.get(Role, ref["id"])
    else:
        role = session.scalars(select(Role).where(Role.name == ref["name"], Role.domain_id == "")).first()
    if role is None:
        raise NotFound(f"Could not find role: {ref.get('id') or ref.get('name')}.")
    return role


def _access_token(session: Session, user_id: str, token_id: str) -> OAuthAccessToken:
    return owned(session, OAuthAccessToken, token_id, user_id, "access token", owner="authorizing_user_id")


class OAuth1:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    # -- consumers -----------------------------------------------------------------
    def create_consumer(self, body: dict) -> OAuthConsumer:
        with self.transactions.write() as session:
            row = OAuthConsumer(id=new_id(), secret=new_secret(), description=body.get("description"),
                                extra=extra_attributes(body, ("description",)))
            session.add(row)
        return row

    def consumers(self) -> list[OAuthConsumer]:
        return listed(self.transactions, select(OAuthConsumer).order_by(OAuthConsumer.id))

    def consumer(self, consumer_id: str) -> OAuthConsumer:
        return one(self.transactions, OAuthConsumer, consumer_id, "consumer")

    def update_consumer(self, consumer_id: str, body: dict) -> OAuthConsumer:
        with self.transactions.write() as session:
            row = get(session, OAuthConsumer, consumer_id, "consumer")
            if "description" in body:
                row.description = body["description"]
            merge_extra(row, body, ("description",))
        return row

    def delete_consumer(self, consumer_id: str) -> None:
        # Its request and access tokens go with it (foreign keys), and so every token issued through them.
        deleted(self.transactions, OAuthConsumer, consumer_id, "consumer")

    # -- the flow ------------------------------------------------------------------
    def request_token(self, req: SignedRequest, project_id: str | None) -> OAuthRequestToken:
        if not project_id:
            raise BadRequest("The Requested-Project-Id header is required.")
        with self.transactions.write() as session:
            params, consumer = _signed_by_consumer(session, req)
            verify(req, params, consumer.secret)
            if params.get("oauth_callback", "oob") != "oob":
                raise BadRequest("Only out-of-band (oob) OAuth callbacks are supported.")
            project = session.get(Project, project_id)
            if project is None or project.is_domain:
                raise NotFound(f"Could not find project: {project_id}.")
            token = OAuthRequestToken(id=new_id(), secret=new_secret(), consumer_id=consumer.id,
                                      project_id=project.id,
                                      expires_at=utcnow() + datetime.timedelta(seconds=REQUEST_TOKEN_SECONDS))
            session.add(token)
        return token

    def authorize_request_token(self, ctx: Context, token_id: str, roles: list[dict]) -> str:
        """The user lends some of their roles on the token's project; the verifier goes back to the consumer."""
        if ctx.trust_id or ctx.oauth_access_token_id or ctx.application_credential is not None:
            raise Forbidden("A request token must be authorized with a token the user got directly.")
        with self.transactions.write() as session:
            token = get(session, OAuthRequestToken, token_id, "request token")
            if token.expires_at is not None and token.expires_at <= utcnow():
                raise Unauthorized("The request token has expired.")
            if token.verifier is not None:
                raise Conflict("The request token is already authorized.")
            project = session.get(Project, token.project_id)
            held = held_roles.implied_closure(session, held_roles.project_role_ids(session, ctx.user_id, project)) \
                if project is not None else set()
            role_ids = []
            for ref in roles:
                role = _role(session, ref)
                if role.id not in held:
                    raise Unauthorized(f"The user does not hold role {role.id} on project {token.project_id}.")
                role_ids.append(role.id)
            token.authorizing_user_id = ctx.user_id
            token.role_ids = sorted(set(role_ids))
            token.verifier = secrets.token_urlsafe(6)
            return token.verifier

    def access_token(self, req: SignedRequest) -> OAuthAccessToken:
        """An authorized request token exchanged, once, for an access token."""
        with self.transactions.write() as session:
            params, consumer = _signed_by_consumer(session, req)
            request_token = session.get(OAuthRequestToken, params.get("oauth_token"))
            if request_token is None or request_token.consumer_id != consumer.id:
                raise Unauthorized("Unknown request token for this consumer.")
            verify(req, params, consumer.secret, request_token.secret)
            if request_token.expires_at is not None and request_token.expires_at <= utcnow():
                raise Unauthorized("The request token has expired.")
            verifier = params.get("oauth_verifier")
            if request_token.verifier is None or verifier is None \
                    or not secrets.compare_digest(verifier, request_token.verifier):
                raise Unauthorized("The request token is not authorized, or the verifier is wrong.")
            token = OAuthAccessToken(id=new_id(), secret=new_secret(), consumer_id=consumer.id,
                                     authorizing_user_id=request_token.authorizing_user_id,
                                     project_id=request_token.project_id, role_ids=request_token.role_ids,
                                     expires_at=utcnow() + datetime.timedelta(seconds=ACCESS_TOKEN_SECONDS))
            session.add(token)
            session.delete(request_token)
        return token

    # -- a user's access tokens ----------------------------------------------------------
    def access_tokens(self, ctx: Context, user_id: str) -> list[OAuthAccessToken]:
        if ctx.oauth_access_token_id:
            raise Forbidden("A token issued through OAuth cannot list access tokens.")
        return listed(self.transactions, select(OAuthAccessToken).where(
            OAuthAccessToken.authorizing_user_id == user_id).order_by(OAuthAccessToken.id))

    def get_access_token(self, user_id: str, token_id: str) -> OAuthAccessToken:
        with self.transactions.read() as session:
            return _access_token(session, user_id, token_id)

    def delete_access_token(self, user_id: str, token_id: str) -> None:
        with self.transactions.write() as session:
            session.delete(_access_token(session, user_id, token_id))

    def access_token_roles(self, user_id: str, token_id: str) -> tuple[OAuthAccessToken, list[Role]]:
        with self.transactions.read() as session:
            token = _access_token(session, user_id, token_id)
            return token, [r for r in (session.get(Role, rid) for rid in token.role_ids) if r is not None]

    def access_token_role(self, user_id: str, token_id: str, role_id: str) -> Role:
        with self.transactions.read() as session:
            token = _access_token(session, user_id, token_id)
            if role_id not in token.role_ids:
                raise NotFound(f"Could not find role: {role_id}.")
            return get(session, Role, role_id, "role")
