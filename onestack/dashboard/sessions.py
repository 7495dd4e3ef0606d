"""Server-side sessions: the browser holds an opaque random key, the server holds the Keystone tokens.

A session is one JSON file named by the SHA-256 of its key, so a directory listing (or a leaked backup)
gives no usable cookie, and every serving process of this machine sees the same sessions.  A session
ends when its token does: loading one past its token's expiry deletes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

COOKIE = "onestack_dashboard"


@dataclasses.dataclass
class Session:
    key_hash: str
    csrf: str
    # the token the user signed in with: it rescopes to their other projects and is revoked at sign-out
    login_token: str
    token: str
    expires_at: float
    user: dict
    project: dict | None
    projects: list[dict]
    roles: list[str]
    catalog: list[dict]
    flash: list[list[str]] = dataclasses.field(default_factory=list)
    # private keys Nova generated for this user, by key pair name, until downloaded once (Nova keeps none)
    private_keys: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def say(self, kind: str, message: str) -> None:
        """A message for the next page this session sees (after a form's redirect)."""
        self.flash.append([kind, message])


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SessionStore:
    def __init__(self, directory: Path):
        self.directory = directory

    def _path(self, key_hash: str) -> Path:
        return self.directory / f"{key_hash}.json"

    def create(self, **fields) -> tuple[str, Session]:
        """A new session and the key its cookie carries."""
        self.sweep()
        key = secrets.token_urlsafe(32)
        session = Session(key_hash=_hash(key), csrf=secrets.token_urlsafe(32), **fields)
        self.save(session)
        return key, session

    def load(self, key: str | None) -> Session | None:
        if not key or len(key) > 100:
            return None
        path = self._path(_hash(key))
        try:
            session = Session(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if session.expires_at <= time.time():
            path.unlink(missing_ok=True)
            return None
        return session

    def save(self, session: Session) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(session.key_hash)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(dataclasses.asdict(session), f)
        os.replace(tmp, path)

    def drop(self, session: Session) -> None:
        self._path(session.key_hash).unlink(missing_ok=True)

    def sweep(self) -> None:
        """Remove sessions whose token has expired (run at each sign-in, so the directory stays small)."""
        now = time.time()
        for path in self.directory.glob("*.json") if self.directory.exists() else ():
            try:
                if json.loads(path.read_text())["expires_at"] <= now:
                    path.unlink(missing_ok=True)
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)
