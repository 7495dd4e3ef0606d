"""Object versioning as Swift's ``object_versioning`` middleware gives it (``X-Versions-Enabled``): every
write of an object in an enabled container is a version with an id (its timestamp, ``X-Object-Version-Id``),
older versions stay reachable with ``?version-id=<id>``, and a DELETE leaves a delete marker.

The current version is the container's own row (so reads, listings and counters of the container are as for
any object); older versions and delete markers are rows of a hidden container of the same account, named
``/versions/<random>`` (no client can name a container with a ``/``) and recorded in the versioned
container's sysmeta.  A version's row there is named ``<object name>\\x01<inverted id>``, so one object's
versions list together, newest first.  Moving a version moves its row in the transaction of the write or
delete (its bytes are not copied), as with the legacy modes of ``versions.py``.

A container is in one of three states: versioning never enabled (``state`` None), enabled (True) or
suspended (False).  While suspended, new writes are "null" versions (no id) that replace one another, and a
current version that has an id is kept among the versions when it is overwritten or deleted.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http import errors
from onestack.services.object import schemas, views
from onestack.services.object.models import SYSMETA, Container, Object
from onestack.services.object.public import Listed, Subdir, Versioned
from onestack.services.object.service import versions

ENABLED = "X-Versions-Enabled"
HIDDEN = "X-Container-Sysmeta-Versions-Container"  # the versioned container's hidden container
HIDDEN_PREFIX = "/versions/"
VERSION_ID = SYSMETA + "Version-Id"
SEPARATOR = "\x01"
NULL = "null"
TRUE = ("true", "1", "yes", "on", "t", "y")
UNITS = 100_000  # a version id counts in units of 10 µs
TOP = 10 ** 15 - 1
ID = re.compile(r"^\d{1,10}(\.\d{1,5})?$")
DELETE_MARKER = versions.DELETE_MARKER


def state(container: Container) -> bool | None:
    value = container.meta.get(ENABLED)
    return None if value is None else value == "True"


def settle(session: Session, container: Container, before: dict[str, str]) -> None:
    """After a PUT or POST changed ``container.meta`` (from ``before``): normalize ``X-Versions-Enabled``
    (once set it stays, True or False), refuse it beside the legacy modes, and make the hidden container
    the first time versioning is enabled."""
    meta = dict(container.meta)
    value = meta.get(ENABLED)
    if value is None and ENABLED in before:
        value = "False"  # removing the flag suspends versioning: the versions stay
    if value is not None:
        value = "True" if value.lower() in TRUE else "False"
        meta[ENABLED] = value
    if value == "True" and (meta.get(versions.STACK) or meta.get(versions.HISTORY)):
        if ENABLED in before and before[ENABLED] == "True":
            raise errors.BadRequest("Legacy versioned writes (X-Versions-Location, X-History-Location) cannot "
                                    "be used on a container with object versioning enabled")
        raise errors.BadRequest("Cannot enable object versioning on a container that is already using the "
                                "legacy versioned writes feature.")
    if value == "True" and HIDDEN not in meta:
        hidden = Container(account=container.account, name=HIDDEN_PREFIX + uuid.uuid4().hex,
                           created_at=container.created_at, put_timestamp=container.put_timestamp, meta={},
                           object_count=0, bytes_used=0)
        session.add(hidden)
        meta[HIDDEN] = hidden.name
    container.meta = meta


def hidden(session: Session, container: Container, lock: bool = False) -> Container | None:
    name = container.meta.get(HIDDEN)
    if not name:
        return None
    stmt = select(Container).where(Container.account == container.account, Container.name == name)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def version_of(row: Object) -> str:
    """A current row's version id: the one it was written with, or ``null``."""
    return row.meta.get(VERSION_ID, NULL)


def normal(version_id: str) -> str:
    """A client's version id in its normal form (``1596485421.78145``); 400 when it is none."""
    if version_id == NULL:
        return NULL
    if not ID.match(version_id):
        raise errors.BadRequest(f"Invalid version: {version_id}")
    whole, _, fraction = version_id.partition(".")
    return f"{int(whole):010d}.{fraction.ljust(5, '0')}"


def _units(version_id: str) -> int:
    whole, _, fraction = version_id.partition(".")
    return int(whole) * UNITS + int(fraction or 0)


def archived_name(name: str, version_id: str) -> str:
    """The name ``name``'s version ``version_id`` is kept under; 400 when it would pass the name limit (the
    object's name is too long to be versioned)."""
    inverted = TOP - _units(version_id)
    archived = f"{name}{SEPARATOR}{inverted // UNITS:010d}.{inverted % UNITS:05d}"
    if len(archived.encode()) > schemas.MAX_OBJECT_NAME_LENGTH:
        raise errors.BadRequest(f"Object name too long to be versioned; max "
                                f"{schemas.MAX_OBJECT_NAME_LENGTH - len(archived) + len(name)}")
    return archived


def parse_archived(hidden_name: str) -> tuple[str, str]:
    """(object name, version id) of a row of the hidden container."""
    name, _, inverted = hidden_name.rpartition(SEPARATOR)
    units = TOP - _units(inverted)
    return name, f"{units // UNITS:010d}.{units % UNITS:05d}"


def stamp_for(old: Object | None, stamp: float) -> float:
    """A new version's timestamp: ``stamp``, moved past the version it follows (ids must differ)."""
    if old is not None and stamp <= old.timestamp:
        return round(old.timestamp + 1 / UNITS, 5)
    return stamp


def keeps(container: Container, row: Object) -> bool:
    """Whether ``row``, the current version being overwritten or deleted, is kept as an older version."""
    enabled = state(container)
    return enabled is True or (enabled is False and VERSION_ID in row.meta)


def archive(session: Session, hidden_container: Container, row: Object) -> Object:
    """Move the current ``row`` among the versions (a null version takes its timestamp as its id, and no
    ``X-Delete-At`` goes with it); the caller counts."""
    version_id = row.meta.get(VERSION_ID) or views.timestamp(row.timestamp)
    moved = versions.move(session, row, hidden_container, archived_name(row.name, version_id))
    moved.meta = {**moved.meta, VERSION_ID: version_id}
    moved.delete_at = None  # a version kept never expires (only the current object does)
    return moved


def marker(hidden_container: Container, name: str, stamp: float) -> Object:
    version_id = views.timestamp(stamp)
    row = versions.marker(hidden_container, name, stamp)
    row.name = archived_name(name, version_id)
    row.meta = {VERSION_ID: version_id}
    return row


def merge(current: list, kept: list, limit: int, resumed: str | None) -> list:
    """One page of a listing of versions from a page of the container's current rows and one of its kept
    versions (both ``Listed`` and ``Subdir``): by name, the current version first, then the kept ones newest
    first.  A delete marker is the latest when it is the newest version of a name with no current one
    (``resumed``: the name a page resumes inside, whose newest version an earlier page showed)."""
    keyed: dict[tuple, object] = {}
    for entry in current:
        if isinstance(entry, Subdir):
            keyed[(entry.name, 0, "")] = entry
        else:
            keyed[(entry.name, 1, "")] = Versioned(entry, entry.meta.get(VERSION_ID, NULL), True)
    for entry in kept:
        if isinstance(entry, Subdir):
            keyed[(entry.name, 0, "")] = entry
            continue
        name, version_id = parse_archived(entry.name)
        shown = Listed(name, entry.etag, entry.size, entry.content_type, entry.timestamp, entry.meta_json)
        keyed[(name, 2, entry.name)] = Versioned(shown, version_id, False)
    out, seen = [], {resumed} if resumed else set()
    for key in sorted(keyed)[:limit]:
        item = keyed[key]
        if isinstance(item, Versioned) and key[1] == 2 and key[0] not in seen and \
                item.entry.content_type == DELETE_MARKER:
            item = Versioned(item.entry, item.version_id, True)
        if key[1] > 0:
            seen.add(key[0])
        out.append(item)
    return out
