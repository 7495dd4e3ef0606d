"""Attachments: a volume given to a server, with the statuses Nova and Cinder agree on
(available -> reserved -> attaching -> in-use -> detaching -> available), through the attachments API
(3.27+) and the older actions (os-reserve, os-attach, os-begin_detaching, os-detach...).

Only records change here: the data stay in the volume's file, which a ``file`` connection names for the
host that attaches it, or in its RBD image, which an ``rbd`` connection names (pool/image and the Ceph
client) for QEMU to open through librbd.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page, parse_limit
from onestack.services.volume.models import Attachment, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.public import Connection
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.qos import front_end_limits
from onestack.services.volume.service.stores import VolumeStores

# What the attachment list filters on: a query name and the column it compares.
FILTERS = {"volume_id": Attachment.volume_id, "instance_uuid": Attachment.instance_uuid,
           "status": Attachment.attach_status}


def _reservable(volume: Volume, instance_uuid: str | None = None) -> None:
    """A volume is reserved when free, or when multiattach; or, as Cinder overrides its check, again for the one
    server that already holds it (how Nova moves a server's volume to a new attachment: rebuild, migrations)."""
    same_server = instance_uuid is not None and bool(volume.attachments) and all(
        a.instance_uuid == instance_uuid for a in volume.attachments)
    allowed = ("available", "in-use", "reserved") if volume.multiattach or same_server else ("available",)
    if volume.status not in allowed or volume.task is not None:
        raise BadRequest(f"Invalid volume: Volume {volume.id} status must be {' or '.join(allowed)} to reserve, "
                         f"but the current status is {volume.status}.")


def _settle(volume: Volume) -> None:
    """The volume's status from what is left attached."""
    states = {a.attach_status for a in volume.attachments}
    if "attached" in states:
        volume.status = "in-use"
    elif "attaching" in states:
        volume.status = "attaching"
    elif "reserved" in states:
        volume.status = "reserved"
    else:
        volume.status = "available"


class Attachments:
    def __init__(self, db: Database, stores: VolumeStores):
        self.db = db
        self.stores = stores

    def connection(self, volume: Volume, mode: str = "rw", backend: str | None = None) -> Connection:
        """How a guest opens the volume; ``backend``: where it is being moved to (a migration), instead of
        where it lies."""
        access = "ro" if volume.readonly else mode
        qos_specs = front_end_limits(object_session(volume), volume.volume_type, volume.size)
        backend = backend or volume.backend
        if self.stores.is_rbd(backend):
            # Cinder's rbd connection: QEMU opens pool/image through librbd as this cloud's Ceph client.
            ceph = self.stores.ceph
            return Connection(path=f"{self.stores.rbd.pool}/{self.stores.rbd.volume_name(volume.id)}",
                              volume_id=volume.id, access_mode=access, format="raw", driver_volume_type="rbd",
                              rbd={"conf": ceph.conf, "auth_username": ceph.client, "keyring": ceph.keyring},
                              qos_specs=qos_specs)
        return Connection(path=str(self.stores.of(backend).volume(volume.id)), volume_id=volume.id, access_mode=access,
                          qos_specs=qos_specs, encrypted=volume.encryption_key_id is not None)

    @property
    def files(self):
        return self.stores.files

    def _attachment(self, session: Session, ctx: Context, attachment_id: str, action: str) -> Attachment:
        found = session.get(Attachment, attachment_id)
        volume = session.get(Volume, found.volume_id) if found else None
        if volume is None:
            raise NotFound(f"Volume attachment {attachment_id} could not be found.")
        load(session, Volume, volume.id, ctx, "Volume attachment")
        authorize(ctx, action, volume.project_id)
        return found

    # -- the attachments API ---------------------------------------------------------------------------
    def create(self, ctx: Context, volume_id: str, instance_uuid: str | None, connector: dict | None,
               mode: str = "rw") -> tuple[Attachment, Connection | None]:
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, "volume:attachment_create", volume.project_id)
            _reservable(volume, instance_uuid)
            attachment = Attachment(id=str(uuid.uuid4()), volume_id=volume.id, project_id=volume.project_id,
                                    instance_uuid=instance_uuid, attach_status="reserved", attach_mode=mode)
            volume.attachments.append(attachment)
            connection = None
            if connector:
                attachment.connector, attachment.attach_status = connector, "attaching"
                attachment.attached_host = connector.get("host")
                connection = self.connection(volume, mode)
            _settle(volume)
            session.flush()
            return attachment, connection

    def show(self, ctx: Context, attachment_id: str) -> tuple[Attachment, Connection | None]:
        with self.db.read() as session:
            attachment = self._attachment(session, ctx, attachment_id, "volume:attachment_get")
            volume = session.get(Volume, attachment.volume_id)
            return attachment, self.connection(volume, attachment.attach_mode) if attachment.connector else None

    def listing(self, ctx: Context, query) -> tuple[list[Attachment], str | None]:
        authorize(ctx, "volume:attachment_get")
        all_projects = (query.get("all_tenants") or "0").lower() not in ("0", "false", "no", "off")
        with self.db.read() as session:
            stmt = scoped(select(Attachment), Attachment, ctx, all_projects).order_by(Attachment.created_at.desc(),
                                                                                     Attachment.id)
            for field, column in FILTERS.items():
                if field in query:
                    stmt = stmt.where(column == query[field])
            return page(list(session.scalars(stmt)), query, parse_limit(query))

    def update(self, ctx: Context, attachment_id: str, connector: dict,
               mountpoint: str | None = None) -> tuple[Attachment, Connection]:
        with self.db.write() as session:
            attachment = self._attachment(session, ctx, attachment_id, "volume:attachment_update")
            volume = session.get(Volume, attachment.volume_id)
            if attachment.attach_status not in ("reserved", "attaching", "attached"):
                raise BadRequest(f"Invalid volume attachment: it is {attachment.attach_status}.")
            attachment.connector, attachment.attached_host = connector, connector.get("host")
            attachment.mountpoint = mountpoint or connector.get("mountpoint") or attachment.mountpoint
            if attachment.attach_status == "reserved":
                attachment.attach_status = "attaching"
            _settle(volume)
            return attachment, self.connection(volume, attachment.attach_mode)

    def complete(self, ctx: Context, attachment_id: str) -> None:
        with self.db.write() as session:
            attachment = self._attachment(session, ctx, attachment_id, "volume:attachment_complete")
            if attachment.connector is None:
                raise BadRequest("Invalid volume attachment: it has no connector yet (update it first).")
            attachment.attach_status, attachment.attach_time = "attached", utcnow()
            _settle(session.get(Volume, attachment.volume_id))

    def delete(self, ctx: Context, attachment_id: str) -> list[Attachment]:
        """Let the attachment go; the volume's attachments that remain."""
        with self.db.write() as session:
            attachment = self._attachment(session, ctx, attachment_id, "volume:attachment_delete")
            volume = session.get(Volume, attachment.volume_id)
            volume.attachments.remove(attachment)
            _settle(volume)
            return list(volume.attachments)

    # -- the end of compute's swap (Cinder's os-migrate_volume_completion) -------------------------------
    def migrate_completion(self, ctx: Context, volume_id: str, new_volume_id: str, error: bool, *,
                           checked: bool = True) -> str:
        """Compute moved a guest's disk from ``volume_id`` to ``new_volume_id`` (a swap, not a migration of
        Cinder's: no volume here is ever ``migrating``): as Cinder does for such a pair, the server's attachment
        of the old volume goes and its attachment of the new one is attached, so neither stays ``detaching``
        or ``attaching``; with ``error`` nothing changes.  The id whose record now holds the data (Cinder's
        ``save_volume_id``): the new volume's.  ``checked``: the caller's policy is Cinder's (admins);
        compute's own call is not checked again, as Nova calls with the context of the admin who swapped."""
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            if checked:
                authorize(ctx, "volume_extension:volume_admin_actions:migrate_volume_completion",
                          volume.project_id)
            new = load(session, Volume, new_volume_id, ctx, "Volume", lock=True)
            if error:
                return new.id
            if new.id == volume.id:
                raise BadRequest("Invalid volume: a volume cannot be swapped with itself.")
            servers = {a.instance_uuid: a for a in volume.attachments}
            pending = [a for a in new.attachments if a.attach_status in ("reserved", "attaching")
                       and a.instance_uuid in servers]
            if not servers:
                raise BadRequest(f"Invalid volume: volume {volume.id} is attached to no server.")
            if not pending:  # an admin's own call: the first server moves, with a new attachment (Cinder's attach)
                _reservable(new)
                first = volume.attachments[0]
                pending = [Attachment(id=str(uuid.uuid4()), volume_id=new.id, project_id=new.project_id,
                                      instance_uuid=first.instance_uuid, attached_host=first.attached_host,
                                      mountpoint=first.mountpoint, attach_mode=first.attach_mode,
                                      connector=first.connector or {})]
                new.attachments.append(pending[0])
            for attachment in pending:
                old = servers[attachment.instance_uuid]
                attachment.attach_status, attachment.attach_time = "attached", utcnow()
                attachment.mountpoint = attachment.mountpoint or old.mountpoint
                if attachment.connector is None:
                    attachment.connector = old.connector or {}
                volume.attachments.remove(old)
            _settle(volume)
            _settle(new)
            return new.id

    # -- the older actions -----------------------------------------------------------------------------
    def reserve(self, ctx: Context, volume_id: str) -> None:
        with self._volume(ctx, volume_id) as volume:
            _reservable(volume)
            volume.status = "attaching"

    def unreserve(self, ctx: Context, volume_id: str) -> None:
        with self._volume(ctx, volume_id) as volume:
            if volume.status == "attaching":
                _settle(volume)

    def attach(self, ctx: Context, volume_id: str, instance_uuid: str | None, host_name: str | None,
               mountpoint: str, mode: str) -> None:
        with self._volume(ctx, volume_id) as volume:
            if volume.status != "attaching":
                _reservable(volume)
            if volume.readonly and mode == "rw":
                raise BadRequest("Invalid volume: Volume is read-only; attach it with mode ro.")
            volume.attachments.append(Attachment(
                id=str(uuid.uuid4()), volume_id=volume.id, project_id=volume.project_id,
                instance_uuid=instance_uuid, attached_host=host_name, mountpoint=mountpoint,
                attach_status="attached", attach_mode=mode, attach_time=utcnow(), connector={}))
            _settle(volume)

    def begin_detaching(self, ctx: Context, volume_id: str) -> None:
        with self._volume(ctx, volume_id) as volume:
            if volume.status != "in-use":
                raise BadRequest(f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
                                 f"attach_status must be 'attached' to detach (it is {volume.status}).")
            volume.status = "detaching"

    def roll_detaching(self, ctx: Context, volume_id: str) -> None:
        with self._volume(ctx, volume_id) as volume:
            if volume.status == "detaching":
                _settle(volume)

    def detach(self, ctx: Context, volume_id: str, attachment_id: str | None, *, force: bool = False) -> None:
        with self._volume(ctx, volume_id, force) as volume:
            attached = [a for a in volume.attachments if attachment_id in (None, a.id)]
            if not volume.attachments and attachment_id is None:
                return  # nothing attached: Cinder lets the call pass
            if not attached or (attachment_id is None and len(attached) > 1):
                raise BadRequest(f"Invalid volume: Volume {volume.id} has no attachment"
                                 f"{' ' + attachment_id if attachment_id else ''} to detach"
                                 f"{' (name the attachment_id: it has several)' if attached else ''}.")
            volume.attachments.remove(attached[0])
            _settle(volume)

    def initialize_connection(self, ctx: Context, volume_id: str, connector: dict) -> Connection:
        with self._volume(ctx, volume_id) as volume:
            return self.connection(volume, "ro" if volume.readonly else "rw")

    @contextlib.contextmanager
    def _volume(self, ctx: Context, volume_id: str, force: bool = False) -> Iterator[Volume]:
        """One write transaction on a volume the caller may attach or detach (or, with ``force``, an admin)."""
        action = "volume_extension:volume_admin_actions:force_detach" if force else \
            "volume_extension:volume_actions:attach"
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, action, volume.project_id)
            yield volume
