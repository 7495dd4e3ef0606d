"""The chunked backup engine on a real store of files: what is stored for zeros, for compressible and for
incompressible data, what an incremental backup adds, and that a restore gives back every byte or fails."""

import os
from pathlib import Path

import pytest

from onestack.drivers.backups import BackupError, chunked
from onestack.drivers.backups.posix import PosixStore

CHUNK = chunked.CHUNK


@pytest.fixture
def store(tmp_path) -> PosixStore:
    return PosixStore(tmp_path / "store")


def raw(tmp_path: Path, parts: list[bytes | None]) -> Path:
    """A sparse raw file of one chunk per part (None: a hole)."""
    path = tmp_path / f"raw-{len(list(tmp_path.iterdir()))}"
    with open(path, "wb") as out:
        out.truncate(CHUNK * len(parts))
        for index, part in enumerate(parts):
            if part is not None:
                out.seek(index * CHUNK)
                out.write(part)
    return path


def test_a_backup_stores_what_it_must_and_restores_every_byte(tmp_path, store):
    noise = os.urandom(CHUNK)
    source = raw(tmp_path, [b"\x07" * CHUNK, None, noise, bytes(CHUNK)])
    manifest = chunked.back_up(store, "c", "vol/b1", source, None, {"backup_id": "b1"})
    kinds = [c and c["compression"] for c in manifest["chunks"]]
    assert kinds == ["zlib", None, "none", None]  # holes and zeros are not stored; noise is kept as it is
    assert sorted(store.names("c", "vol/b1")) == ["vol/b1-00001", "vol/b1-00003", "vol/b1_metadata"]
    assert len(store.get("c", "vol/b1-00001")) < CHUNK // 100 and store.get("c", "vol/b1-00003") == noise
    assert chunked.own_objects(manifest) == 3
    back = tmp_path / "back"
    chunked.restore(store, "c", chunked.read_manifest(store, "c", "vol/b1"), back)
    assert back.read_bytes() == source.read_bytes()


def test_an_incremental_backup_stores_only_changed_chunks(tmp_path, store):
    first = raw(tmp_path, [b"\x01" * CHUNK, b"\x02" * CHUNK, b"\x03" * CHUNK])
    parent = chunked.back_up(store, "c", "vol/full", first, None, {})
    second = raw(tmp_path, [b"\x01" * CHUNK, b"\x09" * CHUNK, None])
    child = chunked.back_up(store, "other", "vol/incr", second, parent, {})
    assert sorted(store.names("other", "vol/incr")) == ["vol/incr-00002", "vol/incr_metadata"]
    assert child["chunks"][0] == parent["chunks"][0] and child["chunks"][2] is None
    back = tmp_path / "back"
    chunked.restore(store, "other", child, back)  # chunk 1 comes from the parent's container
    assert back.read_bytes() == second.read_bytes()
    chunked.delete(store, "other", "vol/incr")
    assert list(store.names("other", "vol/")) == [] and len(list(store.names("c", "vol/full"))) == 4


def test_damaged_or_missing_objects_fail_the_restore(tmp_path, store):
    source = raw(tmp_path, [b"\x05" * CHUNK, os.urandom(CHUNK)])
    manifest = chunked.back_up(store, "c", "b", source, None, {})
    store.put("c", "b-00002", os.urandom(CHUNK))  # same size, other bytes
    with pytest.raises(BackupError, match="checksum"):
        chunked.restore(store, "c", manifest, tmp_path / "back")
    store.put("c", "b-00001", b"not zlib")
    with pytest.raises(BackupError, match="damaged"):
        chunked.restore(store, "c", manifest, tmp_path / "back")
    store.delete("c", "b-00001")
    with pytest.raises(BackupError, match="missing"):
        chunked.restore(store, "c", manifest, tmp_path / "back")
    store.put("c", "b_metadata", b"{not json")
    with pytest.raises(BackupError, match="damaged"):
        chunked.read_manifest(store, "c", "b")


@pytest.mark.parametrize("container, name", [("..", "x"), ("c", "../x"), ("c", "a/../../x"), ("c", "/abs"),
                                             ("c", ".hidden")])
def test_names_cannot_leave_the_store(store, container, name):
    with pytest.raises(BackupError):
        store.put(container, name, b"x")
