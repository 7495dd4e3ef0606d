"""Compute records: the catalogue (flavors with extra specs and project access, keypairs, quotas), and
hosts, instances and what happened to them.

An instance row holds the desired spec (flavor, image, networks, metadata) and the observed state
(``vm_state``, ``task_state``, ``power_state``, host, fault).  The API writes a ``task_state`` and the
reconciler converges the host to it, then writes what it saw.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
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



class ComputeHost(Base):
    """A compute host (Nova's compute service record and its hypervisor)."""

    __tablename__ = "compute_host"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Before 2.53 Nova names services and hypervisors by integer ids; this is that id.
    number: Mapped[int | None] = mapped_column(Integer, unique=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    driver: Mapped[str] = mapped_column(String(32))
    availability_zone: Mapped[str] = mapped_column(String(255), default="nova")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    disk_gb: Mapped[int] = mapped_column(Integer, default=0)
    host_ip: Mapped[str] = mapped_column(String(64), default="127.0.0.1")
    # Its VXLAN tunnel address (Neutron's agent ``local_ip``); None: it takes no part in the mesh.
    tunnel_ip: Mapped[str | None] = mapped_column(String(64))
    # Where the process running this host takes other processes' calls for its guests (console output,
    # consoles, interfaces...), and the key those calls are signed with; None: no such process now.
    link_url: Mapped[str | None] = mapped_column(String(255))
    link_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    heartbeat_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Instance(Base):
    __tablename__ = "compute_instance"
    # Lists are newest first within a project (or, for all_tenants, overall): a page is read in index order.
    __table_args__ = (Index("ix_compute_instance_project_deleted_created", "project_id", "deleted", "created_at", "id"),
                      Index("ix_compute_instance_deleted_created", "deleted", "created_at", "id"),
                      Index("ix_compute_instance_host_task", "host", "task_state"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    project_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    hostname: Mapped[str] = mapped_column(String(255))
    reservation_id: Mapped[str] = mapped_column(String(255))
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    image_ref: Mapped[str] = mapped_column(String(255), default="")
    # "vm" or "container" (a docker or oci image, or hypervisor_type=container): which driver of its host
    # runs it, and whether its host must run containers; decided at create and kept (drivers.compute)
    guest_kind: Mapped[str] = mapped_column(String(16), default="vm", server_default="vm")
    flavor: Mapped[dict] = mapped_column(default=dict)
    # The flavor's vCPUs and memory again, as columns, so quota usage is a SUM rather than a scan.
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    key_name: Mapped[str | None] = mapped_column(String(255))
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    config_drive: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict] = mapped_column("metadata", default=dict)
    tags: Mapped[list] = mapped_column(default=list)
    security_groups: Mapped[list] = mapped_column(default=list)
    requested_networks: Mapped[list] = mapped_column(default=list)
    vm_state: Mapped[str] = mapped_column(String(32), default="building")
    task_state: Mapped[str | None] = mapped_column(String(64))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str | None] = mapped_column(String(255), index=True)
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    requested_availability_zone: Mapped[str | None] = mapped_column(String(255))
    server_group_id: Mapped[str | None] = mapped_column(String(36))
    # os:scheduler_hints as the create gave them, kept (as Nova's RequestSpec keeps them) so that every later
    # scheduling of the server (migrations, evacuation, unshelve) reads them again
    scheduler_hints: Mapped[dict | None] = mapped_column(JSON)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(16))
    locked_reason: Mapped[str | None] = mapped_column(String(255))
    access_ip_v4: Mapped[str | None] = mapped_column(String(64))
    access_ip_v6: Mapped[str | None] = mapped_column(String(64))
    fault: Mapped[dict | None] = mapped_column(JSON)
    trusted_image_certificates: Mapped[list | None] = mapped_column(JSON)
    # The guest's password, encrypted with its key (Nova's os-server-password), as the metadata service got it.
    password: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    # OS-DCF:diskConfig as asked at create, resize or rebuild (AUTO: true); kept through every move
    auto_disk_config: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # What the next step needs that the row does not otherwise say (the resize target, the
    # snapshot image id...), cleared when the task ends.
    task_args: Mapped[dict] = mapped_column(default=dict)
    launched_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class BlockDevice(Base):
    """A volume given to an instance (Nova's block device mapping): attached while it runs, or its root disk
    when it boots from a volume (``boot_index`` 0).  ``status`` is compute's side of the attachment
    (``pending`` until a boot connects it, ``attaching``, ``attached``, ``detaching``, ``swapping``); ``connection`` is what the block storage service answered,
    which the guest's spec is built from."""

    __tablename__ = "compute_block_device"
    __table_args__ = (UniqueConstraint("instance_uuid", "volume_id", name="uq_compute_block_device_volume"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # Nova's bdm_uuid
    instance_uuid: Mapped[str] = mapped_column(ForeignKey("compute_instance.id", ondelete="CASCADE"), index=True)
    # None until the boot made the volume (a boot from an image, a snapshot or a blank one)
    volume_id: Mapped[str | None] = mapped_column(String(36), index=True)
    attachment_id: Mapped[str | None] = mapped_column(String(36))  # the block storage service's attachment
    device_name: Mapped[str] = mapped_column(String(255))
    tag: Mapped[str | None] = mapped_column(String(60))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    boot_index: Mapped[int | None] = mapped_column(Integer)
    source_type: Mapped[str] = mapped_column(String(16), default="volume")  # volume, image, snapshot, blank
    source_id: Mapped[str | None] = mapped_column(String(36))  # the image or snapshot a boot volume is made from
    volume_size: Mapped[int | None] = mapped_column(Integer)
    volume_type: Mapped[str | None] = mapped_column(String(255))  # of a volume the boot makes (2.67)
    status: Mapped[str] = mapped_column(String(16), default="attaching")
    connection: Mapped[dict | None] = mapped_column(JSON)
    # A swap under way (status ``swapping``): the volume the guest's disk moves to and its attachment (None
    # until the block storage service reserved it), so a restart finishes or undoes it.
    swap_volume_id: Mapped[str | None] = mapped_column(String(36))
    swap_attachment_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceAction(Base):
    __tablename__ = "compute_instance_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey("compute_instance.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(255), default="")
    user_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InstanceActionEvent(Base):
    __tablename__ = "compute_instance_action_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("compute_instance_action.id", ondelete="CASCADE"),
                                           index=True)
    event: Mapped[str] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str | None] = mapped_column(String(16))
    traceback: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class ServerGroup(Base):
    __tablename__ = "compute_server_group"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(32))
    rules: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServerGroupMember(Base):
    __tablename__ = "compute_server_group_member"

    group_id: Mapped[str] = mapped_column(ForeignKey("compute_server_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class Aggregate(Base):
    """A host aggregate: hosts grouped by an operator, with metadata; the metadata key
    ``availability_zone`` makes the group an availability zone.  Mirrored into placement as the
    aggregate ``uuid`` on each member host's resource provider, as Nova does."""

    __tablename__ = "compute_aggregate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)

    members: Mapped[list[AggregateHost]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                        lazy="selectin")
    items: Mapped[list[AggregateMetadata]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                          lazy="selectin")

    @property
    def hosts(self) -> list[str]:
        return sorted(member.host for member in self.members)

    @property
    def metadata_(self) -> dict[str, str]:
        return {item.key: item.value for item in self.items}

    @property
    def availability_zone(self) -> str | None:
        return self.metadata_.get("availability_zone")


class AggregateHost(Base):
    __tablename__ = "compute_aggregate_host"

    aggregate_id: Mapped[int] = mapped_column(ForeignKey("compute_aggregate.id", ondelete="CASCADE"),
                                              primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class AggregateMetadata(Base):
    __tablename__ = "compute_aggregate_metadata"

    aggregate_id: Mapped[int] = mapped_column(ForeignKey("compute_aggregate.id", ondelete="CASCADE"),
                                              primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class Migration(Base):
    """A move of an instance between hosts or flavors (resizes, cold and live migrations, evacuations), as
    Nova's ``migrations`` table; ``/os-migrations`` lists these rows.  ``uuid`` is also the placement consumer that holds the old
    flavor's resources until the resize is confirmed or reverted."""

    __tablename__ = "compute_migration"
    __table_args__ = (Index("ix_compute_migration_instance_status", "instance_uuid", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey("compute_instance.id", ondelete="CASCADE"), index=True)
    migration_type: Mapped[str] = mapped_column(String(32), default="resize")
    status: Mapped[str] = mapped_column(String(32))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    dest_host: Mapped[str | None] = mapped_column(String(255))
    old_flavor: Mapped[dict] = mapped_column(default=dict)
    new_flavor: Mapped[dict] = mapped_column(default=dict)
    project_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    # what /os-migrations shows of the flavors (Nova's integer flavor ids, when the flavor has one)
    old_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    new_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # as migration 0012 made it
    # a live migration's progress in bytes, as the driver last reported it (null before it runs)
    memory_total: Mapped[int | None] = mapped_column(BigInteger)
    memory_processed: Mapped[int | None] = mapped_column(BigInteger)
    memory_remaining: Mapped[int | None] = mapped_column(BigInteger)
    disk_total: Mapped[int | None] = mapped_column(BigInteger)
    disk_processed: Mapped[int | None] = mapped_column(BigInteger)
    disk_remaining: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)


class ConsoleToken(Base):
    """A remote console's access token, kept as its SHA-256 only: the URL holding it is the secret."""

    __tablename__ = "compute_console_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey("compute_instance.id", ondelete="CASCADE"), index=True)
    console_type: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
