"""HTTP preconditions and byte ranges, as Swift applies them to objects."""

from __future__ import annotations

import email.utils
import math
import re

from onestack.http import errors

RANGE_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
MAX_RANGES = 50


def _tags(value: str) -> set[str]:
    return {t.strip().strip('"') for t in value.split(",") if t.strip()}


def _date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed.tzinfo else None


def evaluate(headers, etag: str, timestamp: float) -> int | None:
    """304 or 412 when a precondition of a GET/HEAD fails, None to go on (RFC 7232's order)."""
    etag = etag.strip('"')
    modified = math.ceil(timestamp)
    if "if-match" in headers:
        tags = _tags(headers["if-match"])
        if "*" not in tags and etag not in tags:
            return 412
    elif "if-unmodified-since" in headers:
        since = _date(headers["if-unmodified-since"])
        if since is not None and modified > since:
            return 412
    if "if-none-match" in headers:
        tags = _tags(headers["if-none-match"])
        if "*" in tags or etag in tags:
            return 304
    elif "if-modified-since" in headers:
        since = _date(headers["if-modified-since"])
        if since is not None and modified <= since:
            return 304
    return None


def ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable (start, end) pairs of a Range header; None to answer the whole object (no header,
    or one Swift ignores as malformed); 416 when none of them can be met."""
    if not header or size == 0:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs:
        return None
    wanted = []
    for spec in specs.split(","):
        match = RANGE_SPEC.match(spec)
        if match is None or match.groups() == ("", ""):
            return None
        first, last = match.groups()
        if first and last and int(last) < int(first):
            return None
        wanted.append((first, last))
    if len(wanted) > MAX_RANGES:
        return None
    out = []
    for first, last in wanted:
        if not first:
            suffix = int(last)
            if suffix == 0:
                continue
            out.append((max(size - suffix, 0), size - 1))
        elif int(first) < size:
            out.append((int(first), min(int(last), size - 1) if last else size - 1))
    if not out:
        raise errors.RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return out
