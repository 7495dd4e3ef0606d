"""The file blob store: durable puts, checked reads, ranges across blocks, sweeping what a crash left."""

import hashlib
import os
import threading
import time

import pytest

from onestack.drivers.objectstore import Corrupt, Missing, TooLarge
from onestack.drivers.objectstore.files import FileStore


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "objects", block_size=1024)


def test_put_then_get_whole_and_ranges(store):
    data = os.urandom(5000)
    stored = store.put([data[:1500], data[1500:]], max_size=10_000)
    assert stored.size == 5000 and stored.md5 == hashlib.md5(data).hexdigest() and len(stored.blocks) == 5 * 4
    assert b"".join(store.get(stored.blob_id, stored.blocks, 5000)) == data
    for start, end in ((0, 0), (1000, 1100), (1023, 1024), (4999, 4999), (10, 4000)):
        assert b"".join(store.get(stored.blob_id, stored.blocks, 5000, start, end)) == data[start:end + 1]
    assert list(store.tmp.iterdir()) == []


def test_empty_blob_keeps_no_file(store):
    stored = store.put([], max_size=10)
    assert stored.blob_id is None and stored.md5 == hashlib.md5(b"").hexdigest()
    assert list(store.blobs()) == []


def test_too_large_leaves_nothing(store):
    with pytest.raises(TooLarge):
        store.put([b"x" * 600, b"x" * 600], max_size=1000)
    assert list(store.tmp.iterdir()) == [] and list(store.blobs()) == []


def test_a_flipped_bit_is_never_served(store):
    data = os.urandom(3000)
    stored = store.put([data], max_size=10_000)
    path = store.path(stored.blob_id)
    raw = bytearray(path.read_bytes())
    raw[2500] ^= 1
    path.write_bytes(raw)
    served = []
    with pytest.raises(Corrupt):
        for chunk in store.get(stored.blob_id, stored.blocks, 3000):
            served.append(chunk)
    assert b"".join(served) == data[:2048]  # the intact blocks before the damaged one, nothing of it
    assert not store.verify(stored.blob_id, stored.blocks, 3000, stored.md5)
    assert b"".join(store.get(stored.blob_id, stored.blocks, 3000, 0, 100)) == data[:101]


def test_truncated_and_missing_blobs(store):
    stored = store.put([b"y" * 2000], max_size=10_000)
    with open(store.path(stored.blob_id), "r+b") as fh:
        fh.truncate(1500)
    with pytest.raises(Corrupt):
        list(store.get(stored.blob_id, stored.blocks, 2000))
    store.delete(stored.blob_id)
    with pytest.raises(Missing):
        store.get(stored.blob_id, stored.blocks, 2000)


def test_partials_older_than_a_time_are_discarded(store):
    (store.tmp / "old").write_bytes(b"x")
    os.utime(store.tmp / "old", (time.time() - 100, time.time() - 100))
    (store.tmp / "new").write_bytes(b"x")
    assert store.discard_partials(time.time() - 10) == 1
    assert [p.name for p in store.tmp.iterdir()] == ["new"]


def _pieces(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def test_a_large_put_on_two_threads_keeps_every_byte_in_order(store):
    """Past ``spool.BATCH`` the CRCs and writes run on a writer thread: the bytes, their MD5 and every
    block's checksum are still those of the content, in order, and the thread is gone afterwards."""
    data = os.urandom(5 * (1 << 20) + 12345)
    threads = threading.active_count()
    stored = store.put(_pieces(data, 65_537), max_size=len(data))
    assert stored.size == len(data) and stored.md5 == hashlib.md5(data).hexdigest()
    assert len(stored.blocks) == -(-len(data) // 1024) * 4
    assert store.path(stored.blob_id).read_bytes() == data
    assert b"".join(store.get(stored.blob_id, stored.blocks, len(data), 3_000_000, 3_100_000)) == \
        data[3_000_000:3_100_001]
    assert threading.active_count() == threads and list(store.tmp.iterdir()) == []


def test_a_large_put_cut_short_leaves_nothing_and_no_thread(store):
    """Too large, or the client gone, once the writer thread has started: no partial file, no thread."""
    threads = threading.active_count()
    with pytest.raises(TooLarge):
        store.put(_pieces(b"y" * (4 << 20), 65_536), max_size=3 << 20)

    def gone():
        yield from _pieces(b"z" * (3 << 20), 65_536)
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        store.put(gone(), max_size=10 << 20)
    assert threading.active_count() == threads
    assert list(store.tmp.iterdir()) == [] and list(store.blobs()) == []


def test_a_body_of_many_tiny_pieces_is_written_whole(store):
    """More pieces than one ``writev`` takes (a chunked upload of tiny chunks), small and large."""
    for data in (os.urandom(3000), os.urandom(1_200_000)):
        stored = store.put(_pieces(data, 7), max_size=len(data))
        assert stored.md5 == hashlib.md5(data).hexdigest() and store.path(stored.blob_id).read_bytes() == data
