"""The passwords the first start generates, and their bcrypt hashes begun before the application is imported.

Only the standard library, yaml and bcrypt here: the serving process calls ``FirstHashes.begin`` before it
imports the whole application, and bcrypt, which lets go of the GIL, then hashes on the second core while
the first imports.  A first start on two cores used to wait for the import (0.9 s of CPU) and then for the
hashes (three at cost 12, on two cores two in a row: 0.5 s); now it waits for the longer of the two.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import bcrypt
import yaml

SECRETS_FILE = "bootstrap-secrets.yaml"
SECRETS = ("admin_password", "demo_password", "heat_password", "glance_password")
# The cloud's orchestration user: the trustee every stack owner delegates to (Heat's service user).
ORCHESTRATION_USER = "heat"
# The image service's own user, made when its swift store is enabled: the swift store's objects live in
# its project's account (Glance's single-tenant swift store), which it operates as a member.
IMAGE_USER = "glance"


def write_private(path: Path, text: str) -> None:
    """Write a secret file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def load_secrets(data_dir: Path) -> dict:
    """The generated passwords; one a newer onestack needs and an older cloud lacks is added."""
    path = data_dir / SECRETS_FILE
    found = yaml.safe_load(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRETS if name not in found]
    if missing:
        found.update({name: secrets.token_urlsafe(18) for name in missing})
        write_private(path, yaml.safe_dump(found))
    return found


def seeded_users(settings) -> tuple[str, ...]:
    """The users the first start makes with a generated password."""
    return ("admin", "demo", ORCHESTRATION_USER) + ((IMAGE_USER,) if settings.image_swift_store.enabled else ())


class FirstHashes:
    """The hashes of the seeded users' passwords, made in a thread of their own."""

    def __init__(self, passwords: dict[str, str], rounds: int):
        self._passwords = passwords
        self._hashes: dict[str, str] = {}
        # one thread, the hashes one after the other: beside the import, which holds one core, a second
        # bcrypt thread would only take turns with the import
        self._thread = threading.Thread(target=self._hash_all, args=(rounds,), name="first-hashes", daemon=True)
        self._thread.start()

    def _hash_all(self, rounds: int) -> None:
        for name, password in self._passwords.items():
            self._hashes[name] = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()

    @classmethod
    def begin(cls, settings) -> FirstHashes | None:
        """On a data dir's first start (no generated passwords yet): generate them and begin hashing.
        Otherwise None: the users exist already, or ``bootstrap.seed`` hashes the few that do not."""
        if (settings.data_dir / SECRETS_FILE).exists():
            return None
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        found = load_secrets(settings.data_dir)
        return cls({name: found[f"{name}_password"] for name in seeded_users(settings)}, settings.bcrypt_rounds)

    def hash_of(self, name: str, password: str) -> str | None:
        """The hash of ``name``'s password once made, if ``password`` is the one that was hashed."""
        self._thread.join()
        return self._hashes.get(name) if self._passwords.get(name) == password else None
