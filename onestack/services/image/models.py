"""Image records.  The bytes live in the store; the row says what they are and how far an upload got."""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onestack.db.base import Base, UTCDateTime, seeded, utcnow


class Image(Base):
    __tablename__ = "image_image"
    __table_args__ = (Index("ix_image_image_owner_visibility", "owner", "visibility"),
                      Index("ix_image_image_created", "created_at", "id"))  # the list's default order

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    owner: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30), default="queued", index=True)
    visibility: Mapped[str] = mapped_column(String(20), default="shared")
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    disk_format: Mapped[str | None] = mapped_column(String(20))
    container_format: Mapped[str | None] = mapped_column(String(20))
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(32))
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128))
    properties: Mapped[dict] = mapped_column(default=dict)
    tags: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def publish(self, size: int, md5: str, sha512: str, virtual_size: int | None) -> None:
        """The image's data is complete and durable in the store: it becomes usable."""
        self.status, self.size, self.virtual_size = "active", size, virtual_size
        self.checksum, self.os_hash_algo, self.os_hash_value = md5, "sha512", sha512


class ImageMember(Base):
    """A project a shared image is offered to, and what that project answered."""

    __tablename__ = "image_member"

    image_id: Mapped[str] = mapped_column(ForeignKey("image_image.id", ondelete="CASCADE"), primary_key=True)
    member: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImageTask(Base):
    """An asynchronous operation on an image (Glance's tasks: ``api_image_import``).

    No foreign key to the image: as in Glance, a task outlives the image it worked on until it expires.
    """

    __tablename__ = "image_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30), default="pending")
    owner: Mapped[str | None] = mapped_column(String(64), index=True)
    image_id: Mapped[str | None] = mapped_column(String(36), index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[dict] = mapped_column(default=dict)
    result: Mapped[dict | None] = mapped_column(nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# -- metadata definitions (metadefs): vocabularies that tell dashboards which properties mean what ----------
class MetadefNamespace(Base):
    __tablename__ = "image_metadef_namespace"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(32), default="private")
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MetadefResourceType(Base):
    __tablename__ = "image_metadef_resource_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The resource types Glance ships definitions for, in every cloud from the start (migration 0007).
RESOURCE_TYPES = ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server",
                  "OS::Trove::Instance", "OS::Glance::Snapshot")


def _resource_type_rows() -> list[dict]:
    now = utcnow()
    return [{"name": name, "protected": True, "created_at": now, "updated_at": now} for name in RESOURCE_TYPES]


seeded(MetadefResourceType.__table__, _resource_type_rows)


class MetadefAssociation(Base):
    """A namespace applies to a resource type (with a prefix and target for its properties)."""

    __tablename__ = "image_metadef_association"

    namespace_id: Mapped[int] = mapped_column(ForeignKey("image_metadef_namespace.id", ondelete="CASCADE"),
                                              primary_key=True)
    resource_type_id: Mapped[int] = mapped_column(ForeignKey("image_metadef_resource_type.id", ondelete="CASCADE"),
                                                  primary_key=True)
    prefix: Mapped[str | None] = mapped_column(String(80))
    properties_target: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MetadefEntry(Base):
    """An object, property or tag of a namespace: a name and its JSON document (Glance keeps three tables
    of the same shape; one with a ``kind`` column is the same data without the repetition)."""

    __tablename__ = "image_metadef_entry"
    __table_args__ = (UniqueConstraint("namespace_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(ForeignKey("image_metadef_namespace.id", ondelete="CASCADE"),
                                              index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(255))
    body: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
