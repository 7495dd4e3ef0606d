"""The identity service the rest of onestack holds, built once per process: one object per family of
resources, all sharing the transactions (and the revision that keeps their caches honest) and the tokens.
Other services see only what ``public.Identity`` names."""

from __future__ import annotations

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import Unauthorized
from onestack.services.identity.service.application_credentials import ApplicationCredentials
from onestack.services.identity.service.assignments import Assignments
from onestack.services.identity.service.authentication import Authenticator
from onestack.services.identity.service.catalog import Catalog
from onestack.services.identity.service.credentials import Credentials
from onestack.services.identity.service.domain_config import DomainConfigs
from onestack.services.identity.service.endpoint_filter import EndpointFilter
from onestack.services.identity.service.fernet import KeyRepository
from onestack.services.identity.service.grants import Grants
from onestack.services.identity.service.groups import Groups
from onestack.services.identity.service.limits import Limits
from onestack.services.identity.service.oauth1 import OAuth1
from onestack.services.identity.service.policy_blobs import PolicyBlobs
from onestack.services.identity.service.projects import Projects
from onestack.services.identity.service.roles import Roles
from onestack.services.identity.service.tokens import InvalidToken, TokenService
from onestack.services.identity.service.transactions import POLL_SECONDS, Transactions
from onestack.services.identity.service.trusts import Trusts
from onestack.services.identity.service.users import Users


class IdentityService:
    def __init__(self, db: Database, settings: Settings):
        self.settings = settings
        self.transactions = Transactions(db, 0.0 if settings.workers > 1 else POLL_SECONDS)
        self.keys = KeyRepository(settings.data_dir / "fernet-keys")
        self.tokens = TokenService(self.transactions, settings, self.keys)
        self.authenticator = Authenticator(self.transactions, self.tokens, settings.security_compliance)
        self.catalog = Catalog(self.transactions)
        self.projects = Projects(self.transactions, self.tokens)
        self.users = Users(self.transactions, self.tokens, settings)
        self.groups = Groups(self.transactions)
        self.roles = Roles(self.transactions)
        self.grants = Grants(self.transactions)
        self.assignments = Assignments(self.transactions)
        self.app_creds = ApplicationCredentials(self.transactions)
        self.credentials = Credentials(self.transactions)
        self.trusts = Trusts(self.transactions)
        self.oauth1 = OAuth1(self.transactions)
        self.limits = Limits(self.transactions)
        self.domain_configs = DomainConfigs(self.transactions)
        self.endpoint_filter = EndpointFilter(self.transactions)
        self.policy_blobs = PolicyBlobs(self.transactions)

    # -- what other services use (public.Identity) -------------------------------------
    def effective_limit(self, service_type: str, resource: str, project_id: str) -> int | None:
        return self.limits.effective(service_type, resource, project_id)

    def peek_context(self, token: str) -> Context | None:
        data = self.tokens.peek(token)
        return data.context if data is not None else None

    def ec2_credential(self, access: str) -> tuple[str, Context] | None:
        return self.credentials.ec2_caller(self.tokens, access)

    def context(self, token: str) -> Context:
        try:
            return self.tokens.validate(token).context
        except InvalidToken:
            raise Unauthorized() from None
