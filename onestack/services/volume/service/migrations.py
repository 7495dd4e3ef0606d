"""Moving a volume to another backend, as Cinder's migration: an admin's ``os-migrate_volume`` to a host
(``host@backend[#pool]``), or a retype to a type of another backend with ``migration_policy: on-demand``.

The API only checks and records the intent on the row (``migration_status`` ``starting``, ``task``
``migrate`` with the source and destination backends and, for a retype, the new type); the reconciler moves
the data (``migrating``), then switches the row to the destination backend and type in one transaction
(``completing``), removes the source's data and ends ``success`` (or ``error``, the volume left where it
was).  Each phase is written before the next begins and every step is safe to repeat, so a restart resumes
a migration from where the row says it is: never stuck in ``migrating``.  The volume keeps its id: its data
are named by it on every backend (where Cinder makes a second volume and swaps their ids at the end).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.volume.models import Snapshot, Volume, VolumeType, host_name, host_of
from onestack.services.volume.policies import authorize
from onestack.services.volume.service.access import load
from onestack.services.volume.service.stores import FILE, VolumeStores

# A migration under way (Cinder refuses another one, and most actions, meanwhile).
ACTIVE = ("starting", "migrating", "completing")
# What may be migrated again (Cinder's AVAILABLE_MIGRATION_STATUS).
ENDED = (None, "error", "success", "deleting")


def _refused(volume: Volume, why: str) -> BadRequest:
    return BadRequest(f"Invalid volume: Volume {volume.id} status must be available or in-use, must not be "
                      f"migrating, have snapshots, be replicated, be part of a group and destination host must be "
                      f"different than the current one ({why}).")


def backend_at(stores: VolumeStores, host: str) -> str:
    """The backend a ``host@backend#pool`` (or ``host@backend``) names; 400 as Cinder's InvalidHost when this
    cloud has no volume service there."""
    backend = host.split("@", 1)[1].split("#")[0] if "@" in host else ""
    if host_of(host) != host_name() or backend not in stores.names():
        raise BadRequest(f"Invalid host: No available service named {host}")
    return backend


def check_movable(session: Session, stores: VolumeStores, volume: Volume, backend: str) -> None:
    """Cinder's checks before a migration (InvalidVolume, 400), and what this cloud cannot move."""
    source = volume.backend or FILE
    if volume.status not in ("available", "in-use") or volume.task is not None:
        raise _refused(volume, f"it is {volume.status}{' with a task under way' if volume.task else ''}")
    if volume.migration_status not in ENDED:
        raise _refused(volume, f"it is already migrating ({volume.migration_status})")
    if volume.group_id is not None:
        raise _refused(volume, f"it belongs to group {volume.group_id}")
    snapshots = list(session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id)))
    if any(not s.hidden for s in snapshots):
        raise BadRequest("Invalid volume: Volume must not have snapshots.")
    if snapshots and not stores.is_file(source):  # an RBD clone's parent snapshot lives in the volume's image
        raise _refused(volume, "volumes were cloned from it on an RBD backend")
    if backend == source:
        raise BadRequest("Invalid host: Destination host must be different than the current host.")
    if volume.encryption_key_id is not None and not (stores.is_file(backend) and stores.is_file(source)):
        raise BadRequest("Invalid volume: an encrypted volume moves between file backends only.")
    # As in Cinder, an attached encrypted volume and a multi-attached one are accepted here: compute refuses
    # them as Nova does when the migration asks it to swap (a running guest's encrypted disk, a volume with
    # more than one read/write attachment), and the migration then ends ``error``.  Several attachments of
    # which at most one writes (read-only ones) would be swapped one guest after another onto the same new
    # file, which this cloud does not do.
    if volume.status == "in-use" and len(volume.attachments) > 1 \
            and sum(a.attach_mode == "rw" for a in volume.attachments) <= 1:
        raise BadRequest("Invalid volume: a volume attached read-only to several servers is not moved by this "
                         "cloud.")


def start(volume: Volume, backend: str, target: VolumeType | None, *, lock: bool = False,
          status: str | None = None) -> None:
    """Record the migration on the row (the reconciler does it): ``status`` the volume shows meanwhile
    (``retyping`` for a retype; ``maintenance`` for a locked available volume, as Cinder's ``lock_volume``)."""
    volume.previous_status = volume.status
    if status is not None:
        volume.status = status
    elif lock and volume.status == "available":
        volume.status = "maintenance"
    volume.migration_status, volume.task = "starting", "migrate"
    volume.task_args = {"source": volume.backend or FILE, "backend": backend,
                        "type_id": target.id if target is not None else None}


class Migrations:
    def __init__(self, db: Database, stores: VolumeStores):
        self.db = db
        self.stores = stores

    def migrate(self, ctx: Context, volume_id: str, host: str, lock_volume: bool) -> None:
        """``os-migrate_volume`` (admins): the data are always copied by this host (``force_host_copy`` changes
        nothing: no backend here moves data by itself)."""
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, "volume_extension:volume_admin_actions:migrate_volume", volume.project_id)
            backend = backend_at(self.stores, host)
            check_movable(session, self.stores, volume, backend)
            start(volume, backend, None, lock=lock_volume)
