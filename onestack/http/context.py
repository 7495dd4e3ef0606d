"""Who is calling: what every policy check and every service reads."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Context:
    user_id: str
    user_domain_id: str
    roles: frozenset[str]
    project_id: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system_scope: str | None = None
    user_name: str = ""
    project_name: str | None = None
    role_ids: frozenset[str] = frozenset()
    audit_ids: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    application_credential: dict | None = None
    trust_id: str | None = None
    oauth_access_token_id: str | None = None
    token: str = dataclasses.field(default="", repr=False)
    expires_at: float = 0.0
    issued_at: float = 0.0

    @property
    def is_system(self) -> bool:
        return self.system_scope == "all"

    @property
    def is_admin(self) -> bool:
        """Keystone's default policies still treat any admin role as cloud admin."""
        return "admin" in self.roles

    def has_role(self, name: str) -> bool:
        return name in self.roles
