"""What other services may ask of Block Storage: the only module of it they import.

Compute attaches a volume the way Nova does with Cinder's attachments API: ``attachment_create``
reserves the volume for a server, ``attachment_update`` with the host's connector answers how to reach
the data, ``attachment_complete`` marks it in use, ``attachment_delete`` lets it go.  A ``file``
connection names a qcow2 file the guest's QEMU opens directly.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class Connection:
    """How a host reaches a volume's data (Cinder's ``connection_info``)."""

    path: str
    access_mode: str
    volume_id: str
    format: str = "qcow2"
    driver_volume_type: str = "file"

    def as_dict(self) -> dict:
        return {"driver_volume_type": self.driver_volume_type,
                "data": {"path": self.path, "name": self.path.rsplit("/", 1)[-1], "format": self.format,
                         "access_mode": self.access_mode, "volume_id": self.volume_id, "encrypted": False,
                         "qos_specs": None, "discard": True}}


class BlockStorage(Protocol):
    def volume(self, ctx: Context, volume_id: str) -> VolumeRef: ...

    def attachment_create(self, ctx: Context, volume_id: str, instance_uuid: str, connector: dict | None = None,
                          mode: str = "rw") -> str:
        """Reserve the volume for the server; the attachment's id."""

    def attachment_update(self, ctx: Context, attachment_id: str, connector: dict,
                          mountpoint: str | None = None) -> Connection: ...

    def attachment_complete(self, ctx: Context, attachment_id: str) -> None: ...

    def attachment_delete(self, ctx: Context, attachment_id: str) -> None: ...
