"""Block Storage records: volume types and who may use them, volumes, snapshots, attachments and quotas.

A volume or snapshot row holds the desired state and the observed one in ``status``: the API writes a
transitional status (``creating``, ``extending``, ``deleting``) and the reconciler makes the file match,
then writes the status it reached (or ``error`` with the reason in ``fault``).
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onestack.db.base import Base, UTCDateTime, utcnow

# The type every cloud has from the start, as Cinder's database migration makes it.
DEFAULT_TYPE_ID = "5a1a6d32-7bd7-4d3f-8fbf-9a5d2a1b8f0e"
DEFAULT_TYPE_NAME = "__DEFAULT__"


class VolumeType(Base):
    __tablename__ = "volume_type"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class VolumeTypeAccess(Base):
    """A project given the use of a private type."""

    __tablename__ = "volume_type_access"

    type_id: Mapped[str] = mapped_column(ForeignKey("volume_type.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class DefaultType(Base):
    """A project's own default type (3.62), in force over the cloud's."""

    __tablename__ = "volume_default_type"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type_id: Mapped[str] = mapped_column(ForeignKey("volume_type.id", ondelete="CASCADE"))


class Volume(Base):
    __tablename__ = "volume"
    __table_args__ = (Index("ix_volume_project_created", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)
    # What a failed reconcile left, for the operator (shown nowhere in Cinder's API, logged and kept here).
    fault: Mapped[str | None] = mapped_column(Text)
    availability_zone: Mapped[str] = mapped_column(String(255))
    type_id: Mapped[str] = mapped_column(ForeignKey("volume_type.id"))
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    readonly: Mapped[bool] = mapped_column(Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    image_metadata: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where the data came from; the snapshot row may be gone since (Cinder keeps the id).
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    # A clone of a volume backs on a frozen copy of it: a hidden snapshot that goes with the last user.
    clone_of: Mapped[str | None] = mapped_column(String(36))
    # What the reconciler is to do with the file (create, extend, delete), apart from the status an admin
    # may reset; None once done.  A delete with cascade takes the volume's snapshots too.
    task: Mapped[str | None] = mapped_column(String(16), index=True)
    cascade: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)

    volume_type: Mapped[VolumeType] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(lazy="selectin", order_by="Attachment.created_at",
                                                         cascade="all, delete-orphan", passive_deletes=True)


class Snapshot(Base):
    __tablename__ = "volume_snapshot"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)
    fault: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    # A frozen copy made for a volume clone: never listed, never counted, gone when no clone needs it.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    task: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Attachment(Base):
    """A volume's attachment to a server (Cinder's attachments API and the legacy actions share it)."""

    __tablename__ = "volume_attachment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(ForeignKey("volume.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(String(64))
    instance_uuid: Mapped[str | None] = mapped_column(String(36))
    attached_host: Mapped[str | None] = mapped_column(String(255))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    # reserved -> attaching -> attached -> detaching (Cinder's attach_status)
    attach_status: Mapped[str] = mapped_column(String(32))
    attach_mode: Mapped[str] = mapped_column(String(8), default="rw")
    connector: Mapped[dict | None] = mapped_column(JSON)
    attach_time: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    detach_time: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quota(Base):
    """A project's limit on one resource (``volumes``, ``gigabytes_<type>``...); absent: the class default."""

    __tablename__ = "volume_quota"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(Base):
    """The ``default`` class's limits, where an operator changed them from the built-in ones."""

    __tablename__ = "volume_quota_class"

    class_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)
