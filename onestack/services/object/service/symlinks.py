"""Symlinks, as Swift's symlink middleware keeps them: a zero-byte object whose sysmeta names a target
object (``X-Symlink-Target: <container>/<object>``, in ``X-Symlink-Target-Account`` when another account).

- A GET or HEAD of a symlink answers as its target does (with ``Content-Location`` naming it), following a
  chain of at most ``LOOP_MAX`` links; ``?symlink=get`` answers the link itself.
- A static link (``X-Symlink-Target-Etag``) names its target's ETag: the target must exist with that ETag
  when the link is made, and reading through the link is a 409 once the target changed.
- A POST changes the link's own metadata and answers 307 to the target; a DELETE removes the link only.

The walk itself asks the caller's ``lookup`` for each hop, so that every hop is authorized as a request of
its own would be.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import quote, unquote

from onestack.http import errors
from onestack.services.object import schemas
from onestack.services.object.models import (
    SYMLINK_ACCOUNT,
    SYMLINK_BYTES,
    SYMLINK_ETAG,
    SYMLINK_TARGET,
    Object,
)

LOOP_MAX = 2
CAPABILITIES = {"symloop_max": LOOP_MAX, "static_links": True}
DEFAULT_TYPE = "application/symlink"
FORM = "X-Symlink-Target header must be of the form <container name>/<object name>"
# the headers ``?symlink=get`` shows for the sysmeta a link keeps
SHOWN = {SYMLINK_TARGET: "X-Symlink-Target", SYMLINK_ACCOUNT: "X-Symlink-Target-Account",
         SYMLINK_ETAG: "X-Symlink-Target-Etag", SYMLINK_BYTES: "X-Symlink-Target-Bytes"}


@dataclasses.dataclass(frozen=True)
class Target:
    account: str
    container: str
    name: str

    @property
    def path(self) -> str:
        """Where the target is, as ``Content-Location`` and ``Location`` name it."""
        return quote(f"/v1/{self.account}/{self.container}/{self.name}")


def target_of(obj: Object, account: str) -> Target | None:
    """The target of ``obj`` (in ``account``), None when it is no symlink."""
    stored = obj.meta.get(SYMLINK_TARGET)
    if not stored:
        return None
    container, _, name = unquote(stored).partition("/")
    return Target(unquote(obj.meta.get(SYMLINK_ACCOUNT, "")) or account, container, name)


def shown(obj: Object) -> dict[str, str]:
    return {header: obj.meta[key] for key, header in SHOWN.items() if key in obj.meta}


def parse(headers, account: str, container: str, name: str) -> tuple[Target, str | None]:
    """The target a symlink PUT names and the ETag it pins (None for a dynamic link); 412 or 400 when the
    headers cannot be one."""
    raw = unquote(headers["x-symlink-target"])
    target_container, _, target_name = raw.partition("/")
    if raw.startswith("/") or not target_container or not target_name:
        raise errors.PreconditionFailed(FORM)
    if "\x00" in raw:
        raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
    schemas.check_name("Container", target_container, schemas.MAX_CONTAINER_NAME_LENGTH)
    schemas.check_name("Object", target_name, schemas.MAX_OBJECT_NAME_LENGTH)
    target_account = account
    if "x-symlink-target-account" in headers:
        target_account = unquote(headers["x-symlink-target-account"])
        if not target_account:
            raise errors.PreconditionFailed("Account name cannot be empty")
        if "/" in target_account or "\x00" in target_account:
            raise errors.PreconditionFailed("Account name cannot contain slashes")
        schemas.check_name("Account", target_account, schemas.MAX_ACCOUNT_NAME_LENGTH)
    target = Target(target_account, target_container, target_name)
    if target == Target(account, container, name):
        raise errors.BadRequest("Symlink cannot target itself")
    etag = headers.get("x-symlink-target-etag")
    if etag is not None:
        etag = etag.strip().strip('"')
        if any(c in etag for c in ';"\\'):
            raise errors.BadRequest("Bad X-Symlink-Target-Etag format")
    return target, etag or None


def sysmeta(target: Target, account: str) -> dict[str, str]:
    """What the link keeps of its target (the account only when it is another one)."""
    meta = {SYMLINK_TARGET: quote(f"{target.container}/{target.name}")}
    if target.account != account:
        meta[SYMLINK_ACCOUNT] = quote(target.account)
    return meta


Lookup = Callable[[Target], Object]


def walk(lookup: Lookup, account: str, obj: Object, expected: str | None = None,
         follow_dynamic: bool = True, location: str | None = None) -> tuple[str, Object, str | None]:
    """Follow ``obj`` (in ``account``) to what it finally names: (its account, its row, the path of the last
    target, None when ``obj`` is no link).  ``expected``: the ETag a static link pins on ``obj``;
    ``follow_dynamic=False`` stops at a dynamic link (what a static link's PUT checks its target against).
    404 when a target is missing, 409 past ``LOOP_MAX`` links or when a pinned ETag differs."""
    hops = 0
    while True:
        target = target_of(obj, account)
        pinned = obj.meta.get(SYMLINK_ETAG)
        if target is None or not (pinned or follow_dynamic):
            if expected and obj.etag.strip('"') != expected:
                raise errors.Conflict(f"Object Etag {obj.etag.strip(chr(34))!r} does not match "
                                      f"X-Symlink-Target-Etag header {expected!r}",
                                      headers=_located(location))
            return account, obj, location
        if expected and (pinned or obj.etag) != expected:
            raise errors.Conflict("X-Symlink-Target-Etag headers do not match", headers=_located(location))
        if hops >= LOOP_MAX:
            raise errors.Conflict(f"Too many levels of symbolic links, maximum allowed is {LOOP_MAX}")
        hops += 1
        follow_dynamic = True
        location = target.path
        try:
            obj = lookup(target)
        except errors.NotFound:
            raise errors.NotFound(headers={"Content-Location": location}) from None
        account, expected = target.account, pinned


def _located(location: str | None) -> dict[str, str]:
    return {"Content-Location": location} if location else {}
