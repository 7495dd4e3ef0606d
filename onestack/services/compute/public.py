"""What other services may ask of Compute: the only module of it they import.

Block Storage tells compute that a volume attached to servers grew, as Cinder sends Nova the
``volume-extended`` external event: each server holding the volume records an ``extend_volume`` action, and
a running guest grows its disk (it holds the volume's file open, so the file grows through it).  A
snapshot of a volume a running guest holds is taken by that guest (``snapshot_volume``), so what it writes
next goes to a new layer and the snapshot is a consistent copy.
"""

from __future__ import annotations

from typing import Protocol


class GuestVolumes(Protocol):
    def volume_extended(self, volume_id: str, size_gb: int) -> bool:
        """The volume now has ``size_gb``: True when a running guest grew its disk (and the file with it); False
        when no running guest holds the file (the caller grows it); an ``APIError`` (409) when a guest could
        not grow it."""

    def volume_limits_changed(self, volume_id: str, qos_specs: dict | None) -> None:
        """The volume's front-end QoS keys changed (its type's spec or association did): the guests that have
        it take them at once, and keep them across restarts."""

    def snapshot_volume(self, volume_id: str, overlay_path: str) -> bool:
        """Freeze the volume's data under the running guest that has it: the empty qcow2 at ``overlay_path``
        becomes what the guest writes to (QMP ``blockdev-snapshot``).  True when a guest did; False when no
        running guest holds the file; an ``APIError`` (409) when the guest could not, or several hold it."""
