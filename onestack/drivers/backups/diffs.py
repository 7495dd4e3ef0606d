"""RBD diff backups: ``rbd export-diff`` streams kept in a backup store, as Cinder's Ceph backup driver makes
incremental backups of RBD volumes (there into a backup pool; here into whichever store backups go to, the
data dir's files or Object Storage, which may itself be on RADOS).

A backup of prefix ``P`` is the stream cut into pieces ``P-00001``, ``P-00002``... (compressed where that
pays, each with its SHA-256) and the manifest ``P_metadata``, written last, of the chunked engine's format
with ``kind: rbd-diff``: the RBD snapshot the stream ends at (``snap``), the one it starts from
(``from_snap``, None for a full stream) and, for an incremental one, the backup holding that start
(``base``: its container and prefix).  A restore applies the full stream and then each incremental one in
order, with ``rbd import-diff``; the pieces are read and checked as the tool consumes them.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import json
from collections.abc import Iterator
from typing import BinaryIO

from onestack.drivers.backups import BackupError, BackupStore
from onestack.drivers.backups.chunked import (
    FORMAT,
    chunk_name,
    manifest_name,
    packed,
    read_manifest,
    unpacked,
    windowed,
)

KIND = "rbd-diff"
PIECE = 4 * 1024 * 1024
# How many incremental backups a chain may hold: a bound against a manifest naming itself, not a policy.
LONGEST_CHAIN = 10_000


def is_diff(manifest: dict | None) -> bool:
    return bool(manifest) and manifest.get("kind") == KIND


def store_stream(store: BackupStore, container: str, prefix: str, stream: BinaryIO) -> list[dict]:
    """Keep ``stream`` as the backup's pieces; their entries for the manifest."""
    def keep(number: int, data: bytes) -> dict:
        name = chunk_name(prefix, number)
        stored, compression = packed(data)
        store.put(container, name, stored)
        return {"object": name, "sha256": hashlib.sha256(data).hexdigest(), "length": len(data),
                "compression": compression}

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return list(windowed(pool, enumerate(iter(lambda: stream.read(PIECE), b""), start=1), keep))


def write_manifest(store: BackupStore, container: str, prefix: str, parts: list[dict], *, snap: str,
                   base: dict | None, base_container: str | None, size_bytes: int, identity: dict) -> dict:
    """The manifest, which makes the backup whole: written only once the stream was all read and stored."""
    manifest = {"format": FORMAT, **identity, "kind": KIND, "prefix": prefix, "size_bytes": size_bytes,
                "snap": snap, "from_snap": base["snap"] if base else None,
                "base": {"container": base_container, "prefix": base["prefix"]} if base else None,
                "created_at": datetime.datetime.now(datetime.UTC).isoformat(), "diff": parts}
    store.put(container, manifest_name(prefix), json.dumps(manifest).encode())
    return manifest


def chain(store: BackupStore, manifest: dict) -> list[dict]:
    """The manifests whose streams rebuild ``manifest``'s data: its full backup first, then each
    incremental one up to it."""
    found = [manifest]
    while found[-1].get("base"):
        if len(found) > LONGEST_CHAIN:
            raise BackupError(f"the chain of backup {manifest['prefix']} does not end in a full backup")
        base = found[-1]["base"]
        earlier = read_manifest(store, base["container"], base["prefix"])
        if not is_diff(earlier) or earlier.get("snap") != found[-1].get("from_snap"):
            raise BackupError(f"backup {base['prefix']} is not the one backup {found[-1]['prefix']} builds on")
        found.append(earlier)
    return found[::-1]


def stream(store: BackupStore, container: str, manifest: dict) -> Iterator[bytes]:
    """The backup's ``export-diff`` stream, each piece checked against its checksum (fetched ahead)."""
    def fetch(entry: dict) -> bytes:
        data = unpacked(store.get(container, entry["object"]), entry)
        if len(data) != entry["length"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise BackupError(f"backup object {entry['object']} does not match its checksum")
        return data

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        yield from windowed(pool, ((entry,) for entry in manifest["diff"]), fetch)


def containers(manifests: list[dict], own: str) -> list[str]:
    """The container each manifest of a chain keeps its pieces in (the last one is the backup's own)."""
    return [m["base"]["container"] for m in manifests[1:]] + [own]
