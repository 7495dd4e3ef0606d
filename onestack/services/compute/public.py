"""What other services may ask of Compute: the only module of it they import.

Block Storage tells compute that a volume attached to servers grew, as Cinder sends Nova the
``volume-extended`` external event: each server holding the volume records an ``extend_volume`` action, and
a running guest grows its disk (it holds the volume's file open, so the file grows through it).  A
snapshot of a volume a running guest holds is taken by that guest (``snapshot_volume``), so what it writes
next goes to a new layer and the snapshot is a consistent copy.  A volume Block Storage moves to another
backend while attached (Cinder's migration, which calls Nova's swap) is moved under its running guests by
``volume_moved``: the guest copies its disk onto the new file and switches to it, and the server records a
``swap_volume`` action (event ``compute_swap_volume``), as Nova does for Cinder's swap call.
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

    def volume_moved(self, volume_id: str, connection: dict) -> bool:
        """Block Storage moves the attached volume to ``connection`` (the same volume on another backend):
        each server holding it keeps the new connection, and a running guest copies its disk there while it
        runs and switches to it (QMP ``blockdev-mirror``, as a swap).  True when a running guest did (the data
        are there); False when none runs with it (the caller copies the data); an ``APIError`` (409) when a
        guest could not.  Safe to repeat: a guest already on the new file stays."""
