"""Volume transfers: a project offers an available volume; whoever presents the transfer's id and its auth
key takes it into their own project, with its snapshots unless ``no_snapshots`` (3.55).

The key is shown once, when the transfer is made; only a salted hash of it is kept.  An offered volume is
``awaiting-transfer`` until the transfer is accepted or deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import Version
from onestack.services.volume.models import Snapshot, Transfer, Volume
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import quotas
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.lists import Page, listing

KEY_LENGTH = 16
FILTERS = {"name": "name", "volume_id": "volume_id", "id": "id"}
SORTABLE = {"id": "id", "name": "name", "created_at": "created_at", "volume_id": "volume_id"}


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256(f"{salt}{key}".encode()).hexdigest()


class Transfers:
    def __init__(self, db: Database):
        self.db = db

    def create(self, ctx: Context, volume_id: str, name: str | None, no_snapshots: bool) -> tuple[Transfer, str]:
        """The transfer and its auth key (never stored, never shown again)."""
        with self.db.write() as session:
            volume = load(session, Volume, volume_id, ctx, "Volume", lock=True)
            authorize(ctx, "volume:create_transfer", volume.project_id)
            if volume.status != "available" or volume.task is not None:
                raise BadRequest(f"Invalid volume: Status of volume {volume.id} must be available to be "
                                 f"transferred (it is {volume.status}).")
            if not no_snapshots:
                busy = session.scalars(select(Snapshot.id).where(
                    Snapshot.volume_id == volume.id, Snapshot.hidden.is_(False),
                    Snapshot.status != "available")).first()
                if busy is not None:
                    raise BadRequest(f"Invalid snapshot: snapshot {busy} of the volume must be available to be "
                                     f"transferred with it.")
            key, salt = secrets.token_hex(KEY_LENGTH // 2), secrets.token_hex(8)
            transfer = Transfer(id=str(uuid.uuid4()), volume_id=volume.id, name=name, salt=salt,
                                key_hash=_hash(salt, key), no_snapshots=no_snapshots, project_id=volume.project_id)
            volume.status = "awaiting-transfer"
            session.add(transfer)
            session.flush()
            return transfer, key

    def show(self, ctx: Context, transfer_id: str) -> Transfer:
        with self.db.read() as session:
            transfer = load(session, Transfer, transfer_id, ctx, "Transfer")
            authorize(ctx, "volume:get_transfer", transfer.project_id)
            return transfer

    def listing(self, ctx: Context, query, version: Version | None) -> Page:
        authorize(ctx, "volume:get_all_transfers")
        all_projects = (query.get("all_tenants") or "0").lower() not in ("0", "false", "no", "off")
        with self.db.read() as session:
            stmt = scoped(select(Transfer), Transfer, ctx, all_projects)
            return listing(session, stmt, Transfer, query, version, filters=FILTERS, sortable=SORTABLE,
                           metadata=False)

    def delete(self, ctx: Context, transfer_id: str) -> None:
        with self.db.write() as session:
            transfer = load(session, Transfer, transfer_id, ctx, "Transfer", lock=True)
            authorize(ctx, "volume:delete_transfer", transfer.project_id)
            volume = session.get(Volume, transfer.volume_id)
            if volume is not None and volume.status == "awaiting-transfer":
                volume.status = "available"
            session.delete(transfer)

    def accept(self, ctx: Context, transfer_id: str, auth_key: str) -> Transfer:
        """Take the volume into the caller's project; the transfer is spent."""
        authorize(ctx, "volume:accept_transfer")
        with self.db.write() as session:
            # Any project may accept: the key, not the project, is what grants it.
            transfer = session.get(Transfer, transfer_id, with_for_update=True)
            if transfer is None:
                raise NotFound(f"Transfer {transfer_id} could not be found.")
            if not hmac.compare_digest(transfer.key_hash, _hash(transfer.salt, auth_key)):
                raise BadRequest(f"Invalid auth key: Attempt to transfer {transfer.id} with invalid auth key.")
            volume = session.get(Volume, transfer.volume_id)
            if volume is None or volume.status != "awaiting-transfer":
                raise BadRequest(f"Invalid volume: the volume of transfer {transfer.id} is not awaiting it.")
            snapshots = [] if transfer.no_snapshots else list(session.scalars(select(Snapshot).where(
                Snapshot.volume_id == volume.id, Snapshot.hidden.is_(False))))
            quotas.check(session, ctx.project_id, volume.volume_type.name, volumes=1, snapshots=len(snapshots),
                         gigabytes=volume.size + sum(s.size for s in snapshots), size=volume.size)
            volume.project_id, volume.user_id, volume.status = ctx.project_id, ctx.user_id, "available"
            for snapshot in snapshots:
                snapshot.project_id, snapshot.user_id = ctx.project_id, ctx.user_id
            transfer.accepted, transfer.destination_project_id = True, ctx.project_id
            session.flush()
            accepted = Transfer(**{c: getattr(transfer, c) for c in ("id", "volume_id", "name", "project_id",
                                                                      "accepted", "destination_project_id")})
            session.delete(transfer)
            return accepted
