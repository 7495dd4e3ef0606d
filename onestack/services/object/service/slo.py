"""Static large objects: put a manifest whose segments are checked, read it as its segments, delete it
with them.

The manifest is an object like any other whose blob is the kept manifest (JSON) and whose row says
``X-Static-Large-Object`` and keeps, as sysmeta, the SLO's ETag and the manifest's own size: the row is
listed and counted at the size of the whole, as Swift lists it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from onestack.http import errors
from onestack.services.object import views
from onestack.services.object.models import MANIFEST_BYTES, SLO_ETAG, SLO_FLAG, Object
from onestack.services.object.service import large, manifest

if TYPE_CHECKING:
    from onestack.services.object.service import ObjectService
    from onestack.services.object.service.spec import ObjectSpec


def is_slo(obj: Object) -> bool:
    return SLO_FLAG in obj.meta


def slo_etag(obj: Object) -> str:
    return obj.meta.get(SLO_ETAG, "")


class StaticLargeObjects:
    def __init__(self, svc: ObjectService):
        self.svc = svc

    def put(self, account: str, container: str, name: str, wanted: list[manifest.Wanted],
            spec: ObjectSpec) -> Object:
        """Keep the manifest once every segment is what it says (else ``SegmentProblems``, nothing kept)."""
        self.svc.container(account, container)
        rows = self.svc.rows_named(account, ((w.container, w.name) for w in wanted))
        entries, problems = [], []
        for want in wanted:
            entry, problem = _entry(want, rows.get((want.container, want.name)), (container, name))
            if problem:
                problems.append((views.quote_path(want.path), problem))
            else:
                entries.append(entry)
        if problems:
            raise manifest.SegmentProblems(problems)
        tag = manifest.etag(entries)
        if spec.etag is not None and spec.etag != tag:
            raise errors.UnprocessableEntity("The ETag you sent does not match the manifest's.")
        body = manifest.encode(entries)
        stored = self.svc.store.put([body], manifest.MAX_MANIFEST_SIZE)
        meta = {**spec.meta, SLO_FLAG: "True", SLO_ETAG: tag, MANIFEST_BYTES: str(stored.size)}
        kept = dataclasses.replace(spec, meta=meta, etag=None)
        if spec.if_none_match:
            self.svc.refuse_existing(account, container, name)
        return self.svc.commit_object(account, container, name, stored, kept,
                                      size=sum(manifest.entry_size(e) for e in entries))

    def entries(self, obj: Object) -> list[dict]:
        """The kept manifest of an SLO."""
        return manifest.decode(b"".join(self.svc.read(obj)))

    def assemble(self, account: str, obj: Object, depth: int = 0) -> large.Assembly:
        """The SLO's pieces, nested ones expanded; a segment gone or changed since is a 409."""
        if depth > manifest.MAX_NESTING:
            raise errors.Conflict("Max recursion depth exceeded on a static large object.")
        entries = self.entries(obj)
        paths = [_split(e["name"]) for e in entries]
        rows = self.svc.rows_named(account, paths)
        pieces: list[large.Piece] = []
        for entry, path in zip(entries, paths, strict=True):
            row = rows.get(path)
            if row is None or _etag_of(row) != entry["hash"] or row.size != entry["bytes"]:
                raise errors.Conflict(f"Object segment no longer valid: {views.quote_path(entry['name'])}")
            first, last = (int(x) for x in entry["range"].split("-")) if entry.get("range") else (0, row.size - 1)
            if is_slo(row):
                pieces += large.cut(self.assemble(account, row, depth + 1).pieces, first, last)
            else:
                pieces.append(large.Piece(path[0], row, first, last))
        return large.Assembly(f'"{slo_etag(obj)}"', pieces)

    def segments(self, account: str, obj: Object, depth: int = 0) -> list[tuple[str, str]]:
        """Every (container, name) an SLO's deletion removes: its segments, nested manifests' ones first."""
        if depth > manifest.MAX_NESTING:
            raise errors.Conflict("Max recursion depth exceeded on a static large object.")
        out: list[tuple[str, str]] = []
        paths = [_split(e["name"]) for e in self.entries(obj)]
        rows = self.svc.rows_named(account, paths)
        for path in paths:
            row = rows.get(path)
            if row is not None and is_slo(row):
                out += self.segments(account, row, depth + 1)
            out.append(path)
        return out


def _split(path: str) -> tuple[str, str]:
    container, _, name = path.lstrip("/").partition("/")
    return container, name


def _etag_of(row: Object) -> str:
    """What a manifest records of a segment: its content's MD5, or a nested SLO's ETag."""
    return slo_etag(row) if is_slo(row) else row.etag.strip('"')


def _entry(want: manifest.Wanted, row: Object | None, itself: tuple[str, str]) -> tuple[dict, str | None]:
    """The kept entry for one segment, or why it cannot be one."""
    if (want.container, want.name) == itself:
        return {}, "Manifest cannot reference itself"
    if row is None:
        return {}, "404 Not Found"
    tag = _etag_of(row)
    if want.etag is not None and want.etag != tag:
        return {}, "Etag Mismatch"
    if want.size is not None and want.size != row.size:
        return {}, "Size Mismatch"
    span = manifest.resolve_range(want.range, row.size)
    if span is None:
        return {}, "Unsatisfiable Range" if want.range else \
            f"Too small; each segment must be at least {manifest.MIN_SEGMENT_SIZE} byte."
    entry = {"name": want.path, "bytes": row.size, "hash": tag, "content_type": row.content_type,
             "last_modified": views.iso(row.timestamp)}
    if span != (0, row.size - 1):
        entry["range"] = f"{span[0]}-{span[1]}"
    if is_slo(row):
        entry["sub_slo"] = True
    return entry, None
