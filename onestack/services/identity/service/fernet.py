"""Fernet token format and key repository.

Keys live in ``DATA_DIR/fernet-keys`` as Keystone lays them out: file ``0``
is the staged key, the highest number is the primary that signs, the rest
still validate.  ``rotate`` promotes the staged key and stages a new one, so
tokens issued before a rotation stay valid until they expire.

A payload is a msgpack list; ids that are 32 hex characters travel as 16
bytes to keep tokens short (Keystone's own tokens are ~180 characters).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import uuid
from pathlib import Path

import msgpack
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PAYLOAD_VERSION = 1
MAX_ACTIVE_KEYS = 3
METHODS = ("password", "token", "application_credential", "totp", "mapped", "oauth1", "ec2credential")


class BadToken(Exception):
    """The token is not one of ours, or it is damaged."""


@dataclasses.dataclass(frozen=True)
class Payload:
    user_id: str
    methods: tuple[str, ...]
    expires_at: float
    issued_at: float
    audit_ids: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    app_cred_id: str | None = None
    trust_id: str | None = None
    access_token_id: str | None = None


def _pack_id(value: str | None):
    if value is None:
        return None
    if len(value) == 32:
        try:
            return uuid.UUID(hex=value).bytes
        except ValueError:
            pass
    return value


def _unpack_id(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return uuid.UUID(bytes=value).hex
    return value


def _pack_audit(audit_id: str) -> bytes:
    return base64.urlsafe_b64decode(audit_id + "==")


def _unpack_audit(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_audit_id() -> str:
    return _unpack_audit(os.urandom(16))


def encode_methods(methods) -> int:
    return sum(1 << METHODS.index(m) for m in methods)


def decode_methods(bits: int) -> tuple[str, ...]:
    return tuple(m for i, m in enumerate(METHODS) if bits & (1 << i))


class KeyRepository:
    def __init__(self, path: Path):
        self.path = path
        self._fernet: MultiFernet | None = None
        self._loaded_mtime = 0.0

    def _key_files(self) -> list[Path]:
        return sorted((p for p in self.path.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))

    def initialise(self) -> None:
        """Create the repository with a staged and a primary key, if it has none."""
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._key_files():
            self._write(0, Fernet.generate_key())
            self._write(1, Fernet.generate_key())

    def rotate(self) -> int:
        """Promote the staged key to primary, stage a new key, drop the oldest beyond the limit."""
        files = self._key_files()
        newest = int(files[-1].name)
        os.replace(self.path / "0", self.path / str(newest + 1))
        self._write(0, Fernet.generate_key())
        secondaries = [p for p in self._key_files() if p.name not in ("0", str(newest + 1))]
        for old in secondaries[: max(0, len(secondaries) - (MAX_ACTIVE_KEYS - 2))]:
            old.unlink()
        self._fernet = None
        return newest + 1

    def _write(self, index: int, key: bytes) -> None:
        tmp = self.path / f".{index}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / str(index))

    @property
    def fernet(self) -> MultiFernet:
        # Another process (``onestack keys rotate``) may have rotated: reload when the directory changed.
        mtime = self.path.stat().st_mtime
        if self._fernet is None or mtime != self._loaded_mtime:
            files = self._key_files()
            ordered = [files[-1]] + [p for p in reversed(files[:-1])]
            self._fernet = MultiFernet([Fernet(p.read_bytes()) for p in ordered])
            self._loaded_mtime = mtime
        return self._fernet


class TokenFormatter:
    def __init__(self, keys: KeyRepository):
        self.keys = keys

    def encode(self, p: Payload) -> str:
        packed = msgpack.packb([
            PAYLOAD_VERSION, _pack_id(p.user_id), encode_methods(p.methods), p.expires_at, p.issued_at,
            [_pack_audit(a) for a in p.audit_ids], _pack_id(p.project_id), _pack_id(p.domain_id), p.system,
            _pack_id(p.app_cred_id), _pack_id(p.trust_id), _pack_id(p.access_token_id),
        ])
        token = self.keys.fernet.encrypt_at_time(packed, int(p.issued_at))
        return token.decode().rstrip("=")

    def decode(self, token: str) -> Payload:
        if not token or len(token) > 1024:
            raise BadToken()
        padded = token + "=" * (-len(token) % 4)
        try:
            raw = self.keys.fernet.decrypt(padded.encode())
            fields = msgpack.unpackb(raw)
            if fields[0] != PAYLOAD_VERSION:
                raise BadToken()
            # Tokens issued before OS-OAUTH1 end at the trust id; they stay valid.
            (_, user, methods, expires, issued, audits, project, domain, system, app_cred, trust,
             access_token) = fields if len(fields) == 12 else [*fields, None]
            return Payload(
                user_id=_unpack_id(user), methods=decode_methods(methods), expires_at=expires,
                issued_at=issued, audit_ids=tuple(_unpack_audit(a) for a in audits),
                project_id=_unpack_id(project), domain_id=_unpack_id(domain), system=system,
                app_cred_id=_unpack_id(app_cred), trust_id=_unpack_id(trust),
                access_token_id=_unpack_id(access_token),
            )
        except (InvalidToken, ValueError, TypeError, msgpack.UnpackException) as exc:
            raise BadToken() from exc
