"""Issuing, validating and revoking tokens.

Tokens are stateless Fernet tokens: validation decrypts, then checks the
token against the database as it is now (user and project still enabled,
roles still held, no revocation event).  The result is cached per token
until any identity write moves the revision, which is what makes validation
cheap without ever answering from stale state in this process.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
import time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onestack.bounded import pruned
from onestack.config import Settings
from onestack.db.base import utcnow
from onestack.http.context import Context
from onestack.services.identity.models import (
    ApplicationCredential,
    OAuthAccessToken,
    Project,
    RevocationEvent,
    Role,
    Trust,
    User,
)
from onestack.services.identity.service import held_roles
from onestack.services.identity.service.fernet import (
    BadToken,
    KeyRepository,
    Payload,
    TokenFormatter,
    new_audit_id,
)
from onestack.services.identity.service.passwords import password_expiry
from onestack.services.identity.service.transactions import Transactions
from onestack.services.identity.views import stamp

# validated tokens kept in memory (some 15 kB each with their rendered body, see onestack.bounded): the
# expired go first when it is full, then the older half; one evicted is validated from the database again
CACHE_LIMIT = 512


class InvalidToken(Exception):
    """Expired, revoked, or no longer backed by the database."""


@dataclasses.dataclass(frozen=True)
class TokenData:
    """A validated token: everything the token body and a request context need."""

    payload: Payload
    user: dict
    roles: tuple[dict, ...]
    project: dict | None
    domain: dict | None
    app_cred: dict | None
    trust: dict | None
    context: Context
    oauth: dict | None = None


class TokenService:
    def __init__(self, transactions: Transactions, settings: Settings, keys: KeyRepository):
        self.transactions = transactions
        self.settings = settings
        self.formatter = TokenFormatter(keys)
        self._cache: dict[str, tuple[int, TokenData]] = {}
        self._lock = threading.Lock()

    # -- issue -------------------------------------------------------------
    def issue(self, session: Session, user: User, methods: list[str], *, project: Project | None = None,
              domain: Project | None = None, system: bool = False, parent: Payload | None = None,
              app_cred: ApplicationCredential | None = None,
              trust: Trust | None = None,
              access_token: OAuthAccessToken | None = None) -> tuple[str, TokenData]:
        now = time.time()
        expires = now + self.settings.token_expiration
        audit_ids: tuple[str, ...] = (new_audit_id(),)
        if parent is not None:
            expires = min(expires, parent.expires_at)
            audit_ids = (audit_ids[0], parent.audit_ids[-1])
        if app_cred is not None and app_cred.expires_at is not None:
            expires = min(expires, app_cred.expires_at.timestamp())
        if access_token is not None and access_token.expires_at is not None:
            expires = min(expires, access_token.expires_at.timestamp())
        user_id = user.id
        if trust is not None:
            if trust.expires_at is not None:
                expires = min(expires, trust.expires_at.timestamp())
            # An impersonating trust gives a token that is the trustor's own.
            user_id = trust.trustor_user_id if trust.impersonation else user.id
        payload = Payload(
            user_id=user_id, methods=tuple(methods), expires_at=expires, issued_at=now, audit_ids=audit_ids,
            project_id=trust.project_id if trust else (project.id if project else None),
            domain_id=domain.id if domain else None, system="all" if system else None,
            app_cred_id=app_cred.id if app_cred else None, trust_id=trust.id if trust else None,
            access_token_id=access_token.id if access_token else None,
        )
        token = self.formatter.encode(payload)
        return token, self._resolve(session, payload, token)

    # -- validate ----------------------------------------------------------
    def validate(self, token: str, *, allow_expired: bool = False) -> TokenData:
        revision = self.transactions.revision()
        cached = self._cache.get(token)
        if cached is not None and cached[0] == revision:
            data = cached[1]
        else:
            try:
                payload = self.formatter.decode(token)
            except BadToken:
                raise InvalidToken() from None
            with self.transactions.read() as session:
                data = self._resolve(session, payload, token)
            with self._lock:
                self._cache = pruned(self._cache, CACHE_LIMIT, self._unexpired)
                self._cache[token] = (revision, data)
        window = self.settings.allow_expired_window if allow_expired else 0
        if data.payload.expires_at + window <= time.time():
            raise InvalidToken()
        return data

    def _unexpired(self, entry: tuple[int, TokenData]) -> bool:
        return entry[1].payload.expires_at + self.settings.allow_expired_window > time.time()

    def peek(self, token: str) -> TokenData | None:
        """A validation answered from memory alone, or None when it needs the database."""
        revision = self.transactions.fresh_revision()
        cached = self._cache.get(token)
        if revision is None or cached is None or cached[0] != revision:
            return None
        data = cached[1]
        return data if data.payload.expires_at > time.time() else None

    def _resolve(self, session: Session, p: Payload, token: str) -> TokenData:
        user = session.get(User, p.user_id)
        if user is None or not user.enabled:
            raise InvalidToken()
        user_domain = session.get(Project, user.domain_id)
        if user_domain is None or not user_domain.enabled:
            raise InvalidToken()
        if self._revoked(session, p):
            raise InvalidToken()
        app_cred = None
        if p.app_cred_id:
            app_cred = session.get(ApplicationCredential, p.app_cred_id)
            if app_cred is None:
                raise InvalidToken()
        access_token = None
        if p.access_token_id:
            # An OAuth-delegated token lives only as long as the access token it came from.
            access_token = session.get(OAuthAccessToken, p.access_token_id)
            if access_token is None or (access_token.expires_at is not None and access_token.expires_at <= utcnow()):
                raise InvalidToken()
        project = domain = trust = None
        role_ids: set[str] = set()
        if p.trust_id:
            trust, project, role_ids = self._trust_scope(session, p)
        elif p.project_id:
            project = session.get(Project, p.project_id)
            if project is None or not project.enabled or project.is_domain:
                raise InvalidToken()
            owner = session.get(Project, project.domain_id)
            if owner is None or not owner.enabled:
                raise InvalidToken()
            role_ids = held_roles.project_role_ids(session, user.id, project)
        elif p.domain_id:
            domain = session.get(Project, p.domain_id)
            if domain is None or not domain.enabled or not domain.is_domain:
                raise InvalidToken()
            role_ids = held_roles.domain_role_ids(session, user.id, domain.id)
        elif p.system:
            role_ids = held_roles.system_role_ids(session, user.id)
        roles = held_roles.effective_roles(session, role_ids)
        for limit in (app_cred, trust, access_token):
            if limit is not None:
                granted = held_roles.implied_closure(session, set(limit.role_ids))
                roles = [r for r in roles if r.id in granted]
        if (project or domain or p.system) and not roles:
            raise InvalidToken()
        return self._build(session, p, token, user, user_domain, project, domain, roles, app_cred, trust,
                           access_token)

    @staticmethod
    def _trust_scope(session: Session, p: Payload) -> tuple[Trust, Project, set[str]]:
        """A trust token holds the trust's roles that the trustor still has on the trust's project."""
        trust = session.get(Trust, p.trust_id)
        if trust is None or (trust.expires_at is not None and trust.expires_at <= utcnow()):
            raise InvalidToken()
        for party in (trust.trustor_user_id, trust.trustee_user_id):
            row = session.get(User, party)
            if row is None or not row.enabled:
                raise InvalidToken()
        project = session.get(Project, trust.project_id) if trust.project_id else None
        if project is None or not project.enabled:
            raise InvalidToken()
        return trust, project, held_roles.project_role_ids(session, trust.trustor_user_id, project)

    def _build(self, session, p, token, user, user_domain, project, domain, roles: list[Role],
               app_cred, trust, access_token=None) -> TokenData:
        user_view = {
            "id": user.id, "name": user.name,
            "domain": {"id": user_domain.id, "name": user_domain.name},
            "password_expires_at": stamp(password_expiry(session, user)),
        }
        role_views = tuple({"id": r.id, "name": r.name} for r in roles)
        project_view = domain_view = None
        if project is not None:
            owner = session.get(Project, project.domain_id)
            project_view = {"id": project.id, "name": project.name,
                            "domain": {"id": owner.id, "name": owner.name}}
        if domain is not None:
            domain_view = {"id": domain.id, "name": domain.name}
        cred_view = None
        if app_cred is not None:
            cred_view = {"id": app_cred.id, "name": app_cred.name, "restricted": not app_cred.unrestricted}
        trust_view = None
        if trust is not None:
            trust_view = {"id": trust.id, "impersonation": trust.impersonation,
                          "trustor_user": {"id": trust.trustor_user_id},
                          "trustee_user": {"id": trust.trustee_user_id}}
        ctx = Context(
            user_id=user.id, user_name=user.name, user_domain_id=user.domain_id,
            roles=frozenset(r["name"] for r in role_views), role_ids=frozenset(r["id"] for r in role_views),
            project_id=p.project_id, project_name=project.name if project else None,
            project_domain_id=project.domain_id if project else None, domain_id=p.domain_id,
            system_scope=p.system, audit_ids=p.audit_ids, methods=p.methods, application_credential=cred_view,
            trust_id=p.trust_id, oauth_access_token_id=p.access_token_id, token=token, expires_at=p.expires_at,
            issued_at=p.issued_at,
        )
        oauth_view = None
        if access_token is not None:
            oauth_view = {"access_token_id": access_token.id, "consumer_id": access_token.consumer_id}
        return TokenData(p, user_view, role_views, project_view, domain_view, cred_view, trust_view, ctx,
                         oauth_view)

    @staticmethod
    def _revoked(session: Session, p: Payload) -> bool:
        issued = datetime.datetime.fromtimestamp(p.issued_at, datetime.UTC)
        own_audit = p.audit_ids[0]
        matches = [RevocationEvent.audit_id == own_audit, RevocationEvent.user_id == p.user_id]
        if p.project_id:
            matches.append(RevocationEvent.project_id == p.project_id)
        if p.domain_id:
            matches.append(RevocationEvent.domain_id == p.domain_id)
        events = session.scalars(
            select(RevocationEvent).where(RevocationEvent.issued_before >= issued, or_(*matches))
        )
        for ev in events:
            if ev.audit_id and ev.audit_id != own_audit:
                continue
            if ev.user_id and ev.user_id != p.user_id:
                continue
            if ev.project_id and ev.project_id != p.project_id:
                continue
            if ev.domain_id and ev.domain_id != p.domain_id:
                continue
            return True
        return False

    # -- revoke ------------------------------------------------------------
    def revoke_token(self, data: TokenData) -> None:
        """DELETE /v3/auth/tokens: this one token stops working (its own audit id is revoked)."""
        with self.transactions.write() as session:
            self.revoke(session, audit_id=data.payload.audit_ids[0])

    @staticmethod
    def revoke(session: Session, *, audit_id: str | None = None, user_id: str | None = None,
               project_id: str | None = None, domain_id: str | None = None) -> None:
        """Record a revocation event; the caller's transaction moves the revision."""
        session.add(RevocationEvent(audit_id=audit_id, user_id=user_id, project_id=project_id,
                                    domain_id=domain_id, issued_before=utcnow()))
