"""Static large object manifests: what a client sends (``?multipart-manifest=put``) and what is kept.

A client sends a JSON list of segments, each ``{"path": "/<container>/<object>", "etag", "size_bytes",
"range"}`` (all but ``path`` optional).  Every segment is checked against the object it names before the
manifest is kept; the kept manifest records what each segment was (``name``, ``bytes``, ``hash``,
``content_type``, ``last_modified``, ``range``, ``sub_slo``), so a read can tell a segment replaced since.
Errors are Swift's: a malformed list is one 400 naming the index at fault, segments that do not match
are collected and answered together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import orjson

from onestack.http import errors

MAX_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
MAX_NESTING = 10
CAPABILITIES = {"max_manifest_segments": MAX_SEGMENTS, "max_manifest_size": MAX_MANIFEST_SIZE,
                "min_segment_size": MIN_SEGMENT_SIZE, "yield_frequency": 10, "allow_async_delete": False}
KEYS = frozenset({"path", "etag", "size_bytes", "range"})
RANGE = re.compile(r"^(\d*)-(\d*)$")



class SegmentProblems(errors.BadRequest):
    """Segments that do not match what the manifest says: ``(quoted path, reason)`` each."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("Errors:\n" + "".join(f"{path}, {reason}\n" for path, reason in problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class Wanted:
    """One segment as the client asks for it."""

    container: str
    name: str
    etag: str | None
    size: int | None
    range: str | None

    @property
    def path(self) -> str:
        return f"/{self.container}/{self.name}"


def parse(body: bytes) -> list[Wanted]:
    """The segments a ``multipart-manifest=put`` body lists, or Swift's 400 for a malformed one."""
    if len(body) > MAX_MANIFEST_SIZE:
        raise errors.PayloadTooLarge(f"Manifest File > {MAX_MANIFEST_SIZE} bytes")
    try:
        listed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise errors.BadRequest("Manifest must be valid JSON.\n") from None
    if not isinstance(listed, list):
        raise errors.BadRequest("Manifest must be a list.\n")
    if len(listed) > MAX_SEGMENTS:
        raise errors.PayloadTooLarge(f"Number of segments must be <= {MAX_SEGMENTS}")
    if not listed:
        raise errors.BadRequest("Manifest must have at least one segment.\n")
    return [_segment(index, item) for index, item in enumerate(listed)]


def _segment(index: int, item) -> Wanted:
    def bad(why: str) -> errors.BadRequest:
        return errors.BadRequest(f"Index {index}: {why}\n")

    if not isinstance(item, dict):
        raise bad("not a JSON object")
    extra = sorted(set(item) - KEYS)
    if extra:
        raise bad("extraneous keys " + ", ".join(f'"{k}"' for k in extra))
    path = item.get("path")
    if not isinstance(path, str):
        raise bad("expected keys to include path" if path is None else '"path" must be a string')
    container, _, name = path.lstrip("/").partition("/")
    if not container or not name or "\x00" in path:
        raise bad("path does not refer to an object. Path must be of the form /container/object.")
    etag, size, wanted = item.get("etag"), item.get("size_bytes"), item.get("range")
    if etag is not None and not isinstance(etag, str):
        raise bad('"etag" must be a string or null (if provided)')
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise bad('"size_bytes" must be an integer or null (if provided)')
    if wanted is not None and (not isinstance(wanted, str) or not _range_shape(wanted)):
        raise bad("invalid range")
    return Wanted(container, name, etag.strip('"').lower() if etag else None, size, wanted)


def _range_shape(value: str) -> bool:
    match = RANGE.match(value.strip())
    return bool(match) and match.groups() != ("", "") and not (
        match.group(1) and match.group(2) and int(match.group(2)) < int(match.group(1)))


def resolve_range(value: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes of a segment a range takes; None when it cannot be met."""
    if value is None:
        return (0, size - 1) if size else None
    first, last = RANGE.match(value.strip()).groups()
    if not first:
        count = int(last)
        if count == 0 or size == 0:
            return None
        return max(size - count, 0), size - 1
    start = int(first)
    if start >= size:
        return None
    return start, min(int(last), size - 1) if last else size - 1


def etag(entries: list[dict]) -> str:
    """A static large object's ETag (unquoted): MD5 over its segments' ETags, a ranged one as ``etag:range;``."""
    digest = hashlib.md5(usedforsecurity=False)
    for entry in entries:
        if entry.get("range"):
            digest.update(f"{entry['hash']}:{entry['range']};".encode())
        else:
            digest.update(entry["hash"].encode())
    return digest.hexdigest()


def entry_size(entry: dict) -> int:
    """The bytes a kept entry adds to the whole: its range's length, else the segment's size."""
    if entry.get("range"):
        first, last = (int(x) for x in entry["range"].split("-"))
        return last - first + 1
    return entry["bytes"]


def encode(entries: list[dict]) -> bytes:
    return orjson.dumps(entries)


def decode(data: bytes) -> list[dict]:
    return orjson.loads(data)


def raw(entries: list[dict]) -> list[dict]:
    """The kept manifest in the form a client puts (``multipart-manifest=get&format=raw``)."""
    out = []
    for entry in entries:
        item = {"path": entry["name"], "etag": entry["hash"], "size_bytes": entry["bytes"]}
        if entry.get("range"):
            item["range"] = entry["range"]
        out.append(item)
    return out
