"""The volume encryption keys: this cloud's stand-in for the key manager (Barbican) Cinder asks.

Each encrypted volume (and each backup of one) has a key of its own, named by ``encryption_key_id``.  A key
is random bytes, kept in the database only wrapped (AES-GCM, its id bound in as associated data, so a
wrapped key copied to another row does not open) with the master key, which lives in
``DATA_DIR/volume-keys/master.key``, readable by its owner only.  A copy of the database alone opens no
volume.  A key is never logged nor shown; the QEMU processes that open a volume are handed it as a secret
(``secret_of``), outside their command lines.  Cinder clones a key when a volume is made from an encrypted
one (new id, same bytes), and so does ``clone``.
"""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from onestack.services.volume.models import VolumeKey

_NONCE = 12


class KeyManager:
    def __init__(self, root: Path):
        self.root = root
        self._master: bytes | None = None

    @property
    def master_path(self) -> Path:
        return self.root / "master.key"

    def _aead(self) -> AESGCM:
        if self._master is None:
            self._master = self._load_or_make_master()
        return AESGCM(self._master)

    def _load_or_make_master(self) -> bytes:
        """The master key, made on first use: written whole under another name, then linked into place,
        so two processes starting at once agree on one key."""
        if not self.master_path.exists():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.root / f".master.key.{os.getpid()}.{uuid.uuid4().hex}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
            try:
                os.link(tmp, self.master_path)
            except FileExistsError:
                pass  # another process made it first: its key is the one
            finally:
                tmp.unlink()
        return base64.b64decode(self.master_path.read_bytes())

    def create(self, session: Session, bits: int = 256) -> str:
        """A new random key of ``bits`` (the type's key size), stored wrapped; its id."""
        return self._store(session, os.urandom(max(bits, 128) // 8))

    def clone(self, session: Session, key_id: str) -> str:
        """A new key with the same bytes as ``key_id``'s (a volume or backup made from an encrypted one
        opens with it, and each goes with its own owner)."""
        return self._store(session, self._unwrap(session, key_id))

    def delete(self, session: Session, key_id: str | None) -> None:
        if key_id is not None:
            row = session.get(VolumeKey, key_id)
            if row is not None:
                session.delete(row)

    def exists(self, session: Session, key_id: str) -> bool:
        return session.get(VolumeKey, key_id) is not None

    def secret_of(self, session: Session, key_id: str) -> bytes:
        """The passphrase QEMU opens the volume's LUKS encryption with: the key's bytes in hex, as os-brick
        hands a key manager's key to LUKS."""
        return self._unwrap(session, key_id).hex().encode()

    def _store(self, session: Session, key: bytes) -> str:
        key_id = str(uuid.uuid4())
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead().encrypt(nonce, key, key_id.encode())
        session.add(VolumeKey(id=key_id, wrapped=base64.b64encode(sealed).decode()))
        return key_id

    def _unwrap(self, session: Session, key_id: str) -> bytes:
        row = session.get(VolumeKey, key_id)
        if row is None:
            raise KeyError(f"encryption key {key_id} does not exist")
        if self._master is None and not self.master_path.exists():
            # a host without the cloud's master key (a joined host whose data dir does not hold it) must not
            # make a master key of its own: no key it holds could open anything
            raise KeyError(f"encryption key {key_id} cannot be opened here: no master key in {self.root}")
        sealed = base64.b64decode(row.wrapped)
        return self._aead().decrypt(sealed[:_NONCE], sealed[_NONCE:], key_id.encode())
