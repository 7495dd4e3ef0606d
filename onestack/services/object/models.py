"""Accounts, containers and objects.  Bytes live in the blob store; a row names its blob by id.

Names sort as Swift sorts them, by their UTF-8 bytes: SQLite compares text that way and PostgreSQL is
told to with the "C" collation, so a listing reads the primary key's index in order (keyset paging).
Counters are kept on the container and account rows, in the same transaction as the object rows they
count, so they always agree with the listings.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onestack.db.base import Base

# The object-server metadata the service keeps on a row and never shows (Swift's sysmeta): a static large
# object's flag (shown), ETag and manifest size, the ETag S3 gave an object it assembled from parts, and a
# symlink's target.
SYSMETA = "X-Object-Sysmeta-"
SLO_FLAG = "X-Static-Large-Object"
SLO_ETAG = SYSMETA + "Slo-Etag"
MANIFEST_BYTES = SYSMETA + "Slo-Manifest-Bytes"
S3_ETAG = SYSMETA + "S3-Etag"
# A symlink's target (``<container>/<object>``, URL-quoted), its account when another, and for a static link
# the ETag and size its target had when the link was made.
SYMLINK_TARGET = SYSMETA + "Symlink-Target"
SYMLINK_ACCOUNT = SYSMETA + "Symlink-Target-Account"
SYMLINK_ETAG = SYSMETA + "Symlink-Target-Etag"
SYMLINK_BYTES = SYSMETA + "Symlink-Target-Bytes"


def name_type(length: int) -> String:
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Account(Base):
    __tablename__ = "object_account"

    name: Mapped[str] = mapped_column(name_type(256), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)
    put_timestamp: Mapped[float] = mapped_column(Float)
    meta: Mapped[dict] = mapped_column(default=dict)
    container_count: Mapped[int] = mapped_column(BigInteger, default=0)
    object_count: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0)


class Container(Base):
    __tablename__ = "object_container"
    __table_args__ = (UniqueConstraint("account", "name", name="uq_object_container_account_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(name_type(256), ForeignKey("object_account.name", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(name_type(256))
    created_at: Mapped[float] = mapped_column(Float)
    put_timestamp: Mapped[float] = mapped_column(Float)
    meta: Mapped[dict] = mapped_column(default=dict)
    object_count: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0)


class Object(Base):
    __tablename__ = "object_object"
    __table_args__ = (Index("ix_object_object_delete_at", "delete_at"),)

    container_id: Mapped[int] = mapped_column(Integer, ForeignKey("object_container.id", ondelete="CASCADE"),
                                              primary_key=True)
    name: Mapped[str] = mapped_column(name_type(1024), primary_key=True)
    blob_id: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(256))
    timestamp: Mapped[float] = mapped_column(Float)
    blocks: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    meta: Mapped[dict] = mapped_column(default=dict)
    delete_at: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def blob_size(self) -> int:
        """The bytes of its blob: ``size`` (what it is listed and counted at), except for a static large
        object, listed at its segments' size while its blob is the manifest."""
        return int(self.meta.get(MANIFEST_BYTES, self.size))
