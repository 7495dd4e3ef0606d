"""What other services may ask of Block Storage: the only module of it they import.

Compute attaches a volume the way Nova does with Cinder's attachments API: ``attachment_create``
reserves the volume for a server (``attachments_of`` lists a server's), ``attachment_update`` with the host's connector answers how to reach
the data, ``attachment_complete`` marks it in use, ``volume_secret`` gives the passphrase of an encrypted one's
connection (``encrypted: true``), ``attachment_delete`` lets it go; ``begin_detaching``
(and ``roll_detaching`` when the guest would not let go) frames a detach, and a swap to another volume too,
which ``migrate_volume_completion`` ends.  A ``file`` connection names a
qcow2 file the guest's QEMU opens directly; an ``rbd`` one an RBD image it opens through librbd.  A boot from a volume makes the volume first
(``create_volume``), and a server deleted with ``delete_on_termination`` takes it with it (``delete_volume``).
Nova's deprecated ``os-volumes`` and ``os-snapshots`` proxies read and change volumes and snapshots through
``volume_info``, ``snapshot_info`` and their kin.  A volume-backed server's rebuild (2.93) re-images its root
volume with ``reimage_volume`` while the server's attachment of it is ``reserved``.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Protocol

from onestack.http.context import Context


@dataclasses.dataclass(frozen=True)
class VolumeRef:
    id: str
    project_id: str
    size: int
    status: str
    bootable: bool
    multiattach: bool
    readonly: bool
    # (server id, attach_status, attach_mode) of each attachment
    attachments: tuple[tuple[str | None, str, str], ...] = ()
    # the image its data came from (``volume_image_metadata``'s ``image_id``)
    image_id: str | None = None


@dataclasses.dataclass(frozen=True)
class VolumeInfo:
    """A volume as Nova's ``os-volumes`` proxy shows it."""

    id: str
    name: str | None
    description: str | None
    size: int
    status: str
    availability_zone: str
    created_at: datetime.datetime
    volume_type: str
    snapshot_id: str | None
    metadata: dict
    attached_to: tuple[tuple[str, str | None], ...]  # (server id, device) of each attached server


@dataclasses.dataclass(frozen=True)
class SnapshotInfo:
    id: str
    volume_id: str
    name: str | None
    description: str | None
    size: int
    status: str
    created_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Connection:
    """How a host reaches a volume's data (Cinder's ``connection_info``)."""

    path: str
    access_mode: str
    volume_id: str
    format: str = "qcow2"
    driver_volume_type: str = "file"
    # the volume type's front-end QoS keys (``total_iops_sec``...; any ``_per_gb`` one already times the size),
    # which the guest's host enforces
    qos_specs: dict | None = None
    # an ``rbd`` connection's Ceph client: {"conf", "auth_username", "keyring"}; ``path`` is pool/image
    rbd: dict | None = None
    # the file is LUKS inside its qcow2: the host asks ``volume_secret`` for its passphrase (as Nova asks the
    # key manager for the volume's ``encryption_key_id``); the connection itself never carries a key
    encrypted: bool = False

    def as_dict(self) -> dict:
        data = {"path": self.path, "name": self.path.rsplit("/", 1)[-1], "format": self.format,
                "access_mode": self.access_mode, "volume_id": self.volume_id, "encrypted": self.encrypted,
                "qos_specs": self.qos_specs, "discard": True}
        if self.rbd is not None:
            # Cinder's rbd connection_info names the image as pool/image; the Ceph client's conf and
            # keyring are this cloud's (every host of one cloud is configured alike).
            data.update(name=self.path, auth_enabled=True, cluster_name="ceph", hosts=[], ports=[], **self.rbd)
            del data["path"]
        return {"driver_volume_type": self.driver_volume_type, "data": data}


@dataclasses.dataclass(frozen=True)
class AttachmentRef:
    id: str
    volume_id: str
    status: str  # reserved, attaching, attached


class BlockStorage(Protocol):
    def volume(self, ctx: Context, volume_id: str) -> VolumeRef: ...

    def attachment_create(self, ctx: Context, volume_id: str, instance_uuid: str, connector: dict | None = None,
                          mode: str = "rw") -> str:
        """Reserve the volume for the server; the attachment's id."""

    def attachment_update(self, ctx: Context, attachment_id: str, connector: dict,
                          mountpoint: str | None = None) -> Connection: ...

    def attachment_complete(self, ctx: Context, attachment_id: str) -> None: ...

    def volume_secret(self, ctx: Context, volume_id: str) -> str:
        """The passphrase of an encrypted volume's LUKS (its key from the key manager, in hex), for the QEMU that
        opens it: to be handed to QEMU only, never logged nor written down.  ``BadRequest`` for a volume that is
        not encrypted."""

    def attachment_delete(self, ctx: Context, attachment_id: str) -> None: ...

    def attachments_of(self, ctx: Context, instance_uuid: str) -> list[AttachmentRef]:
        """The attachments held for a server, whatever their status (for compute's start-up cleanup)."""

    def begin_detaching(self, ctx: Context, volume_id: str) -> None:
        """in-use -> detaching, before the guest is asked to let go."""

    def roll_detaching(self, ctx: Context, volume_id: str) -> None:
        """detaching -> in-use again, when the detach failed."""

    def reimage_volume(self, ctx: Context, volume_id: str, image_id: str, reimage_reserved: bool = False) -> None:
        """Cinder's ``os-reimage``: the volume ``downloading`` until its data are the image's, then back to its
        status (``reserved`` for a server's root volume being rebuilt), or ``error``.  ``BadRequest`` when the
        volume or image does not allow it, ``NotFound`` for an unknown one."""

    def migrate_volume_completion(self, ctx: Context, volume_id: str, new_volume_id: str, error: bool) -> str:
        """The end of a swap (Cinder's ``os-migrate_volume_completion``): the server's attachment of
        ``volume_id`` goes (``available`` again, or ``in-use`` for its other servers) and its attachment of
        ``new_volume_id`` is attached (``in-use``); nothing changes with ``error``.  The id that now holds
        the server's data (``save_volume_id``)."""

    def update_snapshot_status(self, ctx: Context, snapshot_id: str, status: str) -> None:
        """What a backend (or a compute host asked to make it) reports of a snapshot under way (Cinder's
        ``os-update_snapshot_status``); ``BadRequest`` for a move Cinder refuses, ``NotFound``."""

    def create_volume(self, ctx: Context, size: int | None, *, name: str | None = None, image_id: str | None = None,
                      snapshot_id: str | None = None, source_volid: str | None = None,
                      volume_type: str | None = None, availability_zone: str | None = None,
                      description: str | None = None, metadata: dict | None = None) -> VolumeRef:
        """A new volume (``creating`` until its data are there), blank or from what is named."""

    def delete_volume(self, ctx: Context, volume_id: str) -> None: ...

    # -- Nova's os-volumes and os-snapshots proxies (to 2.35), always as the caller ---------------------
    def volume_info(self, ctx: Context, volume_id: str) -> VolumeInfo: ...

    def volume_infos(self, ctx: Context) -> list[VolumeInfo]:
        """The caller's project's volumes, newest first."""

    def snapshot_info(self, ctx: Context, snapshot_id: str) -> SnapshotInfo: ...

    def snapshot_infos(self, ctx: Context) -> list[SnapshotInfo]:
        """The caller's project's snapshots, newest first."""

    def create_snapshot(self, ctx: Context, volume_id: str, *, name: str | None = None,
                        description: str | None = None, force: bool = False) -> SnapshotInfo: ...

    def delete_snapshot(self, ctx: Context, snapshot_id: str) -> None: ...
