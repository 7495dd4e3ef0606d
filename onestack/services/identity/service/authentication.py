"""POST /v3/auth/tokens: who the caller is (methods) and what the token is for (scope)."""

from __future__ import annotations

import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestack.config import SecurityCompliance
from onestack.db.base import utcnow
from onestack.http.errors import BadRequest, Forbidden, NotFound, Unauthorized
from onestack.services.identity.models import (
    ApplicationCredential,
    OAuthAccessToken,
    OAuthConsumer,
    Password,
    Project,
    Trust,
    User,
)
from onestack.services.identity.service import held_roles
from onestack.services.identity.service.fernet import Payload
from onestack.services.identity.service.oauth_signature import SignedRequest, verify
from onestack.services.identity.service.passwords import check_password, check_secret
from onestack.services.identity.service.tokens import InvalidToken, TokenData, TokenService
from onestack.services.identity.service.transactions import Transactions

SUPPORTED_METHODS = ("password", "token", "application_credential", "oauth1")


class WrongPassword(Unauthorized):
    """A known user gave a wrong password: the failure is recorded in a transaction of its own."""

    def __init__(self, user_id: str):
        super().__init__()
        self.user_id = user_id


class Authenticated:
    """What the identity methods established, before scoping."""

    def __init__(self, user: User, methods: list[str], parent: Payload | None = None,
                 app_cred: ApplicationCredential | None = None, access_token: OAuthAccessToken | None = None):
        self.user = user
        self.access_token = access_token
        self.methods = methods
        self.parent = parent
        self.app_cred = app_cred
        self.had_failures = bool(user.failed_auth_count)


def find_domain(session: Session, ref: dict) -> Project:
    if "id" in ref:
        domain = session.get(Project, ref["id"])
    elif "name" in ref:
        domain = session.scalars(select(Project).where(Project.is_domain, Project.name == ref["name"])).first()
    else:
        raise BadRequest("A domain needs an id or a name.")
    if domain is None or not domain.is_domain:
        raise Unauthorized("Could not find domain.")
    return domain


def find_user(session: Session, ref: dict) -> User:
    if "id" in ref:
        user = session.get(User, ref["id"])
    elif "name" in ref:
        if "domain" not in ref:
            raise BadRequest("A user given by name needs its domain.")
        domain = find_domain(session, ref["domain"])
        user = session.scalars(select(User).where(User.domain_id == domain.id, User.name == ref["name"])).first()
    else:
        raise BadRequest("A user needs an id or a name.")
    if user is None:
        raise Unauthorized("The request you have made requires authentication.")
    return user


class Authenticator:
    def __init__(self, transactions: Transactions, tokens: TokenService, compliance: SecurityCompliance):
        self.transactions = transactions
        self.tokens = tokens
        self.rules = compliance

    def authenticate(self, auth: dict, signed: SignedRequest | None) -> TokenData:
        """POST /v3/auth/tokens: prove who the caller is, then issue the token for the scope asked.

        Lockout bookkeeping and a trust's use count are written after the read that decided."""
        scope = auth.get("scope")
        unscoped = scope == "unscoped"
        try:
            with self.transactions.read() as session:
                who = self.identify(session, auth["identity"], signed)
                data = self.scope(session, who, None if unscoped else scope, unscoped=unscoped)
        except WrongPassword as failed:
            with self.transactions.write() as session:
                self._record_failure(session, failed.user_id)
            raise Unauthorized() from None
        if who.had_failures:
            with self.transactions.write() as session:
                self._clear_failures(session, who.user.id)
        if data.context.trust_id:
            with self.transactions.write() as session:
                self._consume_trust(session, data.context.trust_id)
        return data

    def identify(self, session: Session, identity: dict, signed: SignedRequest | None = None) -> Authenticated:
        """``signed``: the request itself, for the oauth1 method, whose proof is its signature."""
        methods = identity["methods"]
        unknown = [m for m in methods if m not in SUPPORTED_METHODS]
        if unknown:
            raise Unauthorized(f"Attempted to authenticate with an unsupported method: {unknown[0]}.")
        found: Authenticated | None = None
        for method in methods:
            if method not in identity:
                raise BadRequest(f"Missing the '{method}' section for an auth method it lists.")
            if method == "oauth1":
                result = self._oauth1(session, signed)
            else:
                result = getattr(self, f"_{method}")(session, identity[method])
            if found is not None and found.user.id != result.user.id:
                raise Unauthorized("Auth methods name different users.")
            found = result if found is None else found
            if result.parent is not None:
                found.parent = result.parent
            if result.app_cred is not None:
                found.app_cred = result.app_cred
            if result.access_token is not None:
                found.access_token = result.access_token
        assert found is not None
        found.methods = list(dict.fromkeys([*(found.parent.methods if found.parent else ()), *methods]))
        return found

    def _password(self, session: Session, section: dict) -> Authenticated:
        ref = section.get("user")
        if not isinstance(ref, dict) or "password" not in ref:
            raise BadRequest("The password method needs a user and a password.")
        user = find_user(session, ref)
        self._check_user_usable(session, user)
        self._check_lockout(user)
        current = self._current_password(session, user)
        if not check_password(ref["password"], current.hash if current else None):
            raise WrongPassword(user.id)
        if current is not None and current.expires_at and current.expires_at <= utcnow() \
                and not (user.options or {}).get("ignore_password_expiry"):
            raise Unauthorized(f"The password is expired and needs to be changed for user: {user.id}.")
        return Authenticated(user, ["password"])

    def _token(self, session: Session, section: dict) -> Authenticated:
        token = section.get("id")
        if not isinstance(token, str):
            raise BadRequest("The token method needs the token's id.")
        try:
            data = self.tokens.validate(token)
        except InvalidToken:
            # Keystone answers 404 here: the token to build on is not found, the caller is not refused.
            raise NotFound("Could not find token.") from None
        if data.payload.app_cred_id:
            raise Unauthorized("A token from an application credential cannot be used to get another token.")
        if data.payload.trust_id:
            raise Forbidden("A trust-scoped token cannot be used to get another token.")
        if data.payload.access_token_id:
            raise Forbidden("An OAuth-delegated token cannot be used to get another token; sign a new request.")
        user = session.get(User, data.payload.user_id)
        self._check_user_usable(session, user)
        return Authenticated(user, ["token"], parent=data.payload)

    def _application_credential(self, session: Session, section: dict) -> Authenticated:
        secret = section.get("secret")
        if not isinstance(secret, str):
            raise BadRequest("An application credential needs its secret.")
        if "id" in section:
            cred = session.get(ApplicationCredential, section["id"])
        elif "name" in section and isinstance(section.get("user"), dict):
            user = find_user(session, section["user"])
            cred = session.scalars(select(ApplicationCredential).where(
                ApplicationCredential.user_id == user.id, ApplicationCredential.name == section["name"])).first()
        else:
            raise BadRequest("An application credential needs an id, or a name and its user.")
        if cred is None or not check_secret(secret, cred.secret_hash):
            raise Unauthorized("The request you have made requires authentication.")
        user = self._delegating_user(session, cred.expires_at, "application credential", cred.user_id)
        return Authenticated(user, ["application_credential"], app_cred=cred)

    def _oauth1(self, session: Session, signed: SignedRequest | None) -> Authenticated:
        """A consumer proves itself and its access token by signing this very request with both secrets."""
        if signed is None:
            raise Unauthorized("The oauth1 method needs a signed request.")
        params = signed.params()
        token = session.get(OAuthAccessToken, params.get("oauth_token"))
        consumer = session.get(OAuthConsumer, params["oauth_consumer_key"])
        if token is None or consumer is None or token.consumer_id != consumer.id:
            raise Unauthorized("Unknown OAuth access token for this consumer.")
        verify(signed, params, consumer.secret, token.secret)
        user = self._delegating_user(session, token.expires_at, "OAuth access token", token.authorizing_user_id)
        return Authenticated(user, ["oauth1"], access_token=token)

    def _delegating_user(self, session: Session, expires_at, what: str, user_id: str) -> User:
        """The user an application credential or OAuth access token acts for, while it lasts."""
        if expires_at is not None and expires_at <= utcnow():
            raise Unauthorized(f"The {what} has expired.")
        user = session.get(User, user_id)
        self._check_user_usable(session, user)
        return user

    def _check_user_usable(self, session: Session, user: User | None) -> None:
        if user is None or not user.enabled:
            raise Unauthorized("The request you have made requires authentication.")
        domain = session.get(Project, user.domain_id)
        if domain is None or not domain.enabled:
            raise Unauthorized("The request you have made requires authentication.")

    @staticmethod
    def _current_password(session: Session, user: User) -> Password | None:
        return session.scalars(
            select(Password).where(Password.user_id == user.id).order_by(Password.id.desc()).limit(1)
        ).first()

    def _check_lockout(self, user: User) -> None:
        attempts = self.rules.lockout_failure_attempts
        if not attempts or (user.options or {}).get("ignore_lockout_failure_attempts"):
            return
        if user.failed_auth_count >= attempts and user.failed_auth_at is not None:
            until = user.failed_auth_at + datetime.timedelta(seconds=self.rules.lockout_duration)
            if utcnow() < until:
                raise Unauthorized(f"The account is locked for user: {user.id}.")

    def _record_failure(self, session: Session, user_id: str) -> None:
        user = session.get(User, user_id)
        if user is None or not self.rules.lockout_failure_attempts:
            return
        expired = user.failed_auth_at is not None and utcnow() >= user.failed_auth_at + datetime.timedelta(
            seconds=self.rules.lockout_duration)
        user.failed_auth_count = 1 if expired else (user.failed_auth_count or 0) + 1
        user.failed_auth_at = utcnow()

    @staticmethod
    def _clear_failures(session: Session, user_id: str) -> None:
        user = session.get(User, user_id)
        if user is not None:
            user.failed_auth_count = 0
            user.failed_auth_at = None

    def scope(self, session: Session, who: Authenticated, scope: dict | None, *, unscoped: bool) -> TokenData:
        """Issue the token for the requested scope (or the default project)."""
        user, kwargs = who.user, {}
        if who.access_token is not None:
            # The access token fixes the project; a scope in the request cannot widen it.
            kwargs["project"] = self._project(session, {"id": who.access_token.project_id})
            kwargs["access_token"] = who.access_token
        elif who.app_cred is not None:
            project = session.get(Project, who.app_cred.project_id)
            if scope and "project" in scope and self._project(session, scope["project"]).id != project.id:
                raise Unauthorized("An application credential is bound to its own project.")
            if scope and ("domain" in scope or "system" in scope):
                raise Unauthorized("An application credential is bound to its own project.")
            kwargs["project"] = project
        elif scope:
            if "project" in scope:
                kwargs["project"] = self._project(session, scope["project"])
            elif "domain" in scope:
                kwargs["domain"] = find_domain(session, scope["domain"])
            elif "system" in scope:
                if scope["system"] != {"all": True}:
                    raise BadRequest("Only system scope 'all' exists.")
                kwargs["system"] = True
            elif "OS-TRUST:trust" in scope:
                kwargs["trust"] = self._trust(session, user, scope["OS-TRUST:trust"])
        elif not unscoped and who.parent is None and user.default_project_id:
            project = session.get(Project, user.default_project_id)
            if project is not None and project.enabled and held_roles.project_role_ids(session, user.id, project):
                kwargs["project"] = project
        elif who.parent is not None and not scope:
            # Re-authenticating with a token and no scope keeps it unscoped (Keystone refuses to rescope here).
            pass
        try:
            token, data = self.tokens.issue(session, user, who.methods, parent=who.parent,
                                            app_cred=who.app_cred, **kwargs)
        except InvalidToken:
            raise Unauthorized(self._no_roles_message(user, kwargs)) from None
        return data

    @staticmethod
    def _trust(session: Session, user: User, ref) -> Trust:
        trust = session.get(Trust, ref.get("id")) if isinstance(ref, dict) else None
        if trust is None:
            raise NotFound(f"Could not find trust: {ref}.")
        if trust.trustee_user_id != user.id:
            raise Forbidden("Only the trustee may use a trust.")
        if trust.expires_at is not None and trust.expires_at <= utcnow():
            raise Unauthorized(f"Trust {trust.id} has expired.")
        if trust.remaining_uses is not None and trust.remaining_uses <= 0:
            raise Forbidden(f"Trust {trust.id} has no uses left.")
        return trust

    @staticmethod
    def _consume_trust(session: Session, trust_id: str) -> None:
        """Count one use of a trust with limited uses; the guarded update keeps racing callers honest."""
        limited = Trust.remaining_uses.is_not(None)
        result = session.execute(update(Trust).where(Trust.id == trust_id, limited, Trust.remaining_uses > 0)
                                 .values(remaining_uses=Trust.remaining_uses - 1))
        if result.rowcount == 0 and session.scalar(select(Trust.id).where(Trust.id == trust_id, limited)):
            raise Forbidden(f"Trust {trust_id} has no uses left.")

    @staticmethod
    def _no_roles_message(user: User, scope: dict) -> str:
        if "project" in scope:
            return f"User {user.id} has no access to project {scope['project'].id}"
        if "domain" in scope:
            return f"User {user.id} has no access to domain {scope['domain'].id}"
        return f"User {user.id} has no access to the system"

    @staticmethod
    def _project(session: Session, ref: dict) -> Project:
        if "id" in ref:
            project = session.get(Project, ref["id"])
        elif "name" in ref and "domain" in ref:
            domain = find_domain(session, ref["domain"])
            project = session.scalars(select(Project).where(
                Project.domain_id == domain.id, Project.name == ref["name"], Project.is_domain.is_(False))).first()
        else:
            raise BadRequest("A project needs an id, or a name and its domain.")
        if project is None or project.is_domain:
            raise Unauthorized("Could not find the project to scope to.")
        if not project.enabled:
            raise Unauthorized(f"Project {project.id} is disabled.")
        return project
