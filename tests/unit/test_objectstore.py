"""The file blob store: durable puts, checked reads, ranges across blocks, sweeping what a crash left."""

import hashlib
import os
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
