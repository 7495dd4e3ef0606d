"""Blobs striped over RADOS objects in one Ceph pool, through librados (our ctypes binding).

A blob of id ``<id>`` (chosen here, never a client's string) is cut into stripes of ``STRIPE`` bytes:

    <id>              stripe 0, with the xattr ``onestack.size`` (the blob's size): the blob's head
    <id>.<n, 8 hex>   stripe n >= 1

Crash safety comes from the order of writes: stripes 1..n are written (each acknowledged by the OSDs, so
durable) as the bytes arrive, while stripe 0 is held in memory; the head goes last, its bytes and its size
xattr in one atomic write operation.  A blob therefore exists once its head does, and a head only ever
names complete data.  An upload cut short (the server killed, an OSD gone) leaves stripes with no head,
which ``discard_partials`` removes (and which this process removes itself once the cluster takes a write
again, for uploads it saw fail); a head no database row owns is an orphan the sweeper finds through
``blobs``.  Deletes go the other way: head first, so a half-deleted blob is a partial, never a short blob.

Block checksums (CRC-32 per ``block_size``) are kept by the caller as with the file store and every read is
checked, each stripe fetched with one read of the blocks wanted.  Quarantined blobs move to the pool's
``quarantine`` namespace (RADOS cannot rename, so their stripes are copied there, then removed).

The cluster is connected on first use, not at start, so a cloud whose cluster is away still starts (its
object requests answer 503 until the cluster is back).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator

from onestack.drivers.objectstore import Missing, Stored, TooLarge, Unavailable, librados
from onestack.drivers.objectstore.blocks import Summer, check, verify
from onestack.forksafe import renew_in_children

LOG = logging.getLogger("onestack.object")
BLOCK = 1 << 20
STRIPE = 4 << 20
IN_FLIGHT = 2  # stripes written or read ahead at once: one 4 MiB buffer more per request, not more
SIZE_XATTR = "onestack.size"
QUARANTINE = "quarantine"


def stripe_name(blob_id: str, index: int) -> str:
    return blob_id if index == 0 else f"{blob_id}.{index:08x}"


class RadosStore:
    def __init__(self, conf: str, client: str, keyring: str, pool: str, timeout: float = 30,
                 block_size: int = BLOCK, stripe: int = STRIPE):
        if stripe % block_size:
            raise ValueError("the stripe unit must be a whole number of blocks")
        self.conf, self.client, self.keyring, self.pool_name = conf, client, keyring, pool
        self.timeout = timeout
        self.block_size, self.stripe = block_size, stripe
        self._lock = threading.Lock()
        self._cluster: librados.Cluster | None = None
        self._pool: librados.Pool | None = None
        # uploads cut by an unavailable cluster: blob id -> the stripes that may have been written
        self._abandoned: dict[str, int] = {}
        renew_in_children(self, RadosStore._forget_connection)

    def _forget_connection(self) -> None:
        """In a forked serving process: the parent's librados handle is dropped, never shut down (its
        threads did not come along, so a shutdown would wait on them), and this process connects anew."""
        self._lock = threading.Lock()
        self._cluster = self._pool = None
        self._abandoned = {}

    # -- the connection ------------------------------------------------------------------------------

    @property
    def pool(self) -> librados.Pool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    try:
                        cluster = librados.Cluster(self.conf, self.client, self.keyring, self.timeout)
                    except librados.RadosError as exc:
                        raise Unavailable(f"the Ceph cluster could not be reached: {exc}") from exc
                    try:
                        pool = cluster.pool(self.pool_name)
                    except librados.RadosError as exc:
                        cluster.close()
                        raise Unavailable(f"the pool {self.pool_name!r} could not be opened: {exc}") from exc
                    self._cluster, self._pool = cluster, pool
        return self._pool

    def check(self) -> None:
        """``Unavailable``, saying why, unless the pool opens and answers this client (a start-up check)."""
        try:
            _call(self.pool.stat, "onestack-start-check")
        except librados.NotFound:
            pass

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
            if self._cluster is not None:
                self._cluster.close()
            self._pool = self._cluster = None

    # -- writes --------------------------------------------------------------------------------------

    def put(self, chunks: Iterable[bytes], max_size: int) -> Stored:
        """Write ``chunks`` durably; ``TooLarge`` once more than ``max_size`` bytes arrive, ``Unavailable``
        when the cluster does not take them (nothing is visible then)."""
        pool = self.pool
        blob_id = uuid.uuid4().hex
        summer = Summer(self.block_size)
        head: bytes | None = None  # stripe 0, written last
        parts: list[bytes] = []  # the bytes of the stripe being filled, joined once it is whole
        filled = 0
        written = 0  # stripes 1..written are in the pool, or on their way
        flying: collections.deque[librados.Pending] = collections.deque()
        try:
            for chunk in chunks:
                if summer.size + len(chunk) > max_size:
                    raise TooLarge()
                summer.update(chunk)
                parts.append(chunk)
                filled += len(chunk)
                while filled >= self.stripe:
                    whole = b"".join(parts)
                    data, rest = whole[:self.stripe], whole[self.stripe:]
                    parts, filled = ([rest] if rest else []), len(rest)
                    if head is None:
                        head = data
                    else:
                        written += 1
                        self._send(flying, stripe_name(blob_id, written), data)
            md5, sums = summer.finish()
            size = summer.size
            if not size:
                return Stored(None, 0, md5, b"")
            if head is None:
                head = b"".join(parts)
            elif filled:
                written += 1
                self._send(flying, stripe_name(blob_id, written), b"".join(parts))
            _land(flying, 0)
            _call(pool.write_full_with_xattrs, blob_id, head, {SIZE_XATTR: str(size).encode()}, exclusive=True)
        except BaseException as exc:
            unavailable = isinstance(exc, Unavailable)
            try:
                _land(flying, 0)
            except Unavailable:
                unavailable = True
            if unavailable:  # removed once the cluster takes writes again (or by the next start's sweep)
                with self._lock:
                    self._abandoned[blob_id] = written
            else:
                self._remove_stripes(blob_id, 1, written)
            raise
        if self._abandoned:
            self._roll_back()
        return Stored(blob_id, size, md5, sums)

    def _send(self, flying: collections.deque, name: str, data: bytes) -> None:
        """Start writing a stripe; at most ``IN_FLIGHT`` at once, so the next arrives while they go."""
        _land(flying, IN_FLIGHT - 1)
        flying.append(_call(self.pool.write_full_async, name, data))

    def copy(self, blob_id: str | None, blocks: bytes, size: int, md5: str) -> Stored:
        """A new blob of the same bytes, stripe by stripe (each read once, its blocks checked, written back
        whole: no MD5 or checksum is computed again), the head last as in ``put``."""
        if blob_id is None or not size:
            return Stored(None, 0, md5, b"")
        pool = self.pool
        new_id = uuid.uuid4().hex
        count = self._stripes(size)
        written = 0
        try:
            for index in range(1, count):
                written = index
                _call(pool.write_full, stripe_name(new_id, index), self._read_stripe(blob_id, blocks, size, index))
            head = self._read_stripe(blob_id, blocks, size, 0)
            _call(pool.write_full_with_xattrs, new_id, head, {SIZE_XATTR: str(size).encode()}, exclusive=True)
        except BaseException as exc:
            if isinstance(exc, Unavailable):
                with self._lock:
                    self._abandoned[new_id] = written
            else:
                self._remove_stripes(new_id, 1, written)
            raise
        return Stored(new_id, size, md5, blocks)

    def delete(self, blob_id: str | None) -> None:
        """Head first (the blob is gone at once), then its other stripes; this never raises: what the
        cluster did not remove goes once it takes a write again, or at the next start's sweep."""
        if blob_id is None:
            return
        try:
            size = self.stat(blob_id)
            if size is None:
                return
            self.pool.remove(blob_id)
        except (librados.RadosError, Unavailable) as exc:
            LOG.warning("blob %s not removed now (once the cluster takes a write again): %s", blob_id, exc)
            with self._lock:
                self._abandoned[blob_id] = 0  # its head is still there: _roll_back deletes it whole
            return
        self._remove_stripes(blob_id, 1, self._stripes(size) - 1)

    def quarantine(self, blob_id: str) -> None:
        size = self.stat(blob_id)
        if size is None:
            return
        aside = self.pool.cluster.pool(self.pool_name, QUARANTINE)
        try:
            for index in range(self._stripes(size)):
                name = stripe_name(blob_id, index)
                try:
                    aside.write_full(name, self.pool.read(name, self.stripe))
                except librados.NotFound:
                    continue
            aside.write_full_with_xattrs(blob_id + ".size", b"", {SIZE_XATTR: str(size).encode()})
        finally:
            aside.close()
        self.delete(blob_id)

    # -- reads ---------------------------------------------------------------------------------------

    def get(self, blob_id: str | None, blocks: bytes, size: int, start: int = 0,
            end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive), each stripe's wanted blocks read at once and checked before
        any of them is yielded.  Errors come on the first ``next``, before any byte is sent."""
        end = size - 1 if end is None else end
        if blob_id is None or end < start:
            return iter(())
        self.pool  # noqa: B018 - connects now, so Unavailable comes from here
        return self._read(blob_id, blocks, size, start, end)

    def _read(self, blob_id: str, blocks: bytes, size: int, start: int, end: int) -> Iterator[bytes]:
        """One read a stripe, the next ones started before this one is checked and yielded."""
        per_stripe = self.stripe // self.block_size
        spans = []  # (stripe, first block, last block) wanted
        index, last = start // self.block_size, end // self.block_size
        while index <= last:
            stripe = index // per_stripe
            upto = min(last, (stripe + 1) * per_stripe - 1)
            spans.append((stripe, index, upto))
            index = upto + 1
        ahead: collections.deque[librados.Pending] = collections.deque()
        for number, (_, first, upto) in enumerate(spans):
            while len(ahead) < IN_FLIGHT and number + len(ahead) < len(spans):
                ahead.append(self._fetch(blob_id, size, spans[number + len(ahead)]))
            try:
                data = _call(ahead.popleft().wait)
            except librados.NotFound:
                raise Missing(blob_id) from None
            view = memoryview(data)
            for block in range(first, upto + 1):
                at = (block - first) * self.block_size
                check(blob_id, view[at:at + self.block_size], block, blocks,
                      min(self.block_size, size - block * self.block_size))
            offset = first * self.block_size
            lo, hi = max(start - offset, 0), min(end - offset + 1, len(data))
            yield data if (lo, hi) == (0, len(data)) else data[lo:hi]

    def _fetch(self, blob_id: str, size: int, span: tuple[int, int, int]) -> librados.Pending:
        stripe, first, upto = span
        offset = first * self.block_size
        length = min((upto + 1) * self.block_size, size) - offset
        return _call(self.pool.read_async, stripe_name(blob_id, stripe), length, offset - stripe * self.stripe)

    def _read_stripe(self, blob_id: str, blocks: bytes, size: int, stripe: int) -> bytes:
        start = stripe * self.stripe
        return b"".join(self._read(blob_id, blocks, size, start, min(start + self.stripe, size) - 1))

    def verify(self, blob_id: str | None, blocks: bytes, size: int, md5: str) -> bool:
        """Whether the blob still holds exactly what was written (the auditor's check)."""
        return verify(self, blob_id, blocks, size, md5)

    def stat(self, blob_id: str) -> int | None:
        """The blob's size, None when it has no head."""
        try:
            return int(_call(self.pool.getxattr, blob_id, SIZE_XATTR))
        except librados.NotFound:
            return None

    # -- the sweeper's view --------------------------------------------------------------------------

    def blobs(self) -> Iterator[tuple[str, float]]:
        """Every complete blob's id and the time its head was written."""
        for name in _call(lambda: list(self.pool.names())):
            if "." in name:
                continue
            try:
                yield name, self.pool.stat(name)[1]
            except librados.NotFound:
                continue  # deleted since the listing

    def discard_partials(self, older_than: float) -> int:
        """Remove the stripes of uploads that never got their head, when all of them were written before
        ``older_than`` (an epoch time): what a crash or a lost cluster left.  Returns the uploads removed."""
        names = _call(lambda: list(self.pool.names()))
        heads = {name for name in names if "." not in name}
        headless: dict[str, list[str]] = {}
        for name in names:
            blob_id = name.split(".", 1)[0]
            if "." in name and blob_id not in heads:
                headless.setdefault(blob_id, []).append(name)
        removed = 0
        for blob_id, stripes in headless.items():
            try:
                if any(self.pool.stat(name)[1] >= older_than for name in stripes):
                    continue  # an upload still going on
                self.pool.stat(blob_id)
                continue  # its head came since the listing: a complete blob
            except librados.NotFound:
                pass
            for name in stripes:
                try:
                    self.pool.remove(name)
                except librados.NotFound:
                    pass
            removed += 1
        return removed

    # -- helpers -------------------------------------------------------------------------------------

    def _roll_back(self) -> None:
        """Remove the stripes of uploads the cluster failed, now that it took a whole blob again."""
        with self._lock:
            abandoned, self._abandoned = self._abandoned, {}
        for blob_id, written in abandoned.items():
            try:
                if self.stat(blob_id) is None:  # never a head: the upload's stripes are garbage
                    self._remove_stripes(blob_id, 1, written, strict=True)
                else:  # the head landed after the call gave up: whole, but no row will ever own it
                    self.delete(blob_id)
            except (librados.RadosError, Unavailable):
                with self._lock:
                    self._abandoned[blob_id] = written
        if abandoned:
            LOG.info("removed the stripes of %d upload(s) cut while the cluster was unavailable", len(abandoned))

    def _stripes(self, size: int) -> int:
        return max(1, -(-size // self.stripe))

    def _remove_stripes(self, blob_id: str, first: int, last: int, strict: bool = False) -> None:
        for index in range(first, last + 1):
            try:
                self.pool.remove(stripe_name(blob_id, index))
            except librados.NotFound:
                pass
            except librados.RadosError as exc:
                if strict:
                    raise
                LOG.warning("stripe %d of blob %s not removed now (the sweeper will): %s", index, blob_id, exc)
                return


def _land(flying: collections.deque, keep: int) -> None:
    """Wait for the oldest writes in flight until at most ``keep`` remain; every one is waited for even when
    one fails (librados reads their buffers until they complete)."""
    failed: BaseException | None = None
    while len(flying) > keep:
        try:
            _call(flying.popleft().wait)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, once all are done
            failed = failed or exc
            keep = 0
    if failed is not None:
        raise failed


def _call(fn, *args, **kwargs):
    """``fn``'s result; a cluster that does not answer (or refuses for want of OSDs) is ``Unavailable``."""
    started = time.monotonic()
    try:
        return fn(*args, **kwargs)
    except librados.NotFound:
        raise
    except librados.RadosError as exc:
        raise Unavailable(f"the Ceph cluster did not take the request ({exc}, after "
                          f"{time.monotonic() - started:.1f} s)") from exc
