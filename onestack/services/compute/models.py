"""Compute's catalogue tables: flavors (with extra specs and project access), keypairs and quotas."""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onestack.db.base import Base, UTCDateTime, utcnow


class Flavor(Base):
    """A hardware template.  ``id`` is internal (Nova's sort key ``id``); clients see ``flavorid``."""

    __tablename__ = "compute_flavor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flavorid: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    vcpu_weight: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)

    specs: Mapped[list[FlavorExtraSpec]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                         lazy="selectin")

    @property
    def extra_specs(self) -> dict[str, str]:
        return {spec.key: spec.value for spec in self.specs}


class FlavorExtraSpec(Base):
    __tablename__ = "compute_flavor_extra_spec"

    flavor_id: Mapped[int] = mapped_column(ForeignKey("compute_flavor.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class FlavorProject(Base):
    """A project given access to a private flavor."""

    __tablename__ = "compute_flavor_project"

    flavor_id: Mapped[int] = mapped_column(ForeignKey("compute_flavor.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class KeyPair(Base):
    """A user's public key (keypairs belong to users, not projects, as in Nova)."""

    __tablename__ = "compute_keypair"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_compute_keypair_user_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(10), default="ssh")
    fingerprint: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Quota(Base):
    """A limit set for a project (``user_id`` empty) or for one user within it."""

    __tablename__ = "compute_quota"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(Base):
    """Limits of a quota class; class ``default`` holds the defaults every project starts from."""

    __tablename__ = "compute_quota_class"

    class_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaLock(Base):
    """One row per project (or per user, for keypairs), locked (``FOR UPDATE``) while a quota check counts,
    so that two creates in parallel on PostgreSQL count one after the other (SQLite has a single writer)."""

    __tablename__ = "compute_quota_lock"

    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
