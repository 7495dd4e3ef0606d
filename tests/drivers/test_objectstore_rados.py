"""The RADOS blob store against the throwaway cluster (``tests/cephcluster.py``), below the API: stripes and
head as RADOS objects, damage found on read, what an interrupted upload leaves and who removes it, the
auditor's quarantine, and a cluster that cannot be reached."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time

import pytest

from onestack.drivers.objectstore import Corrupt, Missing, TooLarge, Unavailable
from onestack.drivers.objectstore.rados import RadosStore, stripe_name

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
MiB = 1 << 20


@pytest.fixture
def store(ceph_cluster):
    # a small stripe unit (2 blocks of 64 KiB) so that a few hundred KiB make several stripes
    found = RadosStore(ceph_cluster.conf, ceph_cluster.client, ceph_cluster.keyring, "objects", timeout=10,
                       block_size=64 << 10, stripe=128 << 10)
    yield found
    found.close()


def rados(cluster, *args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(["rados", "-c", cluster.conf, "--id", cluster.client, "-p", "objects", *args],
                          input=data, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def names(cluster, blob_id: str) -> set[str]:
    return {n for n in rados(cluster, "ls").decode().split() if n.startswith(blob_id)}


def test_stripes_ranges_copies_and_deletes(store, ceph_cluster):
    data = os.urandom(300_000)  # three stripes: 128 KiB, 128 KiB, the rest
    stored = store.put([data[i:i + 10_000] for i in range(0, len(data), 10_000)], 1 << 30)
    assert (stored.size, stored.md5) == (len(data), hashlib.md5(data).hexdigest())
    assert names(ceph_cluster, stored.blob_id) == {stored.blob_id, stripe_name(stored.blob_id, 1),
                                                  stripe_name(stored.blob_id, 2)}
    assert rados(ceph_cluster, "get", stripe_name(stored.blob_id, 2), "-") == data[256 << 10:]
    assert rados(ceph_cluster, "getxattr", stored.blob_id, "onestack.size") == b"300000"
    assert b"".join(store.get(stored.blob_id, stored.blocks, stored.size)) == data
    for start, end in ((0, 0), (65535, 65536), (131000, 270000), (299_999, 299_999)):
        assert b"".join(store.get(stored.blob_id, stored.blocks, stored.size, start, end)) == data[start:end + 1]
    copied = store.copy(stored.blob_id, stored.blocks, stored.size, stored.md5)
    assert copied.blob_id != stored.blob_id and (copied.md5, copied.blocks) == (stored.md5, stored.blocks)
    store.delete(stored.blob_id)
    assert not names(ceph_cluster, stored.blob_id) and store.stat(stored.blob_id) is None
    with pytest.raises(Missing):
        next(store.get(stored.blob_id, stored.blocks, stored.size))
    assert b"".join(store.get(copied.blob_id, copied.blocks, copied.size)) == data
    store.delete(copied.blob_id)
    assert store.put([b""], 10).blob_id is None


def test_damage_is_found_and_quarantined(store, ceph_cluster):
    data = os.urandom(200_000)
    stored = store.put([data], 1 << 30)
    flipped = bytearray(data[128 << 10:])
    flipped[5] ^= 1
    rados(ceph_cluster, "put", stripe_name(stored.blob_id, 1), "-", data=bytes(flipped))
    assert b"".join(store.get(stored.blob_id, stored.blocks, stored.size, 0, 1000)) == data[:1001]
    with pytest.raises(Corrupt):
        b"".join(store.get(stored.blob_id, stored.blocks, stored.size))
    assert not store.verify(stored.blob_id, stored.blocks, stored.size, stored.md5)
    store.quarantine(stored.blob_id)
    assert not names(ceph_cluster, stored.blob_id)
    aside = rados(ceph_cluster, "--namespace", "quarantine", "ls").decode().split()
    assert stored.blob_id in aside and stripe_name(stored.blob_id, 1) in aside
    for name in aside:
        if name.startswith(stored.blob_id):
            rados(ceph_cluster, "--namespace", "quarantine", "rm", name)


def test_an_interrupted_upload_leaves_stripes_only_the_sweep_of_a_later_start_removes(store, ceph_cluster):
    def body():
        yield os.urandom(400_000)
        raise ConnectionResetError("the client went away")
    with pytest.raises(ConnectionResetError):
        store.put(body(), 1 << 30)
    with pytest.raises(TooLarge):
        store.put([os.urandom(400_000)], 300_000)
    # both cleaned up after themselves; what a kill -9 leaves is stripes without their head
    stray = "0" * 31 + "f"
    rados(ceph_cluster, "put", stripe_name(stray, 1), "-", data=b"x" * 1000)
    assert stray not in {b for b, _ in store.blobs()}
    assert store.discard_partials(time.time() - 3600) == 0  # written after that: maybe an upload going on
    assert names(ceph_cluster, stray)
    assert store.discard_partials(time.time() + 2) == 1
    assert not names(ceph_cluster, stray)
    leftover = {n for n in rados(ceph_cluster, "ls").decode().split() if "." in n}
    assert not {n for n in leftover if n.split(".")[0] not in leftover}


def test_an_unreachable_cluster_is_unavailable(tmp_path, ceph_cluster):
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\nmon host = v2:127.0.0.1:9\n")
    store = RadosStore(str(conf), ceph_cluster.client, ceph_cluster.keyring, "objects", timeout=2)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        store.put([b"data"], 100)
    with pytest.raises(Unavailable):
        store.get("0" * 32, b"", 4)
    assert time.monotonic() - started < 30


def test_a_forked_serving_process_connects_anew(store):
    """A worker forked by a supervisor whose sweeper already connected: the inherited librados handle (its
    threads left behind in the parent) is dropped, so the child's writes and reads do not hang."""
    kept = store.put([b"parent"], 100)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            made = store.put([b"child" * 50_000], 1 << 20)
            if b"".join(store.get(kept.blob_id, kept.blocks, kept.size)) == b"parent" and \
                    store.stat(made.blob_id) == 250_000:
                code = 0
            store.delete(made.blob_id)
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError("the forked process hung on the cluster")
        time.sleep(0.1)
    assert os.waitstatus_to_exitcode(done[1]) == 0
    assert b"".join(store.get(kept.blob_id, kept.blocks, kept.size)) == b"parent"
    store.delete(kept.blob_id)
