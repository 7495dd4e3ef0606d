"""Volumes attached to servers (Nova's os-volume_attachments), with the block storage service's attachments
API as Nova uses it: the volume is reserved for the server (``reserved``), connected for its host
(``attaching``), hot-plugged into the guest by the host's driver and then marked in use (``in-use``); a detach
marks it ``detaching``, has the guest let the disk go, and deletes the attachment (``available``).  A swap
(admins) moves the guest's disk to another volume while it runs (``swap``).

Each volume is a ``BlockDevice`` row holding the connection the block storage service answered, so every
later start of the guest (reboot, resize, rebuild, unshelve) gives it the same disks.  A step that fails puts
back what the steps before it did, so the volume and the server never disagree.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.drivers.compute import ComputeDriver, DriverError, VolumeDisk
from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest, Conflict, NotFound
from onestack.http.microversion import Version, at_least
from onestack.services.compute.models import BlockDevice, Instance, InstanceAction, InstanceActionEvent
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.devices import connector, next_device
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import service_context
from onestack.services.compute.service.servers import Servers, close_action
from onestack.services.volume.public import BlockStorage

LOG = logging.getLogger("onestack.compute.volumes")
GiB = 1024 ** 3


def _request_id() -> str:
    return f"req-{uuid.uuid4()}"


def _record_done(session: Session, instance: Instance | None, action: str, event: str, result: str,
                 details: str = "") -> None:
    """An action Block Storage had compute do (no request of a user recorded it first, as Nova records one
    for the external event or for Cinder's call): the action and the one event that closes it, at once."""
    if instance is None:  # deleted meanwhile: nothing to show it on
        return
    ctx = service_context(instance)
    record = InstanceAction(instance_uuid=instance.id, action=action, request_id=_request_id(), user_id=ctx.user_id,
                            project_id=instance.project_id, finish_time=utcnow(),
                            message="Error" if result == "Error" else None)
    session.add(record)
    session.flush()
    session.add(InstanceActionEvent(action_id=record.id, event=event, host=instance.host, result=result,
                                    traceback=details or None, start_time=record.start_time,
                                    finish_time=record.finish_time))

# Nova attaches and detaches volumes of a server in these states (shelved ones from 2.20).
STATES = (st.ACTIVE, st.PAUSED, st.STOPPED, st.RESIZED)
SHELVED_STATES = (st.SHELVED, st.SHELVED_OFFLOADED)
# Nova's MultiattachSwapVolumeNotSupported (400): its swap API's words for a volume other servers write too
MULTIATTACH_SWAP_REFUSED = "Swapping multi-attach volumes with more than one read/write attachment is not supported."


class VolumeAttachments:
    def __init__(self, db: Database, servers: Servers, hosts: HostDrivers, volumes: BlockStorage | None):
        self.db = db
        self.servers = servers
        self.hosts = hosts
        self.volumes = volumes

    # -- reading ---------------------------------------------------------------------------------------
    def listing(self, ctx: Context, server_id: str, limit: int | None, offset: int) -> tuple[Instance,
                                                                                          list[BlockDevice]]:
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-volumes-attachments:index")
        rows = self.rows([instance.id])[instance.id]
        return instance, rows[offset:offset + limit if limit is not None else None]

    def show(self, ctx: Context, server_id: str, volume_id: str) -> BlockDevice:
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-volumes-attachments:show")
        return self._find(instance, volume_id)

    def rows(self, instance_ids: list[str]) -> dict[str, list[BlockDevice]]:
        """Each instance's volumes, its boot volume first, then in the order they were attached."""
        found: dict[str, list[BlockDevice]] = {instance_id: [] for instance_id in instance_ids}
        if not instance_ids:
            return found
        with self.db.read() as session:
            for row in session.scalars(select(BlockDevice).where(
                    BlockDevice.instance_uuid.in_(instance_ids), BlockDevice.volume_id.is_not(None))
                    .order_by(BlockDevice.boot_index.is_(None), BlockDevice.created_at, BlockDevice.id)):
                found[row.instance_uuid].append(row)
        return found

    def guest_disks(self, instance_id: str) -> tuple[VolumeDisk, ...]:
        """The volumes the guest has (or is being given back) as its driver takes them, an encrypted one with
        its key (asked again at every start: no key is kept with the server)."""
        disks = tuple(VolumeDisk.from_connection(row.connection, boot=row.boot_index == 0)
                      for row in self.rows([instance_id])[instance_id] if row.connection is not None)
        if not any(disk.encrypted for disk in disks):
            return disks
        with self.db.read() as session:
            instance = session.get(Instance, instance_id)
            ctx = service_context(instance)
        return tuple(self._keyed(ctx, disk) for disk in disks)

    def _keyed(self, ctx: Context, disk: VolumeDisk) -> VolumeDisk:
        """An encrypted volume's disk with its passphrase, which the block storage service gives (as Nova asks
        the key manager for the volume's ``encryption_key_id``); ``DriverError`` when it cannot be had."""
        if not disk.encrypted or self.volumes is None:
            return disk
        try:
            return dataclasses.replace(disk, secret=self.volumes.volume_secret(ctx, disk.volume_id))
        except APIError as error:
            raise DriverError(f"the key of encrypted volume {disk.volume_id} could not be had: {error.message}") \
                from None

    def _find(self, instance: Instance, volume_id: str) -> BlockDevice:
        row = next((r for r in self.rows([instance.id])[instance.id] if r.volume_id == volume_id), None)
        if row is None:
            raise NotFound(f"Volume {volume_id} is not attached to the instance {instance.id}")
        return row

    def _changeable(self, ctx: Context, server_id: str, action: str, policy: str, version: Version | None) -> Instance:
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id)
        authorize(ctx, policy, instance)
        self.servers.check_lock(ctx, instance)
        st.require(instance, action, STATES + (SHELVED_STATES if at_least(version, "2.20") else ()))
        if self.volumes is None:
            raise Conflict("There is no Block Storage service in this cloud.")
        return instance

    # -- attach ----------------------------------------------------------------------------------------
    def attach(self, ctx: Context, server_id: str, request: dict, version: Version | None,
               request_id: str) -> BlockDevice:
        instance = self._changeable(ctx, server_id, "attach_volume", "os_compute_api:os-volumes-attachments:create",
                                    version)
        volume = self.volumes.volume(ctx, request["volumeId"])
        if volume.multiattach and not at_least(version, "2.60"):
            raise BadRequest("Multiattach volumes are only supported starting with compute API version 2.60.")
        if any(r.volume_id == volume.id for r in self.rows([instance.id])[instance.id]):
            raise BadRequest(f"Invalid volume: volume {volume.id} already attached")
        attachment_id = self.volumes.attachment_create(ctx, volume.id, instance.id)
        try:
            row = self._reserve(ctx, instance, volume.id, attachment_id, request, request_id)
        except Exception:
            self._let_go(ctx, attachment_id)
            raise
        try:
            self.connect(ctx, instance, row)
        except (DriverError, APIError) as error:
            self._forget(row.id)
            # the server's delete may have let the attachment go already (release_all): NotFound is no news
            self._let_go(ctx, attachment_id)
            self._refuse_if_deleting(instance.id)
            if isinstance(error, APIError):
                raise
            raise Conflict(f"Failed to attach volume {volume.id} to instance {instance.id}: {error}") from None
        return row

    def _refuse_if_deleting(self, instance_id: str, session=None) -> None:
        """Nova's answers to an attach whose server is deleted meanwhile: 409 while the delete runs, 404 once
        it is gone; rather than what a step of the attach met on the way (its attachment let go, its guest
        destroyed)."""
        if session is None:
            with self.db.read() as reading:
                return self._refuse_if_deleting(instance_id, reading)
        instance = session.get(Instance, instance_id)
        if instance is None or instance.deleted:
            raise NotFound(f"Instance {instance_id} could not be found.")
        if instance.task_state == st.DELETING:
            raise Conflict(f"Cannot 'attach_volume' instance {instance_id} while it is in task_state "
                           f"{st.DELETING}")

    def _reserve(self, ctx: Context, instance: Instance, volume_id: str, attachment_id: str, request: dict,
                 request_id: str) -> BlockDevice:
        """The server's row for the volume, with the next free device name (under the write lock, so two
        attaches in parallel take two names)."""
        with self.db.write() as session:
            # checked in the write that adds the row: a delete that begins after it finds the row and lets the
            # volume go (release_all); one that began before is refused here, or the volume would stay
            # attached to a server that is gone
            self._refuse_if_deleting(instance.id, session)
            taken = list(session.scalars(select(BlockDevice.device_name)
                                         .where(BlockDevice.instance_uuid == instance.id)))
            row = BlockDevice(id=str(uuid.uuid4()), instance_uuid=instance.id, volume_id=volume_id,
                              attachment_id=attachment_id, device_name=next_device(instance, taken),
                              tag=request.get("tag"), delete_on_termination=bool(request.get("delete_on_termination")),
                              source_type="volume", status="attaching")
            session.add(row)
            self.servers.record(session, ctx, session.get(Instance, instance.id), "attach_volume", request_id)
            session.flush()
            session.expunge(row)
            return row

    def connect(self, ctx: Context, instance: Instance, row: BlockDevice, *, plug: bool = True) -> None:
        """Connect the volume for the instance's host, give it to the guest (``plug``: the guest exists; a boot
        gives it the volume when it spawns), mark it in use.  A server with no guest now (shelved and
        offloaded) gets it when it starts again."""
        connection = self.volumes.attachment_update(ctx, row.attachment_id, connector(instance.host),
                                                    mountpoint=row.device_name).as_dict()
        disk = VolumeDisk.from_connection(connection, boot=row.boot_index == 0)
        plugged = plug and instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED
        if plugged:
            self._driver(instance).attach_volume(instance.id, self._keyed(ctx, disk))
        try:
            self.volumes.attachment_complete(ctx, row.attachment_id)
        except APIError:
            if plugged:  # the guest must not keep a disk the block storage service does not count as in use
                self._driver(instance).detach_volume(instance.id, disk.volume_id)
            raise
        with self.db.write() as session:
            found = session.get(BlockDevice, row.id)
            if found is not None:
                found.connection, found.status = connection, "attached"
                return
        # the row went meanwhile (the server's delete let its volumes go): the guest keeps no disk for it
        if plugged:
            try:
                self._driver(instance).detach_volume(instance.id, disk.volume_id)
            except DriverError as error:
                LOG.warning("instance %s: volume %s stays on a guest whose row went: %s", instance.id,
                            disk.volume_id, error)
        raise Conflict(f"Volume {row.volume_id} could not be attached to instance {instance.id}: its attachment "
                       "was let go meanwhile.")

    # -- update (2.85) and swap ---------------------------------------------------------------------------
    def update(self, ctx: Context, server_id: str, volume_id: str, request: dict, version: Version | None,
               request_id: str = "") -> None:
        """Only what 2.85 lets change (``delete_on_termination``), or, naming another volume, a swap (any
        version, admins by default, as Nova's)."""
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id)
        if request["volumeId"] != volume_id:
            self.swap(ctx, instance, volume_id, request["volumeId"], request_id)
            return
        row = self._find(instance, volume_id)
        if not at_least(version, "2.85"):
            raise BadRequest(f"The volume {volume_id} is already attached: nothing to update before 2.85.")
        authorize(ctx, "os_compute_api:os-volumes-attachments:update", instance)
        self.servers.check_lock(ctx, instance)
        for key, current in (("id", volume_id), ("serverId", instance.id), ("device", row.device_name),
                             ("tag", row.tag), ("attachment_id", row.attachment_id), ("bdm_uuid", row.id)):
            if key in request and request[key] != current:
                raise BadRequest(f"The {key} of a volume attachment cannot be changed.")
        with self.db.write() as session:
            found = session.get(BlockDevice, row.id)
            if "delete_on_termination" in request:
                found.delete_on_termination = request["delete_on_termination"]

    def swap(self, ctx: Context, instance: Instance, old_id: str, new_id: str, request_id: str) -> None:
        """Move the server's disk from one volume to another, as Nova's swap with Cinder's attachments: the old
        volume ``detaching`` and the new one ``reserved`` then ``attaching`` while the guest's host copies the
        data and switches the guest to the new volume; Cinder's ``os-migrate_volume_completion`` then makes the
        old one ``available`` and the new one ``in-use``.  The intent is written on the server's row
        (``swapping``) before anything changes, so a restart finishes or undoes it (``recover``)."""
        authorize(ctx, "os_compute_api:os-volumes-attachments:swap", instance)
        self.servers.check_lock(ctx, instance)
        st.require(instance, "swap_volume", (st.ACTIVE, st.PAUSED, st.RESIZED))
        if self.volumes is None:
            raise Conflict("There is no Block Storage service in this cloud.")
        row = self._find(instance, old_id)
        old, new = self.volumes.volume(ctx, old_id), self.volumes.volume(ctx, new_id)
        if row.boot_index == 0:
            raise BadRequest("Invalid volume: swapping a server's root volume is not supported by this cloud.")
        if row.status != "attached":
            raise Conflict(f"Volume {old_id} is {row.status} on instance {instance.id}.")
        if any(status == "attached" for _, status, _ in new.attachments) or new.status == "in-use":
            raise BadRequest("Invalid volume: New volume must be detached in order to swap.")
        if new.size < old.size:
            raise BadRequest("Invalid volume: New volume must be the same size or larger.")
        with self.db.write() as session:
            found = session.get(BlockDevice, row.id)
            found.status, found.swap_volume_id, found.swap_attachment_id = "swapping", new.id, None
            self.servers.record(session, ctx, session.get(Instance, instance.id), "swap_volume", request_id)
        try:
            self.volumes.begin_detaching(ctx, old.id)
            # Nova's rule: a multiattach volume written by other servers too is not swapped (their data would
            # go on in the old volume); counted once the volume is ``detaching``, so no attach slips in.
            if sum(mode == "rw" for _, _, mode in self.volumes.volume(ctx, old.id).attachments) > 1:
                self.volumes.roll_detaching(ctx, old.id)
                raise BadRequest(MULTIATTACH_SWAP_REFUSED)
            try:
                attachment_id = self.volumes.attachment_create(ctx, new.id, instance.id)
            except APIError:
                self.volumes.roll_detaching(ctx, old.id)
                raise
        except APIError:
            self._end_swap(row.id)
            raise
        with self.db.write() as session:
            session.get(BlockDevice, row.id).swap_attachment_id = attachment_id
        try:
            self._finish_swap(ctx, instance, row.id)
        except (DriverError, APIError) as error:
            self._undo_swap(ctx, row.id)
            self._close_swap(instance.id, "Error", error.message if isinstance(error, APIError) else str(error))
            if isinstance(error, APIError):
                raise
            raise Conflict(f"Failed to swap volume {old_id} for {new_id} on instance {instance.id}: {error}") \
                from None
        self._close_swap(instance.id, "Success")

    def _close_swap(self, instance_id: str, result: str, details: str = "") -> None:
        """The ``swap_volume`` action gets its ``compute_swap_volume`` event, as Nova's compute records."""
        with self.db.write() as session:
            found = session.get(Instance, instance_id)
            if found is not None:
                close_action(session, found, "swap_volume", "compute_swap_volume", result, details)

    def _finish_swap(self, ctx: Context, instance: Instance, row_id: str) -> None:
        """Every step safe to repeat: connect the new volume for the host, have the guest move to it (a guest
        on it already stays), end the swap on the block storage side (unless done), then the row follows."""
        with self.db.read() as session:
            row = session.get(BlockDevice, row_id)
            session.expunge(row)
        connection = self.volumes.attachment_update(ctx, row.swap_attachment_id, connector(instance.host),
                                                    mountpoint=row.device_name).as_dict()
        # the guest's disk keeps the names of the volume it was first given (VolumeDisk.slot)
        previous = VolumeDisk.from_connection(row.connection) if row.connection else None
        slot = previous.qemu_key if previous is not None else row.volume_id
        if slot != row.swap_volume_id:
            connection["data"]["slot"] = slot
        disk = VolumeDisk.from_connection(connection)
        if instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED:
            self._driver(instance).swap_volume(instance.id, row.volume_id, self._keyed(ctx, disk))
        held = {a.id for a in self.volumes.attachments_of(ctx, instance.id)}
        if row.attachment_id in held:
            self.volumes.migrate_volume_completion(ctx, row.volume_id, row.swap_volume_id, False)
        with self.db.write() as session:
            found = session.get(BlockDevice, row_id)
            found.volume_id, found.attachment_id, found.connection = row.swap_volume_id, row.swap_attachment_id, \
                connection
        self._end_swap(row_id)

    def _undo_swap(self, ctx: Context, row_id: str) -> None:
        """The guest stays on the old volume: the new one's attachment goes, the old one is ``in-use`` again."""
        with self.db.read() as session:
            row = session.get(BlockDevice, row_id)
            session.expunge(row)
        if row.swap_attachment_id is not None:
            self._let_go(ctx, row.swap_attachment_id)
        try:
            self.volumes.roll_detaching(ctx, row.volume_id)
        except APIError:
            pass  # the volume is gone or no longer detaching: nothing to roll back
        self._end_swap(row_id)

    def _end_swap(self, row_id: str) -> None:
        with self.db.write() as session:
            found = session.get(BlockDevice, row_id)
            found.status, found.swap_volume_id, found.swap_attachment_id = "attached", None, None

    # -- detach ----------------------------------------------------------------------------------------
    def detach(self, ctx: Context, server_id: str, volume_id: str, version: Version | None, request_id: str) -> None:
        instance = self._changeable(ctx, server_id, "detach_volume", "os_compute_api:os-volumes-attachments:delete",
                                    version)
        row = self._find(instance, volume_id)
        if row.boot_index == 0:
            raise BadRequest("Cannot detach a root device volume")
        if row.status != "attached":
            raise Conflict(f"Volume {volume_id} is {row.status} on instance {instance.id}.")
        # The server's row first: a crash after it is finished at start-up (``recover``), whatever the volume's
        # status; the other order left a volume ``detaching`` that no row said was being detached.
        self._set_status(row.id, "detaching")
        try:
            self.volumes.begin_detaching(ctx, volume_id)
        except APIError:
            self._set_status(row.id, "attached")
            raise
        try:
            if instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED:
                self._driver(instance).detach_volume(instance.id, volume_id)
        except DriverError as error:
            self._set_status(row.id, "attached")
            self.volumes.roll_detaching(ctx, volume_id)
            raise Conflict(f"Failed to detach volume {volume_id} from instance {instance.id}: {error}") from None
        self.volumes.attachment_delete(ctx, row.attachment_id)
        with self.db.write() as session:
            self.servers.record(session, ctx, session.get(Instance, instance.id), "detach_volume", request_id)
        self._forget(row.id)

    # -- extend (Cinder's volume-extended event) -------------------------------------------------------
    def extended(self, volume_id: str, size_gb: int) -> bool:
        """Block Storage grew the volume: each server it is attached to records an ``extend_volume`` action
        closed by a ``compute_extend_volume`` event (what Tempest waits for), and a running guest grows the disk
        it holds.  True when a guest grew it."""
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(BlockDevice.volume_id == volume_id,
                                                                  BlockDevice.status == "attached")))
            instances = [session.get(Instance, row.instance_uuid) for row in rows]
        grown, failure = False, None
        for instance in instances:
            if instance is None or instance.deleted:
                continue
            result, details = "Success", ""
            try:
                if instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED:
                    grown = self._driver(instance).extend_volume(instance.id, volume_id, size_gb * GiB) or grown
            except DriverError as error:
                result, details, failure = "Error", str(error), error
                LOG.warning("instance %s: volume %s was not extended: %s", instance.id, volume_id, error)
            with self.db.write() as session:
                _record_done(session, session.get(Instance, instance.id), "extend_volume", "compute_extend_volume",
                             result, details)
        if failure is not None:
            raise Conflict(f"Failed to extend volume {volume_id}: {failure}")
        return grown

    # -- new QoS limits of an attached volume ----------------------------------------------------------
    def limits_changed(self, volume_id: str, qos_specs: dict | None) -> None:
        """Each server's connection of the volume takes the new limits (what every later start of the guest
        reads), then the running guest takes them; a guest that cannot is logged and gets them at its next
        start."""
        changed = []
        with self.db.write() as session:
            for row in session.scalars(select(BlockDevice).where(BlockDevice.volume_id == volume_id,
                                                                 BlockDevice.connection.is_not(None))):
                connection = dict(row.connection)
                connection["data"] = {**(connection.get("data") or {}), "qos_specs": qos_specs}
                row.connection = connection
                changed.append((row.instance_uuid, VolumeDisk.from_connection(connection).throttle))
        for instance_id, throttle in changed:
            with self.db.read() as session:
                instance = session.get(Instance, instance_id)
            if instance is None or instance.host is None or instance.vm_state == st.SHELVED_OFFLOADED:
                continue
            try:
                self._driver(instance).set_volume_limits(instance.id, volume_id, throttle)
            except DriverError as error:
                LOG.warning("instance %s: new limits of volume %s wait for its next start: %s", instance.id,
                            volume_id, error)

    # -- a live snapshot of an attached volume ----------------------------------------------------------
    def snapshot(self, volume_id: str, overlay_path: str) -> bool:
        """Have the running guest holding the volume write to ``overlay_path`` from now on (the data below it
        frozen); True when one did."""
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(BlockDevice.volume_id == volume_id,
                                                                  BlockDevice.status.in_(("attached", "detaching")))))
            instances = [session.get(Instance, row.instance_uuid) for row in rows]
        holding = [i for i in instances if i is not None and not i.deleted and i.host is not None
                   and i.vm_state != st.SHELVED_OFFLOADED]
        done = False
        for instance in holding:
            try:
                if self._driver(instance).snapshot_volume(instance.id, volume_id, overlay_path):
                    if done:  # the same file written by two guests: no consistent snapshot to take
                        raise Conflict(f"Volume {volume_id} is written by several running guests.")
                    done = True
            except DriverError as error:
                raise Conflict(f"Failed to snapshot volume {volume_id} in instance {instance.id}: {error}") from None
        return done

    # -- an attached volume Block Storage moves to another backend --------------------------------------
    def moved(self, volume_id: str, connection: dict) -> bool:
        """Each server holding the volume is given ``connection`` (its disk keeping the names it has in the
        guest, ``slot``), and a running guest copies the disk onto the new file and switches to it (the
        driver's swap, to the same volume id); True when a running guest did.  Each server records a
        ``swap_volume`` action closed by a ``compute_swap_volume`` event, as Nova does when Cinder's migration
        calls its swap."""
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(BlockDevice.volume_id == volume_id,
                                                                  BlockDevice.status == "attached")))
            instances = {row.id: session.get(Instance, row.instance_uuid) for row in rows}
        if len(rows) > 1 and self.volumes is not None:
            # Nova's API refuses each swap Cinder's migration asks of it for such a volume (400, before any
            # server records an action): the migration fails with these words
            held = next((i for i in instances.values() if i is not None), None)
            modes = [] if held is None else [mode for _, _, mode in
                                             self.volumes.volume(service_context(held), volume_id).attachments]
            if modes.count("rw") > 1:
                raise BadRequest(MULTIATTACH_SWAP_REFUSED)
        copied = False
        for row in rows:
            instance = instances[row.id]
            if instance is None or instance.deleted:
                continue
            given = {**connection, "data": dict(connection.get("data") or {})}
            previous = VolumeDisk.from_connection(row.connection) if row.connection else None
            if previous is not None and previous.qemu_key != volume_id:
                given["data"]["slot"] = previous.qemu_key
            if instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED:
                disk = VolumeDisk.from_connection(given)
                try:
                    copied = self._driver(instance).swap_volume(instance.id, volume_id, disk) or copied
                except DriverError as error:
                    with self.db.write() as session:
                        _record_done(session, session.get(Instance, instance.id), "swap_volume",
                                     "compute_swap_volume", "Error", str(error))
                    raise Conflict(f"Failed to move volume {volume_id} in instance {instance.id}: {error}") from None
            with self.db.write() as session:
                found = session.get(BlockDevice, row.id)
                # the server's disk moved: a ``swap_volume`` action, as Nova records for Cinder's swap call; only
                # when the connection changes, so a migration resumed after a restart records it once
                if found is not None and found.connection != given:
                    found.connection = given
                    _record_done(session, session.get(Instance, instance.id), "swap_volume", "compute_swap_volume",
                                 "Success")
        return copied

    def rehome(self, instance: Instance) -> None:
        """After a move: each attached volume's attachment names the instance's new host (the connector of
        ``instance.host``); the connection it answers is the one the guest there was given."""
        if self.volumes is None:
            return
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(
                BlockDevice.instance_uuid == instance.id, BlockDevice.status == "attached",
                BlockDevice.attachment_id.is_not(None))))
        ctx = service_context(instance)
        for row in rows:
            try:
                self.volumes.attachment_update(ctx, row.attachment_id, connector(instance.host),
                                               mountpoint=row.device_name)
            except APIError as exc:  # the guest has the volume; only the record of where lags
                LOG.warning("instance %s: volume %s's attachment not moved to %s: %s", instance.id, row.volume_id,
                            instance.host, exc.message)

    def release_all(self, instance: Instance) -> None:
        """A deleted server's volumes: each attachment deleted (the volume ``available`` again) and the volumes
        asked for with ``delete_on_termination`` deleted.  What the block storage service refuses is logged and
        left (the server goes all the same, as in Nova)."""
        if self.volumes is None:
            return
        ctx = service_context(instance)
        with self.db.read() as session:
            rows = list(session.scalars(select(BlockDevice).where(BlockDevice.instance_uuid == instance.id)))
        # a rebuild's re-image cut by the delete may still hold the root volume's old attachment
        self._let_go_quietly(ctx, instance, (instance.task_args or {}).get("reimage_old_attachment"))
        for row in rows:
            try:
                if row.attachment_id:
                    self.volumes.attachment_delete(ctx, row.attachment_id)
                if row.delete_on_termination and row.volume_id:
                    self.volumes.delete_volume(ctx, row.volume_id)
            except NotFound:
                pass  # gone already
            except APIError as error:
                LOG.warning("instance %s: volume %s was not let go cleanly: %s", instance.id, row.volume_id, error)
            self._forget(row.id)

    def _let_go_quietly(self, ctx: Context, instance: Instance, attachment_id: str | None) -> None:
        try:
            self._let_go(ctx, attachment_id)
        except APIError as error:
            LOG.warning("instance %s: attachment %s was not let go: %s", instance.id, attachment_id, error)

    # -- after a restart ---------------------------------------------------------------------------------
    def recover(self, hosts: list[str]) -> None:
        """What a killed process left half-done for the guests of ``hosts`` (this process's): an attach is
        finished (every step is safe to repeat, and a disk the guest has already is adopted, not plugged
        again) or, if it cannot be, put back; a detach is finished or, if the guest keeps the disk, rolled
        back to ``in-use``; an attachment the block storage service holds for a server with no row for it
        (the process died between reserving the volume and writing the row) is deleted.  So no volume stays
        ``reserved``, ``attaching`` or ``detaching``."""
        if self.volumes is None or not hosts:
            return
        with self.db.read() as session:
            instances = list(session.scalars(select(Instance).where(Instance.host.in_(hosts),
                                                                    Instance.deleted.is_(False))))
        for instance in instances:
            rows = self.rows([instance.id])[instance.id]
            ctx = service_context(instance)
            for row in rows:
                if row.status == "swapping":
                    LOG.warning("instance %s: finishing the swap of volume %s for %s that a restart cut short",
                                instance.id, row.volume_id, row.swap_volume_id)
                    self._recover_swap(ctx, instance, row)
                elif row.status in ("attaching", "detaching"):
                    LOG.warning("instance %s: finishing the %s of volume %s that a restart cut short",
                                instance.id, row.status.removesuffix("ing") + "ment", row.volume_id)
                    (self._finish_attach if row.status == "attaching" else self._finish_detach)(ctx, instance, row)
            rows = self.rows([instance.id])[instance.id]
            known = {row.attachment_id for row in rows} | {row.swap_attachment_id for row in rows}
            try:
                held = self.volumes.attachments_of(ctx, instance.id)
            except APIError as error:
                LOG.warning("instance %s: its volume attachments could not be listed: %s", instance.id, error)
                continue
            for attachment in held:
                if attachment.id not in known and attachment.status != "attached":
                    LOG.warning("instance %s: letting go of volume %s, reserved by an attach a restart cut short",
                                instance.id, attachment.volume_id)
                    self._let_go(ctx, attachment.id)

    def _recover_swap(self, ctx: Context, instance: Instance, row: BlockDevice) -> None:
        """A swap cut short: finished when the new volume was reserved for the server (a guest moved already
        stays on it), else, or if the guest cannot move, undone: the guest on exactly one volume, neither left
        ``detaching``, ``reserved`` nor ``attaching``."""
        if row.swap_attachment_id is not None:
            try:
                self._finish_swap(ctx, instance, row.id)
                return
            except (DriverError, APIError) as error:
                LOG.warning("instance %s: the swap of volume %s could not be finished, so it is undone: %s",
                            instance.id, row.volume_id, error)
        self._undo_swap(ctx, row.id)

    def _finish_attach(self, ctx: Context, instance: Instance, row: BlockDevice) -> None:
        try:
            self.connect(ctx, instance, row)
        except (DriverError, APIError) as error:
            LOG.warning("instance %s: volume %s could not be attached, so it is let go: %s", instance.id,
                        row.volume_id, error)
            try:
                if instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED:
                    self._driver(instance).detach_volume(instance.id, row.volume_id)
            except DriverError as stuck:
                LOG.warning("instance %s: the guest keeps volume %s: %s", instance.id, row.volume_id, stuck)
                return  # left attaching rather than give the volume to another server while a guest holds it
            self._let_go(ctx, row.attachment_id)
            self._forget(row.id)

    def _finish_detach(self, ctx: Context, instance: Instance, row: BlockDevice) -> None:
        try:
            if instance.host is not None and instance.vm_state != st.SHELVED_OFFLOADED:
                self._driver(instance).detach_volume(instance.id, row.volume_id)
        except DriverError as error:
            LOG.warning("instance %s: the guest keeps volume %s, so it stays attached: %s", instance.id,
                        row.volume_id, error)
            self._set_status(row.id, "attached")
            try:
                self.volumes.roll_detaching(ctx, row.volume_id)
            except APIError:
                pass  # the volume is gone or no longer detaching: nothing to roll back
            return
        self._let_go(ctx, row.attachment_id)
        self._forget(row.id)

    def _let_go(self, ctx: Context, attachment_id: str | None) -> None:
        if attachment_id is None:
            return
        try:
            self.volumes.attachment_delete(ctx, attachment_id)
        except NotFound:
            pass  # deleted before the process died

    # -- helpers ---------------------------------------------------------------------------------------
    def _driver(self, instance: Instance) -> ComputeDriver:
        """The driver of the instance's host (``LinkError``, a ``DriverError``, when no process serves it)."""
        return self.hosts.driver(instance.host)

    def _set_status(self, row_id: str, status: str) -> None:
        with self.db.write() as session:
            found = session.get(BlockDevice, row_id)
            if found is not None:  # not let go meanwhile by the server's delete
                found.status = status

    def _forget(self, row_id: str) -> None:
        with self.db.write() as session:
            row = session.get(BlockDevice, row_id)
            if row is not None:
                session.delete(row)
