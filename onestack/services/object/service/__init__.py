"""Accounts, containers and objects: every transaction of the object service.

An object write follows one order so that a crash at any moment leaves nothing half done: the bytes
go to the blob store (durable, under a fresh id) first, then one transaction points the object's row
at the new blob and moves the container's and the account's counters; only after it commits is the
blob it replaced removed.  A crash between the two leaves an unowned blob, which the store's
reconciler removes on the next start.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import Text, bindparam, delete, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.db.group import GroupCommit
from onestack.db.locks import lock_or_create
from onestack.drivers.objectstore import BlobStore, Corrupt, Missing, Stored, TooLarge, Unavailable
from onestack.drivers.objectstore.files import FileStore
from onestack.drivers.objectstore.rados import RadosStore
from onestack.http import errors
from onestack.http.routing import SMALL_BODY
from onestack.services.object import schemas, views
from onestack.services.object.models import SLO_FLAG, Account, Container, Object
from onestack.services.object.public import Listed
from onestack.services.object.service import large, listing, quotas, versioning, versions
from onestack.services.object.service.multipart import Multipart
from onestack.services.object.service.slo import StaticLargeObjects
from onestack.services.object.service.spec import ObjectSpec

LOG = logging.getLogger("onestack.object")
SMALL = SMALL_BODY  # an upload this small is already read whole when the service sees it
_objects, _containers = Object.__table__, Container.__table__
# prebuilt statements of the hot paths (an object's GET and PUT), compiled once and cached by SQLAlchemy
OBJECT_BY_NAME = (select(_objects).join(_containers, _containers.c.id == _objects.c.container_id)
                  .where(_containers.c.account == bindparam("account"), _containers.c.name == bindparam("container"),
                         _objects.c.name == bindparam("name")))
_accounts = Account.__table__
# a container's row beside its account's quotas and counters (none when the account has no row yet)
ROOM = (select(_containers, _accounts.c.meta.label("account_meta"),
               _accounts.c.object_count.label("account_objects"), _accounts.c.bytes_used.label("account_bytes"))
        .outerjoin(_accounts, _accounts.c.name == _containers.c.account)
        .where(_containers.c.account == bindparam("account"), _containers.c.name == bindparam("name")))
# ... in a write, the container's row locked (PostgreSQL; SQLite has one writer), and beside it what a plain
# write replaces: the object's row of that name, if any (old_name None: none), one statement where two were
_old = _objects.alias("old")
CONTAINER_AND_OLD = (ROOM.add_columns(_old.c.name.label("old_name"), _old.c.size.label("old_size"),
                                      _old.c.blob_id.label("old_blob_id"), _old.c.delete_at.label("old_delete_at"))
                     .outerjoin(_old, (_old.c.container_id == _containers.c.id) & (_old.c.name == bindparam("object")))
                     .with_for_update(of=_containers))
# (bind names that are no column's: SQLAlchemy keeps those for the SET clause)
COUNT_CONTAINER = update(_containers).where(_containers.c.id == bindparam("container_key")).values(
    object_count=_containers.c.object_count + bindparam("objects"),
    bytes_used=_containers.c.bytes_used + bindparam("size"))
COUNT_ACCOUNT = update(_accounts).where(_accounts.c.name == bindparam("account_key")).values(
    object_count=_accounts.c.object_count + bindparam("objects"), bytes_used=_accounts.c.bytes_used + bindparam("size"))
# a new object's row, and an object's row written over (its key kept)
INSERT_OBJECT = insert(_objects)
# (its SET clause is made of the parameters' names: every column, the key's set to what it was)
REWRITE_OBJECT = update(_objects).where(_objects.c.container_id == bindparam("container_key"),
                                        _objects.c.name == bindparam("name_key"))
LISTED_COLUMNS = (Object.name, Object.etag, Object.size, Object.content_type, Object.timestamp,
                  type_coerce(Object.meta, Text))


def now() -> float:
    """A Swift timestamp: seconds with five decimals."""
    return round(time.time(), 5)


def apply(meta: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """``meta`` with ``changes`` laid over it; an empty or None value removes the key."""
    merged = dict(meta)
    for key, value in changes.items():
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    return merged


UNAVAILABLE = "The object storage is unavailable; try again later."


def blob_store(settings: Settings) -> BlobStore:
    """Files under DATA_DIR/objects, or the Ceph cluster's objects pool when ``ceph.object_store`` is on."""
    ceph = settings.ceph
    if not ceph.object_store:
        return FileStore(Path(settings.data_dir) / "objects")
    if not ceph.conf:
        raise ValueError("ceph.object_store is on but ceph.conf names no cluster")
    return RadosStore(ceph.conf, ceph.client, ceph.keyring, ceph.pools.get("objects", "objects"),
                      timeout=ceph.timeout)


class ObjectService:
    def __init__(self, db: Database, settings: Settings, store: BlobStore | None = None):
        self.db = db
        self.store: BlobStore = store or blob_store(settings)
        self.group = GroupCommit(db)
        self.slo = StaticLargeObjects(self)
        self.multipart = Multipart(self)

    # accounts

    def account(self, name: str) -> Account:
        """The account's row, or an empty one not yet stored (Swift's account auto-creation)."""
        with self.db.read() as session:
            return session.get(Account, name) or _blank_account(name)

    def list_containers(self, name: str, query: listing.Query) -> tuple[Account, list]:
        with self.db.read() as session:
            account = session.get(Account, name) or _blank_account(name)

            def fetch(bound, end_marker, low, high, reverse, count):
                # the hidden containers of versioning are no client's to list
                stmt = select(Container).where(Container.account == name,
                                               Container.name.not_like(versioning.HIDDEN_PREFIX[0] + "%"))
                return session.scalars(_ranged(stmt, Container.name, bound, end_marker, low, high, reverse)
                                       .limit(count)).all()

            return account, listing.page(fetch, query)

    def post_account(self, name: str, changes: dict[str, str | None]) -> None:
        quotas.check(changes)
        with self.db.write() as session:
            account = _ensure_account(session, name)
            account.meta = schemas.check_meta(apply(account.meta, changes), "account")

    # containers

    def container(self, account: str, name: str) -> Container:
        with self.db.read() as session:
            return _container(session, account, name)

    def find_container(self, account: str, name: str) -> Container | None:
        with self.db.read() as session:
            return session.scalars(select(Container).where(Container.account == account,
                                                           Container.name == name)).first()

    def list_objects(self, account: str, name: str, query: listing.Query, full: bool = False) -> tuple[Container, list]:
        """A page of the container's listing: ``Listed`` entries (``full``: the objects' rows, to read them)
        and ``Subdir``s."""
        with self.db.read() as session:
            container = _container(session, account, name)

            def fetch(bound, end_marker, low, high, reverse, count):
                stmt = select(Object) if full else select(*LISTED_COLUMNS)
                stmt = _ranged(stmt.where(Object.container_id == container.id), Object.name, bound, end_marker,
                               low, high, reverse).limit(count)
                if full:
                    return session.scalars(stmt).all()
                return [Listed(*row) for row in session.execute(stmt)]

            return container, listing.page(fetch, query)

    def put_container(self, account: str, name: str, changes: dict[str, str | None]) -> bool:
        """Create the container (True) or update its metadata (False)."""
        quotas.check(changes)
        with self.db.write() as session:
            owner = _ensure_account(session, account)
            found = session.scalars(select(Container).where(Container.account == account,
                                                            Container.name == name)).first()
            if found is not None:
                before = found.meta
                found.meta = versions.check(schemas.check_meta(apply(found.meta, changes), "container"))
                versioning.settle(session, found, before)
                found.put_timestamp = now()
                return False
            stamp = now()
            created = Container(account=account, name=name, created_at=stamp, put_timestamp=stamp,
                                meta=versions.check(schemas.check_meta(apply({}, changes), "container")),
                                object_count=0, bytes_used=0)
            session.add(created)
            versioning.settle(session, created, {})
            owner.container_count += 1
            return True

    def post_container(self, account: str, name: str, changes: dict[str, str | None]) -> None:
        quotas.check(changes)
        with self.db.write() as session:
            container = _container(session, account, name)
            before = container.meta
            container.meta = versions.check(schemas.check_meta(apply(container.meta, changes), "container"))
            versioning.settle(session, container, before)

    def delete_container(self, account: str, name: str) -> None:
        with self.db.write() as session:
            container = _container(session, account, name, lock=True)
            if session.scalars(select(Object.name).where(Object.container_id == container.id).limit(1)).first():
                raise errors.Conflict()
            archive = versioning.hidden(session, container, lock=True)
            if archive is not None:  # its versions must be gone first, then they go with it (as in Swift)
                if session.scalars(select(Object.name).where(Object.container_id == archive.id).limit(1)).first():
                    raise errors.Conflict("Delete all versions before deleting container.")
                session.delete(archive)
            session.delete(container)
            session.execute(update(Account).where(Account.name == account)
                            .values(container_count=Account.container_count - 1))

    # objects

    def object(self, account: str, container: str, name: str) -> Object:
        """The object's row; an object past its X-Delete-At is gone even before the expirer removes it."""
        found = self.db.read_one(OBJECT_BY_NAME, {"account": account, "container": container, "name": name})
        if found is None or (found.delete_at is not None and found.delete_at <= time.time()):
            raise errors.NotFound()
        return Object(**found._mapping)

    def read(self, obj: Object, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The object's bytes ``start``..``end``; its first block is checked before this returns, so a
        damaged or vanished blob is an error the caller can still answer with a status."""
        try:
            chunks = self.store.get(obj.blob_id, obj.blocks, obj.blob_size, start, end)
            first = next(chunks, None)
        except (Missing, Corrupt) as exc:
            LOG.error("object data of %s (blob %s) is damaged or missing: %r", obj.name, obj.blob_id, exc)
            raise errors.ServiceUnavailable("The object's data could not be read intact.") from None
        except Unavailable as exc:
            LOG.error("object data of %s (blob %s) could not be read: %s", obj.name, obj.blob_id, exc)
            raise errors.ServiceUnavailable(UNAVAILABLE) from None
        if first is None:
            return iter(())
        return _prepend(first, chunks)

    def assembly(self, account: str, obj: Object) -> large.Assembly | None:
        """What a large object reads as; None for an ordinary object."""
        if SLO_FLAG in obj.meta:
            return self.slo.assemble(account, obj)
        location = large.dlo_location(obj)
        if location is None:
            return None
        container, prefix = location

        def list_page(query: listing.Query) -> list:
            try:
                return [e for e in self.list_objects(account, container, query, full=True)[1]
                        if isinstance(e, Object)]
            except errors.NotFound:
                return []

        pieces = large.dlo_pieces(list_page, container, prefix)
        return large.Assembly(large.dlo_etag(pieces), pieces)

    def read_pieces(self, pieces: list[large.Piece], start: int, end: int) -> Iterator[bytes]:
        return large.read(self.read, pieces, start, end)

    def rows_named(self, account: str, paths: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Object]:
        """The live objects of ``account`` at each (container, name), read in one transaction."""
        wanted: dict[str, set[str]] = {}
        for container, name in paths:
            wanted.setdefault(container, set()).add(name)
        found: dict[tuple[str, str], Object] = {}
        with self.db.read() as session:
            for container, names in wanted.items():
                owner = session.scalars(select(Container.id).where(Container.account == account,
                                                                   Container.name == container)).first()
                if owner is None:
                    continue
                ordered = sorted(names)
                for i in range(0, len(ordered), 500):
                    for row in session.scalars(select(Object).where(Object.container_id == owner,
                                                                    Object.name.in_(ordered[i:i + 500]))):
                        if not _expired(row):
                            found[(container, row.name)] = row
        return found

    def room(self, account: str, container: str) -> int | None:
        """The bytes the account's and the container's quotas leave (None: no quota); 413 when the
        container's count quota is full, 404 when the container does not exist."""
        found = self.db.read_one(ROOM, {"account": account, "name": container})
        if found is None:
            raise errors.NotFound()
        return quotas.room(_account_of(found), found)

    def put_object(self, account: str, container: str, name: str, chunks: Iterable[bytes], spec: ObjectSpec,
                   max_size: int = schemas.MAX_FILE_SIZE, length: int | None = None) -> Object:
        """``length``: the size the client announced, refused before any byte is read if over a quota.  A
        body of at most ``SMALL`` bytes (read whole already) is checked against the quotas, and its container
        found, in the commit's own transaction instead: one read less, and no answer raced by another write."""
        small = length is not None and length <= SMALL
        room = None if small else self.room(account, container)  # a missing container: 404 before any byte
        if room is not None and length is not None and length > room:
            raise errors.PayloadTooLarge(quotas.EXCEEDED)
        if spec.if_none_match:
            self.refuse_existing(account, container, name)
        try:
            stored = self.store.put(chunks, max_size if room is None else min(room, max_size))
        except TooLarge:
            over_quota = room is not None and room < max_size
            raise errors.PayloadTooLarge(quotas.EXCEEDED if over_quota else "Your request is too large.") from None
        except Unavailable as exc:
            LOG.error("object %s/%s not stored: %s", container, name, exc)
            raise errors.ServiceUnavailable(UNAVAILABLE) from None
        if spec.etag is not None and spec.etag != stored.md5:
            self.store.delete(stored.blob_id)
            raise errors.UnprocessableEntity("The ETag you sent does not match the MD5 of the object's content.")
        return self.commit_object(account, container, name, stored, spec, check_quota=small)

    def commit_object(self, account: str, container: str, name: str, stored: Stored, spec: ObjectSpec,
                      etag: str | None = None, size: int | None = None, check_quota: bool = False) -> Object:
        """Point the object's row at ``stored`` (already durable); the blob it replaces goes after commit.
        ``size``: what the object is listed and counted at, when not its blob's size (a manifest).  The rows
        are written by a group commit (``onestack/db/group.py``): concurrent uploads share one transaction,
        each in a savepoint of its own, and this returns once they are committed.  ``check_quota``: refuse
        (413) a write the quotas have no room for, in that transaction."""
        try:
            row, replaced = self.group.run(
                lambda session: self._point(session, account, container, name, stored, spec, etag, size, check_quota))
        except BaseException:
            self.store.delete(stored.blob_id)
            raise
        if replaced is not None and replaced != stored.blob_id:
            self.store.delete(replaced)
        return row

    def _point(self, session: Session, account: str, container: str, name: str, stored: Stored, spec: ObjectSpec,
               etag: str | None, size: int | None, check_quota: bool = False) -> tuple[Object, str | None]:
        """The rows of ``commit_object`` in ``session``: (the object's row, the blob it no longer holds)."""
        conn = session.connection()
        owner = conn.execute(CONTAINER_AND_OLD, {"account": account, "name": container, "object": name}).first()
        if owner is None:
            raise errors.NotFound()
        if check_quota:
            room = quotas.room(_account_of(owner), owner)
            if room is not None and stored.size > room:
                raise errors.PayloadTooLarge(quotas.EXCEEDED)
        if versioning.state(owner) is not None or versions.mode(owner) is not None:
            return self._point_versioned(session, account, container, name, stored, spec, etag, size)
        # an unversioned container (nearly every write): prebuilt table statements, no ORM unit of work
        old = None if owner.old_name is None else _Replaced(owner.old_size, owner.old_blob_id, owner.old_delete_at)
        if old is not None and spec.if_none_match and not _expired(old):
            raise errors.PreconditionFailed()
        values = {"container_id": owner.id, "name": name, "blob_id": stored.blob_id,
                  "size": stored.size if size is None else size, "blocks": stored.blocks,
                  "etag": etag or stored.md5, "content_type": spec.content_type, "meta": spec.meta,
                  "delete_at": spec.delete_at, "timestamp": now()}
        if old is None:
            conn.execute(INSERT_OBJECT, values)
        else:
            conn.execute(REWRITE_OBJECT, {**values, "container_key": owner.id, "name_key": name})
        objects, size = 0 if old is not None else 1, values["size"] - (old.size if old is not None else 0)
        if quotas.applies(owner.account_meta, owner.meta):  # a later write's quota check reads these counters
            _count(session, owner, objects, size, conn)
        else:  # summed with the batch's other writes, one update of each row at its commit
            amounts = {"objects": objects, "size": size}
            self.group.add(session, COUNT_CONTAINER, {"container_key": owner.id}, amounts)
            self.group.add(session, COUNT_ACCOUNT, {"account_key": owner.account}, amounts)
        return Object(**values), old.blob_id if old is not None else None

    def _point_versioned(self, session: Session, account: str, container: str, name: str, stored: Stored,
                         spec: ObjectSpec, etag: str | None, size: int | None) -> tuple[Object, str | None]:
        owner = _container(session, account, container, lock=True)
        old = session.get(Object, (owner.id, name))
        if old is not None and spec.if_none_match and not _expired(old):
            raise errors.PreconditionFailed()
        replaced = None
        if old is not None:
            # the archive's row is locked before the account's (by the counters): one order for every
            # writer, or a PUT into the archive at the same time deadlocks with this one on PostgreSQL
            archived = self._archive(session, owner, old)
            _count(session, owner, -1, -old.size)
            if not archived:
                replaced = old.blob_id
                session.delete(old)
                session.flush()
        stamp, meta = now(), spec.meta
        if versioning.state(owner):  # a version of its own, its id its timestamp
            stamp = versioning.stamp_for(old, stamp)
            versioning.archived_name(name, views.timestamp(stamp))  # it can be kept once overwritten
            meta = {**meta, versioning.VERSION_ID: views.timestamp(stamp)}
        row = Object(container_id=owner.id, name=name, blob_id=stored.blob_id,
                     size=stored.size if size is None else size, blocks=stored.blocks,
                     etag=etag or stored.md5, content_type=spec.content_type, meta=meta,
                     delete_at=spec.delete_at, timestamp=stamp)
        session.add(row)
        _count(session, owner, 1, row.size)
        return row, replaced

    def post_object(self, account: str, container: str, name: str, content_type: str | None,
                    meta: dict[str, str], delete_at: int | None) -> Object:
        """Swift's POST: the object's metadata becomes exactly what the request sends (its row returned)."""
        with self.db.write() as session:
            owner = _container(session, account, container)
            row = session.get(Object, (owner.id, name))
            if row is None or _expired(row):
                raise errors.NotFound()
            kept = {k: v for k, v in row.meta.items() if schemas.is_system(k)}
            row.meta = {**kept, **meta}
            if content_type:
                row.content_type = content_type
            row.delete_at = delete_at
            row.timestamp = now()
        return row

    def delete_object(self, account: str, container: str, name: str) -> str | None:
        """Remove the object; in a versioned container, as its mode says (``versions.py``, ``versioning.py``).
        Returns the id of the delete marker left, if one was."""
        marker = None
        with self.db.write() as session:
            owner = _container(session, account, container, lock=True)
            row = session.get(Object, (owner.id, name))
            enabled = versioning.state(owner)
            if enabled is not None:
                if row is None or _expired(row):
                    raise errors.NotFound()
                freed = None if self._archive(session, owner, row) else row.blob_id  # (archive locked first)
                _count(session, owner, -1, -row.size)
                if freed is not None:
                    session.delete(row)
                if enabled:
                    target = versioning.hidden(session, owner, lock=True)
                    placed = versioning.marker(target, name, versioning.stamp_for(row, now()))
                    session.add(placed)
                    _count(session, target, 1, 0)
                    marker = placed.meta[versioning.VERSION_ID]
            elif self._restore(session, owner, name, row):  # an expired row is replaced all the same
                freed = row.blob_id if row is not None else None
            elif row is None or _expired(row):
                raise errors.NotFound()
            else:
                archived = self._archive(session, owner, row, deleting=True)  # (archive locked first)
                _count(session, owner, -1, -row.size)
                freed = None if archived else row.blob_id
                if not archived:
                    session.delete(row)
        self.store.delete(freed)
        return marker

    @staticmethod
    def _archive(session: Session, owner: Container, row: Object, deleting: bool = False) -> bool:
        """Move ``row`` (already uncounted) to its container's archive if it has one (and, when it is being
        deleted in history mode, leave a delete marker after it)."""
        if versioning.state(owner) is not None:
            target = versioning.hidden(session, owner, lock=True)
            if target is None or not versioning.keeps(owner, row):  # even expired: versions outlive it
                return False
            versioning.archive(session, target, row)
            _count(session, target, 1, row.size)
            return True
        found = versions.mode(owner)
        if found is None or _expired(row) or (deleting and found[0] != versions.HISTORY):
            return False
        target = versions.archive(session, owner, found[1])
        versions.move(session, row, target, versions.archived_name(row))
        _count(session, target, 1, row.size)
        if deleting:
            session.add(versions.marker(target, row.name, now()))
            _count(session, target, 1, 0)
        return True

    @staticmethod
    def _restore(session: Session, owner: Container, name: str, current: Object | None) -> bool:
        """Stack mode's DELETE: the newest archived version takes the current one's place (True), if any."""
        found = versions.mode(owner)
        if found is None or found[0] != versions.STACK:
            return False
        target = versions.find_archive(session, owner, found[1])
        previous = versions.newest(session, target, name) if target is not None else None
        if previous is None:
            return False
        if current is not None:
            _count(session, owner, -1, -current.size)
            session.delete(current)
            session.flush()
        _count(session, target, -1, -previous.size)
        versions.move(session, previous, owner, name)
        _count(session, owner, 1, previous.size)
        return True

    # object versions (X-Versions-Enabled)

    def version(self, account: str, container: str, name: str, version_id: str) -> Object:
        """The version ``version_id`` (normal form, or ``null``) of the object: the current row or a kept one;
        404 for a delete marker (which says its id) or none."""
        with self.db.read() as session:
            owner = _container(session, account, container)
            current = session.get(Object, (owner.id, name))
            if current is not None and not _expired(current) and versioning.version_of(current) == version_id:
                return current
            target = versioning.hidden(session, owner) if version_id != versioning.NULL else None
            row = session.get(Object, (target.id, versioning.archived_name(name, version_id))) if target else None
        if row is None:
            raise errors.NotFound()
        if row.content_type == versioning.DELETE_MARKER:
            raise errors.NotFound(headers={"X-Object-Version-Id": version_id})
        return row

    def delete_version(self, account: str, container: str, name: str, version_id: str) -> None:
        """Remove one version for good: the current one (no other takes its place) or a kept one or marker."""
        with self.db.write() as session:
            owner = _container(session, account, container, lock=True)
            row = session.get(Object, (owner.id, name))
            home = owner
            if row is None or versioning.version_of(row) != version_id:
                target = versioning.hidden(session, owner, lock=True) if version_id != versioning.NULL else None
                home = target
                row = session.get(Object, (target.id, versioning.archived_name(name, version_id))) if target else None
            if row is None:
                raise errors.NotFound()
            _count(session, home, -1, -row.size)
            session.delete(row)
        self.store.delete(row.blob_id)

    def list_versions(self, account: str, container: str, query: listing.Query,
                      version_marker: str | None = None) -> tuple[Container, list]:
        """A page of every version of the container's objects (``Versioned`` entries and ``Subdir``s): by name,
        each name's newest first, the current one ``is_latest`` (or a delete marker that is newest)."""
        query = dataclasses.replace(query, reverse=False)
        with self.db.read() as session:
            owner = _container(session, account, container)
            target = versioning.hidden(session, owner)

            def fetcher(container_id: int):
                def fetch(bound, end_marker, low, high, reverse, count):
                    stmt = _ranged(select(*LISTED_COLUMNS).where(Object.container_id == container_id), Object.name,
                                   bound, end_marker, low, high, reverse).limit(count)
                    return [Listed(*row) for row in session.execute(stmt)]
                return fetch

            current = listing.page(fetcher(owner.id), query)
            kept = []
            if target is not None:
                after = query.marker
                if after:  # past the marker's versions, or past its version_marker among them
                    after = versioning.archived_name(after, version_marker) if version_marker else \
                        after + versioning.SEPARATOR + "\x7f"
                kept = listing.page(fetcher(target.id), dataclasses.replace(query, marker=after))
        return owner, versioning.merge(current, kept, query.limit, query.marker if version_marker else None)

    def copy_object(self, source: Object, source_account: str, account: str, container: str, name: str,
                    spec: ObjectSpec) -> Object:
        """A new object of ``source``'s bytes (read and checked, then written as a blob of its own); a large
        object's copy holds the concatenation of its segments."""
        room = self.room(account, container)
        if spec.if_none_match:
            self.refuse_existing(account, container, name)
        found = self.assembly(source_account, source)
        if room is not None and (found.size if found is not None else source.size) > room:
            raise errors.PayloadTooLarge(quotas.EXCEEDED)
        try:
            if found is None:  # one blob: the store copies it as it can best (RADOS: stripe by stripe)
                stored = self.store.copy(source.blob_id, source.blocks, source.blob_size, source.etag)
            else:
                stored = self.store.put(self.read_pieces(found.pieces, 0, found.size - 1), schemas.MAX_FILE_SIZE)
        except (Missing, Corrupt) as exc:
            LOG.error("object data of %s (blob %s) is damaged or missing: %r", source.name, source.blob_id, exc)
            raise errors.ServiceUnavailable("The object's data could not be read intact.") from None
        except Unavailable as exc:
            LOG.error("object %s/%s not copied: %s", container, name, exc)
            raise errors.ServiceUnavailable(UNAVAILABLE) from None
        return self.commit_object(account, container, name, stored, spec)

    def refuse_existing(self, account: str, container: str, name: str) -> None:
        try:
            self.object(account, container, name)
        except errors.NotFound:
            return
        raise errors.PreconditionFailed()

    # upkeep (the reconcilers call these)

    def expired(self, limit: int = 500) -> list[tuple[str, str, str]]:
        """(account, container, object) of objects past their X-Delete-At."""
        with self.db.read() as session:
            rows = session.execute(
                select(Container.account, Container.name, Object.name)
                .join(Container, Container.id == Object.container_id)
                .where(Object.delete_at.is_not(None), Object.delete_at <= int(time.time()))
                .limit(limit)).all()
        return [tuple(r) for r in rows]

    def expire(self, account: str, container: str, name: str) -> bool:
        """Remove the object if it is still past its X-Delete-At (it may have been rewritten since)."""
        with self.db.write() as session:
            owner = session.scalars(select(Container).where(Container.account == account,
                                                            Container.name == container)
                                    .with_for_update()).first()
            row = session.get(Object, (owner.id, name)) if owner is not None else None
            if row is None or not _expired(row):
                return False
            # in a versioned container the version outlives its expiry: only the current object goes
            target = versioning.hidden(session, owner, lock=True) if versioning.keeps(owner, row) else None
            _count(session, owner, -1, -row.size)  # (the hidden container locked before the account)
            if target is not None:
                versioning.archive(session, target, row)
                _count(session, target, 1, row.size)
                return True
            session.delete(row)
        self.store.delete(row.blob_id)
        return True

    def owned_blobs(self, blob_ids: list[str]) -> set[str]:
        with self.db.read() as session:
            return set(session.scalars(select(Object.blob_id).where(Object.blob_id.in_(blob_ids))))

    def rows_after(self, after: tuple[int, str] | None, count: int) -> list[Object]:
        """Objects in key order after ``after`` (container id, name): the auditor's walk."""
        with self.db.read() as session:
            stmt = select(Object).order_by(Object.container_id, Object.name).limit(count)
            if after is not None:
                stmt = stmt.where((Object.container_id > after[0])
                                  | ((Object.container_id == after[0]) & (Object.name > after[1])))
            return list(session.scalars(stmt))

    def drop_lost(self, row: Object) -> None:
        """Forget an object whose blob is gone or damaged (what a crash or a bad disk left)."""
        with self.db.write() as session:
            found = session.get(Object, (row.container_id, row.name))
            if found is None or found.blob_id != row.blob_id:
                return
            owner = session.get(Container, row.container_id)
            session.execute(delete(Object).where(Object.container_id == row.container_id, Object.name == row.name))
            _count(session, owner, -1, -row.size)


@dataclasses.dataclass(frozen=True, slots=True)
class _Replaced:
    """The row a plain write replaces, as ``CONTAINER_AND_OLD`` read it."""

    size: int
    blob_id: str | None
    delete_at: int | None


def _blank_account(name: str) -> Account:
    return Account(name=name, created_at=0.0, put_timestamp=0.0, meta={}, container_count=0, object_count=0,
                   bytes_used=0)


def _account_of(row) -> Account:
    """The account's quotas and counters as a row of ``ROOM`` or ``CONTAINER_AND_OLD`` has them."""
    if row.account_meta is None:
        return _blank_account(row.account)
    return Account(meta=row.account_meta, object_count=row.account_objects, bytes_used=row.account_bytes)


def _ensure_account(session: Session, name: str) -> Account:
    """The account's row, made the first time and held until the transaction ends: two first writes to a
    new account both get the one row (not a duplicate key, a 409 Swift never answers), and whether a
    container exists is decided by one writer of the account at a time (two PUTs of one new name: 201, 202)."""
    stamp = now()
    lock_or_create(session, Account, name, name=name, created_at=stamp, put_timestamp=stamp, meta={},
                   container_count=0, object_count=0, bytes_used=0)
    return session.get(Account, name)


def _container(session: Session, account: str, name: str, lock: bool = False) -> Container:
    stmt = select(Container).where(Container.account == account, Container.name == name)
    found = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if found is None:
        raise errors.NotFound()
    return found


def _count(session: Session, container, objects: int, size: int, conn=None) -> None:
    # table updates, not ORM ones: the counters of rows the session holds are never read after this
    conn = conn or session.connection()
    conn.execute(COUNT_CONTAINER, {"container_key": container.id, "objects": objects, "size": size})
    conn.execute(COUNT_ACCOUNT, {"account_key": container.account, "objects": objects, "size": size})


def _expired(row: Object) -> bool:
    return row.delete_at is not None and row.delete_at <= time.time()


def _ranged(stmt, column, bound: listing.Bound | None, end_marker: str, low: str, high: str | None, reverse: bool):
    if low:
        stmt = stmt.where(column >= low)
    if high is not None:
        stmt = stmt.where(column < high)
    if reverse:
        if bound is not None:
            stmt = stmt.where(column <= bound.name if bound.inclusive else column < bound.name)
        if end_marker:
            stmt = stmt.where(column > end_marker)
        return stmt.order_by(column.desc())
    if bound is not None:
        stmt = stmt.where(column >= bound.name if bound.inclusive else column > bound.name)
    if end_marker:
        stmt = stmt.where(column < end_marker)
    return stmt.order_by(column)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
