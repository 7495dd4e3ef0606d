"""Identity tables.  Domains are projects with ``is_domain`` set, as in Keystone,
so that a project may also act as a domain and hierarchy is one tree."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onestack.db.base import Base, UTCDateTime, utcnow

ROOT_DOMAIN = "<<keystone.domain.root>>"
ID = String(64)
NAME = String(255)
Stamp = datetime.datetime


class Project(Base):
    __tablename__ = "identity_project"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, index=True)
    is_domain: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(default=dict)
    options: Mapped[dict] = mapped_column(default=dict)
    tags: Mapped[list] = mapped_column(default=list)


class User(Base):
    __tablename__ = "identity_user"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(ID)
    description: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(NAME)
    extra: Mapped[dict] = mapped_column(default=dict)
    options: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[Stamp] = mapped_column(UTCDateTime, default=utcnow)
    last_active_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)
    failed_auth_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_auth_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)


class Password(Base):
    """Every password a user has had; the newest is the one in force."""

    __tablename__ = "identity_password"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[Stamp] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)
    self_service: Mapped[bool] = mapped_column(Boolean, default=False)


class Group(Base):
    __tablename__ = "identity_group"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(default=dict)


class Membership(Base):
    __tablename__ = "identity_membership"

    user_id: Mapped[str] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("identity_group.id", ondelete="CASCADE"), primary_key=True)


class Role(Base):
    __tablename__ = "identity_role"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    # Global roles use the empty string rather than NULL so the unique constraint holds.
    domain_id: Mapped[str] = mapped_column(ID, default="")
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(default=dict)
    options: Mapped[dict] = mapped_column(default=dict)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_role"

    prior_role_id: Mapped[str] = mapped_column(ForeignKey("identity_role.id", ondelete="CASCADE"),
                                               primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(ForeignKey("identity_role.id", ondelete="CASCADE"),
                                                 primary_key=True)


class Assignment(Base):
    """A role given to a user or group on a project, a domain or the system.

    ``type`` is one of UserProject, GroupProject, UserDomain, GroupDomain,
    UserSystem, GroupSystem; ``target_id`` is ``system`` for the last two.
    """

    __tablename__ = "identity_assignment"
    __table_args__ = (Index("ix_identity_assignment_target", "target_id"),)

    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    target_id: Mapped[str] = mapped_column(ID, primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True)
    inherited: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "identity_region"

    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    parent_region_id: Mapped[str | None] = mapped_column(NAME)
    extra: Mapped[dict] = mapped_column(default=dict)


class CatalogService(Base):
    __tablename__ = "identity_service"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(NAME)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict] = mapped_column(default=dict)


class Endpoint(Base):
    __tablename__ = "identity_endpoint"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("identity_service.id", ondelete="CASCADE"))
    interface: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    region_id: Mapped[str | None] = mapped_column(NAME)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict] = mapped_column(default=dict)


class ApplicationCredential(Base):
    __tablename__ = "identity_application_credential"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    user_id: Mapped[str] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ID)
    secret_hash: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    role_ids: Mapped[list] = mapped_column(default=list)
    access_rule_ids: Mapped[list] = mapped_column(default=list)


class AccessRule(Base):
    __tablename__ = "identity_access_rule"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(NAME)
    path: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(16))


class Credential(Base):
    __tablename__ = "identity_credential"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(ID)
    type: Mapped[str] = mapped_column(NAME)
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(default=dict)


class RevocationEvent(Base):
    """Tokens issued before ``issued_before`` that match every set field are revoked."""

    __tablename__ = "identity_revocation_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    audit_id: Mapped[str | None] = mapped_column(String(32), index=True)
    user_id: Mapped[str | None] = mapped_column(ID)
    project_id: Mapped[str | None] = mapped_column(ID)
    domain_id: Mapped[str | None] = mapped_column(ID)
    issued_before: Mapped[Stamp] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Stamp] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Revision(Base):
    """One counter bumped by every identity write, so caches in any process know when to drop."""

    __tablename__ = "identity_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Policy(Base):
    """A policy blob stored for distribution (Keystone's /v3/policies); onestack enforces its own rules."""

    __tablename__ = "identity_policy"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(NAME)
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(default=dict)


class EndpointGroup(Base):
    """OS-EP-FILTER: endpoints selected by attribute filters, given to projects to narrow their catalog."""

    __tablename__ = "identity_endpoint_group"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str | None] = mapped_column(Text)
    filters: Mapped[dict] = mapped_column(default=dict)


class ProjectEndpoint(Base):
    __tablename__ = "identity_project_endpoint"

    project_id: Mapped[str] = mapped_column(ID, primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("identity_endpoint.id", ondelete="CASCADE"),
                                             primary_key=True)


class ProjectEndpointGroup(Base):
    __tablename__ = "identity_project_endpoint_group"

    project_id: Mapped[str] = mapped_column(ID, primary_key=True)
    endpoint_group_id: Mapped[str] = mapped_column(ForeignKey("identity_endpoint_group.id", ondelete="CASCADE"),
                                                   primary_key=True)


class Trust(Base):
    """OS-TRUST: a trustor lets a trustee act on a project with some of the trustor's roles."""

    __tablename__ = "identity_trust"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    trustor_user_id: Mapped[str] = mapped_column(ID, index=True)
    trustee_user_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str | None] = mapped_column(ID)
    impersonation: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)
    remaining_uses: Mapped[int | None] = mapped_column(Integer)
    role_ids: Mapped[list] = mapped_column(default=list)
    extra: Mapped[dict] = mapped_column(default=dict)


class RegisteredLimit(Base):
    """Unified limits: a service's default for one resource, per region."""

    __tablename__ = "identity_registered_limit"
    __table_args__ = (UniqueConstraint("service_id", "region_id", "resource_name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("identity_service.id", ondelete="CASCADE"))
    region_id: Mapped[str] = mapped_column(NAME, default="")
    resource_name: Mapped[str] = mapped_column(NAME)
    default_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class Limit(Base):
    """Unified limits: a project's (or domain's) own value, overriding the registered default."""

    __tablename__ = "identity_limit"
    __table_args__ = (UniqueConstraint("service_id", "region_id", "resource_name", "target_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("identity_service.id", ondelete="CASCADE"))
    region_id: Mapped[str] = mapped_column(NAME, default="")
    resource_name: Mapped[str] = mapped_column(NAME)
    target_id: Mapped[str] = mapped_column(ID, index=True)
    target_is_domain: Mapped[bool] = mapped_column(Boolean, default=False)
    resource_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class DomainConfig(Base):
    """One option of a domain's own identity configuration (``/v3/domains/{id}/config``).

    As in Keystone with ``domain_specific_drivers_enabled`` off (its default), the options are kept and
    served for tools that manage domain backends; onestack has one SQL backend and reads none of them.
    Sensitive options (the LDAP bind password) are stored but never shown.
    """

    __tablename__ = "identity_domain_config"

    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_project.id", ondelete="CASCADE"), primary_key=True)
    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    option: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class OAuthConsumer(Base):
    """OS-OAUTH1: a third-party application that may ask users for delegated access.

    The secret is stored as issued, not hashed: HMAC-SHA1 request signatures can only be checked
    with the shared secret itself (RFC 5849 section 3.4.2).
    """

    __tablename__ = "identity_oauth_consumer"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(default=dict)


class OAuthRequestToken(Base):
    """A consumer's request for access to a project; a user authorizes it with some of their roles."""

    __tablename__ = "identity_oauth_request_token"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    consumer_id: Mapped[str] = mapped_column(ForeignKey("identity_oauth_consumer.id", ondelete="CASCADE"),
                                             index=True)
    project_id: Mapped[str] = mapped_column(ID)
    expires_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)
    authorizing_user_id: Mapped[str | None] = mapped_column(ID)
    role_ids: Mapped[list | None] = mapped_column()
    verifier: Mapped[str | None] = mapped_column(String(64))


class OAuthAccessToken(Base):
    """What an authorized request token is exchanged for: lets the consumer get tokens for the user."""

    __tablename__ = "identity_oauth_access_token"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    consumer_id: Mapped[str] = mapped_column(ForeignKey("identity_oauth_consumer.id", ondelete="CASCADE"),
                                             index=True)
    authorizing_user_id: Mapped[str] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"),
                                                     index=True)
    project_id: Mapped[str] = mapped_column(ID)
    role_ids: Mapped[list] = mapped_column(default=list)
    expires_at: Mapped[Stamp | None] = mapped_column(UTCDateTime)
