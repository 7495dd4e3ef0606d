"""Password hashing (bcrypt) and Keystone's security-compliance rules."""

from __future__ import annotations

import datetime
import hashlib
import re

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.base import utcnow
from onestack.http.errors import BadRequest
from onestack.services.identity.models import Password, User

# bcrypt reads at most 72 bytes; longer passwords are refused rather than silently cut.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str, rounds: int) -> str:
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        raise BadRequest(f"Password is longer than {MAX_PASSWORD_BYTES} bytes.")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    if not hashed or password is None:
        return False
    raw = password.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(raw, hashed.encode())


def hash_secret(secret: str, rounds: int) -> str:
    """For generated secrets of any length: SHA-256 first, so bcrypt's 72-byte limit never cuts them."""
    return hash_password(hashlib.sha256(secret.encode()).hexdigest(), rounds)


def check_secret(secret: str, hashed: str | None) -> bool:
    return isinstance(secret, str) and check_password(hashlib.sha256(secret.encode()).hexdigest(), hashed)


def check_strength(password: str, regex: str | None, description: str | None) -> None:
    if regex and not re.match(regex, password):
        detail = description or f"must match {regex}"
        raise BadRequest(f"The password does not meet the requirements: {detail}")


def store_password(session: Session, user: User, password: str | None, settings: Settings, *,
                   self_service: bool = False, hashed: str | None = None) -> None:
    """Record a new current password, with the expiry the compliance rules give it.

    ``None`` records a user without a password (who cannot authenticate with one).  ``hashed``: the
    password's bcrypt hash, when the caller made it already (the first start hashes its users' side by side).
    """
    if password is None:
        session.add(Password(user_id=user.id, hash="", created_at=utcnow()))
        return
    rules = settings.security_compliance
    check_strength(password, rules.password_regex, rules.password_regex_description)
    now = utcnow()
    expires = None
    options = user.options or {}
    if rules.password_expires_days and not options.get("ignore_password_expiry"):
        expires = now + datetime.timedelta(days=rules.password_expires_days)
    if (not self_service and rules.change_password_upon_first_use
            and not options.get("ignore_change_password_upon_first_use")):
        expires = now
    session.add(Password(user_id=user.id, hash=hashed or hash_password(password, settings.bcrypt_rounds), created_at=now,
                         expires_at=expires, self_service=self_service))


def password_expiry(session: Session, user: User) -> datetime.datetime | None:
    """When the password in force expires (None: never, or the user ignores expiry)."""
    if (user.options or {}).get("ignore_password_expiry"):
        return None
    return session.scalars(
        select(Password.expires_at).where(Password.user_id == user.id).order_by(Password.id.desc()).limit(1)
    ).first()
