"""The identity service object the rest of onestack holds: store, tokens,
authentication and the catalog, built once per process."""

from __future__ import annotations

from sqlalchemy import select

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import Unauthorized
from onestack.services.identity.authentication import Authenticator
from onestack.services.identity.endpoint_filter import project_endpoint_ids
from onestack.services.identity.fernet import KeyRepository
from onestack.services.identity.models import CatalogService, Endpoint, Limit, RegisteredLimit
from onestack.services.identity.store import IdentityStore
from onestack.services.identity.tokens import InvalidToken, TokenData, TokenService, iso


class IdentityService:
    def __init__(self, db: Database, settings: Settings):
        self.settings = settings
        self.store = IdentityStore(db)
        self.keys = KeyRepository(settings.data_dir / "fernet-keys")
        self.tokens = TokenService(self.store, settings, self.keys)
        self.authenticator = Authenticator(self.tokens, settings.security_compliance)
        self._catalog: tuple[int, list] | None = None
        self._filters: tuple[int, dict[str, set[str] | None]] = (-1, {})

    def effective_limit(self, service_type: str, resource: str, project_id: str) -> int | None:
        """Unified limits as a service enforces them: the project's own limit, else the registered default;
        None when neither exists (the resource is then not limited), -1 meaning unlimited."""
        with self.store.read() as session:
            services = select(CatalogService.id).where(CatalogService.type == service_type)
            own = session.scalars(select(Limit.resource_limit).where(
                Limit.service_id.in_(services), Limit.resource_name == resource,
                Limit.target_id == project_id)).first()
            if own is not None:
                return own
            return session.scalars(select(RegisteredLimit.default_limit).where(
                RegisteredLimit.service_id.in_(services), RegisteredLimit.resource_name == resource)).first()

    def peek_context(self, token: str) -> Context | None:
        data = self.tokens.peek(token)
        return data.context if data is not None else None

    def context(self, token: str) -> Context:
        try:
            return self.tokens.validate(token).context
        except InvalidToken:
            raise Unauthorized() from None

    def catalog(self, project_id: str | None = None) -> list[dict]:
        """The catalog as a token for ``project_id`` sees it (``$(project_id)s`` filled in, or left out)."""
        raw = self._raw_catalog()
        allowed = self._allowed_endpoints(project_id) if project_id else None
        return [{**s, "endpoints": [e for e in (_for_project(e, project_id) for e in s["endpoints"])
                                    if e and (allowed is None or e["id"] in allowed)]}
                for s in raw]

    def cached_catalog(self, project_id: str | None) -> list[dict] | None:
        """The catalog if every part of it is cached for the current revision, else None (no I/O)."""
        revision = self.store.fresh_revision()
        if revision is None or self._catalog is None or self._catalog[0] != revision:
            return None
        if project_id and (self._filters[0] != revision or project_id not in self._filters[1]):
            return None
        return self.catalog(project_id)

    def _allowed_endpoints(self, project_id: str) -> set[str] | None:
        revision = self.store.revision()
        if self._filters[0] != revision:
            self._filters = (revision, {})
        cache = self._filters[1]
        if project_id not in cache:
            with self.store.read() as session:
                cache[project_id] = project_endpoint_ids(session, project_id)
        return cache[project_id]

    def _raw_catalog(self) -> list[dict]:
        revision = self.store.revision()
        if self._catalog is None or self._catalog[0] != revision:
            with self.store.read() as session:
                services = session.scalars(select(CatalogService).where(CatalogService.enabled)).all()
                endpoints = session.scalars(select(Endpoint).where(Endpoint.enabled)).all()
            by_service: dict[str, list] = {}
            for e in endpoints:
                by_service.setdefault(e.service_id, []).append(
                    {"id": e.id, "interface": e.interface, "region": e.region_id, "region_id": e.region_id,
                     "url": e.url})
            catalog = [
                {"id": s.id, "type": s.type, "name": (s.extra or {}).get("name", ""),
                 "endpoints": by_service.get(s.id, [])}
                for s in services
            ]
            self._catalog = (revision, catalog)
        return self._catalog[1]

    def token_body(self, data: TokenData, catalog: list[dict] | None) -> dict:
        """The token as Keystone shows it; ``catalog`` is None when the caller asked for none."""
        p = data.payload
        body: dict = {
            "methods": list(p.methods), "user": data.user, "audit_ids": list(p.audit_ids),
            "expires_at": iso(p.expires_at), "issued_at": iso(p.issued_at),
        }
        if data.project is not None:
            body["project"] = data.project
            body["is_domain"] = False
        elif data.domain is not None:
            body["domain"] = data.domain
        elif p.system:
            body["system"] = {"all": True}
        if data.project is not None or data.domain is not None or p.system:
            body["roles"] = list(data.roles)
            if catalog is not None:
                body["catalog"] = catalog
        if data.app_cred is not None:
            body["application_credential"] = data.app_cred
        if data.trust is not None:
            body["OS-TRUST:trust"] = data.trust
        if data.oauth is not None:
            body["OS-OAUTH1"] = data.oauth
        return {"token": body}


def _for_project(endpoint: dict, project_id: str | None) -> dict | None:
    url = endpoint["url"]
    if "$(project_id)s" not in url and "$(tenant_id)s" not in url:
        return endpoint
    if project_id is None:
        return None
    return {**endpoint, "url": url.replace("$(project_id)s", project_id).replace("$(tenant_id)s", project_id)}
