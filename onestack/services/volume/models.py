"""Block Storage records: volume types and who may use them, volumes, snapshots, attachments, backups,
transfers, QoS specs and quotas.

A volume, snapshot or backup row holds the desired state and the observed one in ``status``: the API writes
a transitional status (``creating``, ``extending``, ``deleting``, ``uploading``, ``backing-up``...) and the
reconciler makes the files match, then writes the status it reached (or ``error`` with the reason in
``fault``).

A task that talks to another service's API (an image download or upload, a backup into Object Storage)
does so with the caller's token, as Cinder carries the request context to its volume and backup services:
it is kept with the task (``task_token``) and cleared when the task ends.
"""

from __future__ import annotations

import datetime
import socket

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onestack.db.base import Base, UTCDateTime, seeded, utcnow

# The type every cloud has from the start, as Cinder's database migration makes it.
DEFAULT_TYPE_ID = "5a1a6d32-7bd7-4d3f-8fbf-9a5d2a1b8f0e"
DEFAULT_TYPE_NAME = "__DEFAULT__"
# The one availability zone of this cloud's Block Storage.
AVAILABILITY_ZONE = "nova"


def host_name() -> str:
    """This host, as Cinder names a volume service's host (before ``@backend``)."""
    return socket.gethostname()


def volume_host(backend: str | None = None) -> str:
    """A volume's ``os-vol-host-attr:host``: host@backend#pool, each backend having one pool of its name
    (None: the first file backend, ``file``)."""
    name = backend or "file"
    return f"{host_name()}@{name}#{name}"


def host_of(name: str) -> str:
    """The host of a host@backend#pool name."""
    return name.split("@")[0].split("#")[0]


class VolumeType(Base):
    __tablename__ = "volume_type"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict] = mapped_column(JSON, default=dict)
    qos_specs_id: Mapped[str | None] = mapped_column(ForeignKey("volume_qos_specs.id"))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)

    # How volumes of the type are to be encrypted (Cinder's encryption type), if they are.
    encryption: Mapped[TypeEncryption | None] = relationship(lazy="selectin", uselist=False,
                                                             cascade="all, delete-orphan")


seeded(VolumeType.__table__, lambda: [{"id": DEFAULT_TYPE_ID, "name": DEFAULT_TYPE_NAME, "description": "Default Volume Type",
                                       "is_public": True, "extra_specs": {}, "created_at": utcnow()}])


class TypeEncryption(Base):
    """A volume type's encryption: the provider (LUKS...), cipher, key size and where it is done.  Kept and
    shown as Cinder does; volumes of the type show ``encrypted`` (see docs/services/block-storage.md)."""

    __tablename__ = "volume_type_encryption"

    type_id: Mapped[str] = mapped_column(ForeignKey("volume_type.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    provider: Mapped[str] = mapped_column(String(255))
    cipher: Mapped[str | None] = mapped_column(String(255))
    key_size: Mapped[int | None] = mapped_column(Integer)
    control_location: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class GroupType(Base):
    """A generic volume group's type (3.11) with its group specs."""

    __tablename__ = "volume_group_type"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    group_specs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Group(Base):
    """A generic volume group (3.13): a record over volumes (their ``group_id``), snapshotted together.

    ``task`` ``create`` (made from a source: it is ``available`` once its volumes are) or ``delete`` (its
    volumes are being deleted: it goes with the last of them); None otherwise.
    """

    __tablename__ = "volume_group"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    availability_zone: Mapped[str] = mapped_column(String(255))
    group_type_id: Mapped[str] = mapped_column(ForeignKey("volume_group_type.id"))
    volume_type_ids: Mapped[list] = mapped_column(JSON, default=list)
    group_snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_group_id: Mapped[str | None] = mapped_column(String(36))
    task: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class GroupSnapshot(Base):
    """A snapshot of every volume of a group at once (3.14): its snapshots carry its id.  ``task`` as a
    group's: ``create`` until its snapshots are available, ``delete`` until they are gone."""

    __tablename__ = "volume_group_snapshot"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str] = mapped_column(String(36), index=True)
    group_type_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    task: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class QosSpecs(Base):
    """Named QoS keys (``total_iops_sec``...) for a consumer (front-end, back-end or both), given to types."""

    __tablename__ = "volume_qos_specs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    consumer: Mapped[str] = mapped_column(String(16))
    specs: Mapped[dict] = mapped_column(JSON, default=dict)
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
    # Cinder's admin metadata a volume shows among its metadata once set ("readonly": "True"/"False")
    admin_metadata: Mapped[dict | None] = mapped_column(JSON)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    image_metadata: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where the data came from; the snapshot row may be gone since (Cinder keeps the id).
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    # A clone of a volume backs on a frozen copy of it: a hidden snapshot that goes with the last user.
    clone_of: Mapped[str | None] = mapped_column(String(36))
    # The image the data came from (its file, cached once, is what the volume's file backs on).
    image_id: Mapped[str | None] = mapped_column(String(36))
    # What the reconciler is to do with the file (create, extend, delete, upload, restore), apart from the
    # status an admin may reset; None once done.  A delete with cascade takes the volume's snapshots too.
    task: Mapped[str | None] = mapped_column(String(16), index=True)
    # The task's arguments (the image an upload fills, the backup a restore reads...).
    task_args: Mapped[dict | None] = mapped_column(JSON)
    task_token: Mapped[str | None] = mapped_column(Text)
    # The status to go back to when an upload or a backup ends (Cinder's previous_status).
    previous_status: Mapped[str | None] = mapped_column(String(32))
    cascade: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the data live, chosen at creation from the type's volume_backend_name: None or "file" for
    # qcow2 files, the Ceph backend's name for an RBD image.
    backend: Mapped[str | None] = mapped_column(String(64))
    # Cinder's migration_status of a move to another backend (``os-migrate_volume``, an on-demand retype):
    # starting, migrating, completing, then success or error; None when never moved.
    migration_status: Mapped[str | None] = mapped_column(String(32))
    # The generic volume group it belongs to (3.13), if any.
    group_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # The key its data are encrypted with (a VolumeKey's id), when its type is encrypted.
    encryption_key_id: Mapped[str | None] = mapped_column(String(36))
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
    # Its volume's backend (kept here too: a hidden snapshot outlives its volume's row).
    backend: Mapped[str | None] = mapped_column(String(64))
    # what os-update_snapshot_status last said ("80%"); None: shown from the status
    progress: Mapped[str | None] = mapped_column(String(8))
    # The group snapshot it was taken for (3.14), if any.
    group_snapshot_id: Mapped[str | None] = mapped_column(String(36), index=True)
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


class Backup(Base):
    """A copy of a volume's data in a backup store: compressed, checksummed chunks and a manifest.

    An incremental backup stores only the chunks that changed since its parent and names the parent's for
    the others, so a backup with dependents cannot be deleted.
    """

    __tablename__ = "volume_backup"
    __table_args__ = (Index("ix_volume_backup_project_created", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # A copy of the encrypted volume's key (Cinder clones it): the backup holds the encrypted bytes.
    encryption_key_id: Mapped[str | None] = mapped_column(String(36))
    project_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)
    # Cinder's fail_reason: shown to the owner.
    fault: Mapped[str | None] = mapped_column(Text)
    availability_zone: Mapped[str] = mapped_column(String(255))
    # Which store holds it (``posix`` or ``swift``) and where in it: for ``swift`` the account's URL (the
    # owner's Object Storage endpoint when it was made), a container and the objects' prefix.
    driver: Mapped[str] = mapped_column(String(16))
    store_url: Mapped[str | None] = mapped_column(Text)
    container: Mapped[str | None] = mapped_column(String(255))
    object_prefix: Mapped[str | None] = mapped_column(String(255))
    object_count: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    is_incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    data_timestamp: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # create, restore or delete; a restore writes the volume ``restore_volume_id``.
    task: Mapped[str | None] = mapped_column(String(16), index=True)
    restore_volume_id: Mapped[str | None] = mapped_column(String(36))
    task_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Transfer(Base):
    """A volume offered to another project: whoever presents the id and the auth key takes it."""

    __tablename__ = "volume_transfer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # The key is shown once, at creation; only a salted hash of it is kept.
    salt: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64))
    no_snapshots: Mapped[bool] = mapped_column(Boolean, default=False)
    # The project giving the volume away (Cinder's source_project_id): the transfer is its to see.
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    destination_project_id: Mapped[str | None] = mapped_column(String(64))
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class Message(Base):
    """A user message (3.3): what went wrong with one of the project's resources, in words, for a while."""

    __tablename__ = "volume_message"
    __table_args__ = (Index("ix_volume_message_project_created", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(36))
    resource_uuid: Mapped[str | None] = mapped_column(String(36))
    # Cinder's event id: VOLUME_<resource>_<action>_<detail>, and the words for it.
    event_id: Mapped[str] = mapped_column(String(255))
    user_message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, index=True)


class VolumeKey(Base):
    """An encryption key of a volume or backup (this cloud's stand-in for Barbican): the key wrapped with the
    master key kept in DATA_DIR, never stored or shown in the clear (``service/keys.py``)."""

    __tablename__ = "volume_encryption_key"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
