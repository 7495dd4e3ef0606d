"""The RBD diff backup engine over a real posix store (no cluster needed: the stream is any bytes): a stream
is kept in 4 MiB pieces and read back whole, a damaged piece is refused by its checksum, and a restore's chain
runs from the full backup to the one asked for, refusing a base that is not the one the manifest names."""

from __future__ import annotations

import io
import json
import os

import pytest

from onestack.drivers.backups import BackupError, diffs
from onestack.drivers.backups.chunked import manifest_name, own_objects, read_manifest
from onestack.drivers.backups.posix import PosixStore


def backed_up(store, prefix: str, data: bytes, snap: str, base: dict | None = None) -> dict:
    parts = diffs.store_stream(store, "c", prefix, io.BytesIO(data))
    return diffs.write_manifest(store, "c", prefix, parts, snap=snap, base=base,
                                base_container="c" if base else None, size_bytes=len(data), identity={})


def test_a_stream_is_kept_in_pieces_and_read_back_whole(tmp_path):
    store = PosixStore(tmp_path)
    data = os.urandom(8 * 1024 * 1024) + bytes(3 * 1024 * 1024)  # random (kept as is), zeros (compressed)
    full = backed_up(store, "v/full", data, "backup.1")
    assert [p["length"] for p in full["diff"]] == [4 * 1024 * 1024, 4 * 1024 * 1024, 3 * 1024 * 1024]
    assert [p["compression"] for p in full["diff"]] == ["none", "none", "zlib"]
    assert own_objects(full) == 4
    assert diffs.is_diff(read_manifest(store, "c", "v/full"))
    assert b"".join(diffs.stream(store, "c", full)) == data

    (tmp_path / "c" / "v" / "full-00002").write_bytes(b"damaged")
    with pytest.raises(BackupError, match="does not match its checksum"):
        b"".join(diffs.stream(store, "c", full))


def test_the_chain_runs_from_the_full_backup_and_checks_each_base(tmp_path):
    store = PosixStore(tmp_path)
    full = backed_up(store, "v/full", b"full stream", "backup.1")
    second = backed_up(store, "v/second", b"second diff", "backup.2", base=full)
    third = backed_up(store, "v/third", b"third diff", "backup.3", base=second)
    assert (second["from_snap"], third["from_snap"]) == ("backup.1", "backup.2")
    chain = diffs.chain(store, third)
    assert [m["prefix"] for m in chain] == ["v/full", "v/second", "v/third"]
    assert [b"".join(diffs.stream(store, c, m)) for m, c in zip(chain, diffs.containers(chain, "c"), strict=True)] \
        == [b"full stream", b"second diff", b"third diff"]
    assert diffs.chain(store, full) == [full]

    # a base whose snapshot is not the one the diff starts from is refused, not applied
    broken = dict(second, snap="backup.other")
    store.put("c", manifest_name("v/second"), json.dumps(broken).encode())
    with pytest.raises(BackupError, match="is not the one backup v/third builds on"):
        diffs.chain(store, third)
