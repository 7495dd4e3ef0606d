"""Volume types' encryption (Cinder's encryption types): which provider, cipher, key size and control
location volumes of a type are to be encrypted with.  Admins only; a type volumes already use cannot change
its encryption, as in Cinder."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.drivers.secrets import LUKS_PROVIDERS, Luks, LuksError
from onestack.drivers.volumefiles import VolumeFileError
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.volume.models import TypeEncryption, Volume, VolumeType
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import types
from onestack.services.volume.service.keys import KeyManager

FIELDS = ("provider", "cipher", "key_size", "control_location")


def check_usable(encryption: TypeEncryption | None, backend: str, on_files: bool) -> None:
    """A volume of a type with this encryption can be made here: on a file backend (``on_files``), with LUKS
    (QEMU opens it, whatever the control location says), a cipher QEMU knows; 400 otherwise, before any data
    are made."""
    if encryption is None:
        return
    if not on_files:
        raise BadRequest(f"Invalid volume type: encrypted volumes are made on file backends only, "
                         f"not on {backend}.")
    if encryption.provider not in LUKS_PROVIDERS:
        raise BadRequest(f"Invalid volume type: encryption provider {encryption.provider} is not supported "
                         f"(LUKS only: QEMU opens the volume itself, and plain dm-crypt it cannot).")
    try:
        Luks.of(b"", encryption.cipher, encryption.key_size)
    except LuksError as exc:
        raise BadRequest(f"Invalid volume type: {exc}.") from None


def luks_for(db: Database, keys: KeyManager, volume: Volume) -> dict:
    """``luks=`` for the file steps of an encrypted volume (its passphrase and its type's cipher), or nothing
    for a volume that is not encrypted (so RBD steps, never encrypted, are called as before)."""
    if volume.encryption_key_id is None:
        return {}
    with db.read() as session:
        try:
            secret = keys.secret_of(session, volume.encryption_key_id)
        except KeyError:
            raise VolumeFileError(f"the encryption key of volume {volume.id} is missing") from None
    encryption = volume.volume_type.encryption
    if encryption is None:  # an existing file's LUKS header names its own cipher
        return {"luks": Luks(secret=secret)}
    return {"luks": Luks.of(secret, encryption.cipher, encryption.key_size)}


def _in_use(session: Session, row: VolumeType) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Volume).where(Volume.type_id == row.id)))


def _key_size(value) -> int | None:
    return None if value is None else int(value)


class Encryption:
    def __init__(self, db: Database):
        self.db = db

    def show(self, ctx: Context, type_ref: str) -> TypeEncryption | None:
        """The type's encryption, or None when it has none (Cinder answers an empty body then)."""
        authorize(ctx, "volume_extension:volume_type_encryption:get")
        with self.db.read() as session:
            return types.find(session, ctx, type_ref).encryption

    def create(self, ctx: Context, type_ref: str, asked: dict) -> TypeEncryption:
        authorize(ctx, "volume_extension:volume_type_encryption:create")
        with self.db.write() as session:
            row = types.find(session, ctx, type_ref)
            if row.encryption is not None:
                raise BadRequest(f"Volume type encryption for type {row.id} already exists.")
            if _in_use(session, row):
                raise BadRequest("Cannot create encryption specs. Volume type in use.")
            row.encryption = TypeEncryption(
                type_id=row.id, id=str(uuid.uuid4()), provider=asked["provider"], cipher=asked.get("cipher"),
                key_size=_key_size(asked.get("key_size")),
                control_location=asked.get("control_location", "front-end"))
            session.flush()
            return row.encryption

    def update(self, ctx: Context, type_ref: str, encryption_id: str, changes: dict) -> dict:
        """Cinder answers with the fields the request changed."""
        authorize(ctx, "volume_extension:volume_type_encryption:update")
        with self.db.write() as session:
            row = types.find(session, ctx, type_ref)
            encryption = self._of(row, encryption_id)
            if _in_use(session, row):
                raise BadRequest("Cannot update encryption specs. Volume type in use.")
            if "key_size" in changes:
                changes = {**changes, "key_size": _key_size(changes["key_size"])}
            for field in FIELDS:
                if field in changes:
                    setattr(encryption, field, changes[field])
            return {field: changes[field] for field in FIELDS if field in changes}

    def delete(self, ctx: Context, type_ref: str, encryption_id: str) -> None:
        authorize(ctx, "volume_extension:volume_type_encryption:delete")
        with self.db.write() as session:
            row = types.find(session, ctx, type_ref)
            self._of(row, encryption_id)
            if _in_use(session, row):
                raise BadRequest("Cannot delete encryption specs. Volume type in use.")
            row.encryption = None

    @staticmethod
    def _of(row: VolumeType, encryption_id: str) -> TypeEncryption:
        """The type's encryption; the id the URL names is not compared, as in Cinder (cinderclient names
        ``provider`` there)."""
        del encryption_id
        if row.encryption is None:
            raise NotFound(f"Volume type encryption for type {row.id} does not exist.")
        return row.encryption
