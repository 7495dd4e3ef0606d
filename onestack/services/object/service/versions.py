"""Object versioning as Swift's versioned writes keep it: a container names an archive container of the
same account, and an object about to be overwritten moves there first.

- ``X-Versions-Location`` (stack mode): a DELETE removes the current object and brings the newest archived
  version back in its place.
- ``X-History-Location`` (history mode): a DELETE moves the current object to the archive too and leaves a
  delete marker (an empty object of type ``application/x-deleted;swift_versions_deleted=1``) after it.

An archived version is named ``<3 hex digits: the name's length in bytes><name>/<its timestamp>``, so one
object's versions list together, oldest first.  Moving a version is moving its row, in the transaction
that writes or deletes the object: its bytes are not copied and nothing is ever half archived.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http import errors
from onestack.services.object import schemas, views
from onestack.services.object.models import Container, Object
from onestack.services.object.service import listing

STACK, HISTORY = "X-Versions-Location", "X-History-Location"
DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"
EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()


def check(meta: dict[str, str]) -> dict[str, str]:
    """A container's metadata if its versioning settings are sound, else 400."""
    if meta.get(STACK) and meta.get(HISTORY):
        raise errors.BadRequest("Only one of X-Versions-Location or X-History-Location may be specified")
    for header in (STACK, HISTORY):
        value = meta.get(header)
        if value is not None:
            if "/" in value.strip("/") or not value.strip("/"):
                raise errors.PreconditionFailed(f"{header} header must be a valid container name")
            schemas.check_name("Container", value, schemas.MAX_CONTAINER_NAME_LENGTH)
    return meta


def mode(container: Container) -> tuple[str, str] | None:
    """(STACK or HISTORY, archive container name) of a versioned container; None for any other."""
    for header in (STACK, HISTORY):
        value = container.meta.get(header)
        if value and value.strip("/") != container.name:
            return header, value.strip("/")
    return None


def prefix(name: str) -> str:
    return f"{len(name.encode()):03x}{name}/"


def find_archive(session: Session, container: Container, location: str) -> Container | None:
    return session.scalars(select(Container).where(Container.account == container.account,
                                                   Container.name == location).with_for_update()).first()


def archive(session: Session, container: Container, location: str) -> Container:
    """The archive container; 412 when it does not exist (nothing is overwritten without its version kept)."""
    found = find_archive(session, container, location)
    if found is None:
        raise errors.PreconditionFailed(f"The versions container {location} does not exist.")
    return found


def move(session: Session, row: Object, to: Container, name: str) -> Object:
    """Re-key ``row`` to ``name`` in ``to`` (its blob, metadata and timestamp kept); the caller counts."""
    moved = Object(container_id=to.id, name=name, blob_id=row.blob_id, size=row.size, etag=row.etag,
                   content_type=row.content_type, timestamp=row.timestamp, blocks=row.blocks, meta=dict(row.meta),
                   delete_at=row.delete_at)
    session.delete(row)
    session.flush()
    session.add(moved)
    return moved


def archived_name(row: Object) -> str:
    """The name ``row`` is archived under; 400 when it would pass the name limit (a database would refuse
    it): an object whose name is that long cannot be versioned."""
    name = prefix(row.name) + views.timestamp(row.timestamp)
    if len(name.encode()) > schemas.MAX_OBJECT_NAME_LENGTH:
        raise errors.BadRequest("Object name too long to be versioned")
    return name


def newest(session: Session, archive_container: Container, name: str) -> Object | None:
    low = prefix(name)
    return session.scalars(select(Object).where(Object.container_id == archive_container.id, Object.name >= low,
                                                Object.name < listing.successor(low))
                           .order_by(Object.name.desc()).limit(1)).first()


def marker(container: Container, name: str, stamp: float) -> Object:
    return Object(container_id=container.id, name=prefix(name) + views.timestamp(stamp), blob_id=None, size=0,
                  etag=EMPTY_MD5, content_type=DELETE_MARKER, timestamp=stamp, blocks=b"", meta={}, delete_at=None)
