"""Placement records.

Providers are keyed by an integer id internally (joins stay cheap) and by uuid in the API.  Standard
resource classes and traits come from ``os-resource-classes`` and ``os-traits`` and are never stored;
the tables hold only the ``CUSTOM_*`` ones operators create.  Inventories, allocations and provider
traits refer to classes and traits by name, so a standard name needs no row.
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onestack.db.base import Base, UTCDateTime, utcnow


class Stamped:
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Provider(Stamped, Base):
    __tablename__ = "placement_provider"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Bumped by a compare-and-swap on every change of what the provider offers or holds (see providers.bump).
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("placement_provider.id"), index=True)
    root_id: Mapped[int | None] = mapped_column(Integer, index=True)


class CustomResourceClass(Stamped, Base):
    __tablename__ = "placement_resource_class"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)


class CustomTrait(Stamped, Base):
    __tablename__ = "placement_trait"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)


class Inventory(Stamped, Base):
    __tablename__ = "placement_inventory"

    provider_id: Mapped[int] = mapped_column(ForeignKey("placement_provider.id", ondelete="CASCADE"),
                                             primary_key=True)
    resource_class: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    total: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    min_unit: Mapped[int] = mapped_column(BigInteger, default=1)
    max_unit: Mapped[int] = mapped_column(BigInteger)
    step_size: Mapped[int] = mapped_column(BigInteger, default=1)
    allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)


class ProviderTrait(Base):
    __tablename__ = "placement_provider_trait"

    provider_id: Mapped[int] = mapped_column(ForeignKey("placement_provider.id", ondelete="CASCADE"),
                                             primary_key=True)
    trait: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class ProviderAggregate(Base):
    __tablename__ = "placement_provider_aggregate"

    provider_id: Mapped[int] = mapped_column(ForeignKey("placement_provider.id", ondelete="CASCADE"),
                                             primary_key=True)
    aggregate: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class Consumer(Stamped, Base):
    """Whoever holds allocations (an instance, a migration); it exists while it holds any."""

    __tablename__ = "placement_consumer"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    # None is Placement's "unknown": allocations written before 1.38 or without a type.
    consumer_type: Mapped[str | None] = mapped_column(String(255))


class Allocation(Base):
    __tablename__ = "placement_allocation"
    __table_args__ = (Index("ix_placement_allocation_provider_class", "provider_id", "resource_class"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("placement_provider.id"))
    consumer_id: Mapped[str] = mapped_column(ForeignKey("placement_consumer.uuid", ondelete="CASCADE"), index=True)
    resource_class: Mapped[str] = mapped_column(String(255))
    used: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Revision(Base):
    """One counter bumped by every placement write that changes what a search reads besides usage (providers,
    their trees, inventories, traits, aggregates, custom classes and traits), in the same transaction: each
    serving process keeps the providers between searches while it holds (``snapshot.Kept``).  Allocation
    writes do not bump it (usage is read by every search), so claims never contend on its row."""

    __tablename__ = "placement_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
