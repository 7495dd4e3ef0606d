"""Swift's listing rules over a key-ordered table: prefix, delimiter, path, marker, end_marker, reverse.

Every query is a range read on the name index (keyset, never OFFSET), so a page costs the same at the
start of a million-object container as at its end.  A delimiter folds the names below a "directory"
into one ``Subdir`` and jumps the range past them instead of reading them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from onestack.services.object.public import Bound, Query, Subdir

MAX_CODE_POINT = 0x10FFFF


# fetch(after_or_before, end_marker, prefix_low, prefix_high, reverse, count) -> rows with a ``name``
Fetch = Callable[[Bound | None, str, str, str | None, bool, int], Sequence[Any]]


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None if there is none)."""
    while prefix:
        last = ord(prefix[-1])
        if last < MAX_CODE_POINT:
            # the surrogates are no characters a name can hold: step over them
            return prefix[:-1] + chr(0xE000 if 0xD7FF <= last < 0xE000 else last + 1)
        prefix = prefix[:-1]
    return None


def page(fetch: Fetch, query: Query) -> list:
    """Up to ``query.limit`` rows and ``Subdir``s in Swift's order."""
    prefix, delimiter = query.prefix, query.delimiter
    if query.path is not None:
        prefix = query.path.rstrip("/") + "/" if query.path else ""
        delimiter = "/"
    high = successor(prefix) if prefix else None
    bound = Bound(query.marker) if query.marker else None
    out: list = []
    while len(out) < query.limit:
        want = query.limit - len(out)
        rows = fetch(bound, query.end_marker, prefix, high, query.reverse, want)
        if not rows:
            break
        skipping: str | None = None
        for row in rows:
            name = row.name
            if skipping is not None and name.startswith(skipping):
                continue
            skipping = None
            cut = name.find(delimiter, len(prefix)) if delimiter else -1
            if cut < 0:
                out.append(row)
            else:
                skipping = name[:cut + len(delimiter)]
                # a page that ended on this directory named it already (its marker)
                if query.path is None and skipping != query.marker:
                    out.append(Subdir(skipping))
            if len(out) == query.limit:
                break
        if len(out) == query.limit or len(rows) < want:
            break
        if skipping is None:
            bound = Bound(rows[-1].name)
        elif query.reverse:
            bound = Bound(skipping)
        else:
            after = successor(skipping)
            if after is None:
                break
            bound = Bound(after, inclusive=True)
    return out
