"""The chunked backup engine: a volume's raw data as compressed, checksummed chunks in a backup store.

A backup of prefix ``P`` is the objects ``P-00001``, ``P-00002``... (chunk ``n`` of the data, counted
from 1 as Cinder does) and ``P_metadata``, the manifest: for every chunk its container and object, its
length and the SHA-256 of its data, or nothing where the data are all zeros (no object is kept for
those).  The manifest
is written last, so a backup without one is unfinished.

Chunks are zlib-compressed where that pays: a sample of each is compressed first, and a chunk whose sample
does not shrink (encrypted or already compressed data) is stored as it is, since zlib would spend most
of the backup's time on it for nothing; the manifest says which.

An incremental backup stores only the chunks whose SHA-256 differs from its parent's; its manifest names
the parent's objects for the others, so a restore reads one manifest whatever the chain, and a backup
cannot go while a later one names its objects.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from onestack.drivers.backups import BackupError, BackupStore

CHUNK = 4 * 1024 * 1024
FORMAT = 1
# zlib's fastest level: backups are read far less often than written, and most cost is in the bytes.
LEVEL = 1
# A chunk is compressed when the sample at its start compresses below this share of its size.
SAMPLE = 128 * 1024
WORTH_IT = 0.9
# Chunks in flight at once (compressing or being stored), which bounds memory to a few chunks.
WINDOW = 4
_ZEROS = bytes(CHUNK)


def chunk_name(prefix: str, number: int) -> str:
    return f"{prefix}-{number:05d}"


def manifest_name(prefix: str) -> str:
    return f"{prefix}_metadata"


def _data_at(fd: int, offset: int, length: int) -> bytes | None:
    """The chunk at ``offset``, or None when it holds only zeros (a hole is not even read)."""
    try:
        if os.lseek(fd, offset, os.SEEK_DATA) >= offset + length:
            return None
    except OSError:  # ENXIO: no data after offset
        return None
    data = os.pread(fd, length, offset)
    if len(data) != length:
        raise BackupError(f"the volume's data ended early at {offset + len(data)}")
    return None if data == _ZEROS[:length] else data


def packed(data: bytes) -> tuple[bytes, str]:
    """The chunk as stored and how: zlib-compressed if a sample says it shrinks, else as it is."""
    if len(zlib.compress(data[:SAMPLE], LEVEL)) > WORTH_IT * min(SAMPLE, len(data)):
        return data, "none"
    return zlib.compress(data, LEVEL), "zlib"


def unpacked(stored: bytes, entry: dict) -> bytes:
    if entry.get("compression", "zlib") == "none":
        return stored
    try:
        return zlib.decompress(stored)
    except zlib.error as exc:
        raise BackupError(f"backup object {entry['object']} is damaged: {exc}") from exc


def _chunks(source: Path) -> Iterator[tuple[int, bytes | None]]:
    size = source.stat().st_size
    with open(source, "rb") as f:
        for index, offset in enumerate(range(0, size, CHUNK)):
            yield index, _data_at(f.fileno(), offset, min(CHUNK, size - offset))


def windowed(pool: concurrent.futures.Executor, work: Iterator, fn: Callable) -> Iterator:
    """``fn`` over ``work`` in the pool, in order, with at most WINDOW items in flight."""
    pending: list[concurrent.futures.Future] = []
    for item in work:
        pending.append(pool.submit(fn, *item))
        if len(pending) >= WINDOW:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


def back_up(store: BackupStore, container: str, prefix: str, source: Path, parent: dict | None,
            identity: dict) -> dict:
    """Store the raw data of ``source`` (a sparse file) under ``prefix``; the manifest written.

    ``parent``: the manifest of the backup this one is incremental on.  ``identity``: what the manifest
    says about the backup (its id, its volume's...).
    """
    before = parent["chunks"] if parent and parent.get("chunk_size") == CHUNK else []

    def keep(index: int, data: bytes | None) -> dict | None:
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        previous = before[index] if index < len(before) else None
        if previous and previous["sha256"] == digest and previous["length"] == len(data):
            return previous
        name = chunk_name(prefix, index + 1)
        stored, compression = packed(data)
        store.put(container, name, stored)
        return {"container": container, "object": name, "sha256": digest, "length": len(data),
                "compression": compression}

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        chunks = list(windowed(pool, _chunks(source), keep))
    manifest = {"format": FORMAT, **identity, "parent": parent.get("prefix") if parent else None,
                "prefix": prefix, "size_bytes": source.stat().st_size, "chunk_size": CHUNK,
                "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
                "chunks": chunks}
    store.put(container, manifest_name(prefix), json.dumps(manifest).encode())
    return manifest


def own_objects(manifest: dict) -> int:
    """How many objects the backup itself stored, its manifest included."""
    entries = manifest.get("chunks") or manifest.get("diff") or []
    return 1 + sum(1 for c in entries if c and c["object"].startswith(f"{manifest['prefix']}-"))


def read_manifest(store: BackupStore, container: str, prefix: str) -> dict:
    try:
        manifest = json.loads(store.get(container, manifest_name(prefix)))
    except ValueError as exc:
        raise BackupError(f"the manifest of backup {prefix} is damaged") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or ("chunks" not in manifest and "diff" not in manifest):
        raise BackupError(f"the manifest of backup {prefix} is not one this store writes")
    return manifest


def restore(store: BackupStore, container: str, manifest: dict, dest: Path) -> None:
    """Write the backup's raw data into ``dest`` (sparse: zero chunks stay holes), every chunk checked;
    a chunk an earlier backup stored is read from that backup's container."""
    size, chunk_size = manifest["size_bytes"], manifest["chunk_size"]

    def fetch(index: int, entry: dict) -> tuple[int, bytes]:
        data = unpacked(store.get(entry.get("container", container), entry["object"]), entry)
        if len(data) != entry["length"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise BackupError(f"backup object {entry['object']} does not match its checksum")
        return index, data

    with open(dest, "wb") as out:
        out.truncate(size)
        work = ((i, c) for i, c in enumerate(manifest["chunks"]) if c)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for index, data in windowed(pool, work, fetch):
                os.pwrite(out.fileno(), data, index * chunk_size)
        out.flush()
        os.fsync(out.fileno())


def delete(store: BackupStore, container: str, prefix: str) -> None:
    """Remove every object of the backup, its manifest first (what is left is then plainly unfinished)."""
    store.delete(container, manifest_name(prefix))
    for name in list(store.names(container, f"{prefix}-")):
        store.delete(container, name)
