"""Large objects: a manifest object stands for the concatenation of segment objects.

A dynamic large object (DLO) names ``<container>/<prefix>`` in ``X-Object-Manifest``: its segments are
whatever objects carry that prefix when it is read, in listing order.  A static large object (SLO) keeps
the list of its segments, checked when it was put (``manifest.py``).  Reading either kind walks
``Piece``s, so a range that crosses segments reads only the parts of them it needs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from urllib.parse import unquote

from onestack.http import errors
from onestack.services.object.models import Object
from onestack.services.object.public import Query

PAGE = 1000


@dataclasses.dataclass(frozen=True)
class Piece:
    """Bytes ``first``..``last`` (inclusive) of a segment object in ``container``."""

    container: str
    row: Object
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclasses.dataclass(frozen=True)
class Assembly:
    """What a large object reads as: its pieces, in order, and its ETag (quoted, as Swift answers it)."""

    etag: str
    pieces: list[Piece]

    @property
    def size(self) -> int:
        return sum(p.size for p in self.pieces)

    @property
    def containers(self) -> set[str]:
        return {p.container for p in self.pieces}


def dlo_location(obj: Object) -> tuple[str, str] | None:
    """(container, prefix) of a DLO manifest, or None for any other object."""
    value = obj.meta.get("X-Object-Manifest")
    if not value:
        return None
    container, _, prefix = unquote(value).partition("/")
    if not container:
        raise errors.BadRequest("X-Object-Manifest must be in the form <container>/<prefix>")
    return container, prefix


def dlo_pieces(list_page: Callable[[Query], list], container: str, prefix: str) -> list[Piece]:
    """Every object under ``prefix`` in ``container``, through ``list_page`` (the service's listing)."""
    pieces, marker = [], ""
    while True:
        rows = list_page(Query(limit=PAGE, prefix=prefix, marker=marker))
        pieces += [Piece(container, row, 0, row.size - 1) for row in rows if row.size > 0]
        if len(rows) < PAGE:
            return pieces
        marker = rows[-1].name


def dlo_etag(pieces: list[Piece]) -> str:
    """A DLO's ETag: the quoted MD5 of its segments' ETags, concatenated."""
    digest = hashlib.md5(usedforsecurity=False)
    for piece in pieces:
        digest.update(piece.row.etag.strip('"').encode())
    return f'"{digest.hexdigest()}"'


def cut(pieces: list[Piece], start: int, end: int) -> list[Piece]:
    """The pieces that bytes ``start``..``end`` of their concatenation come from, trimmed to them."""
    out, offset = [], 0
    for piece in pieces:
        lo, hi = max(start, offset), min(end, offset + piece.size - 1)
        if lo <= hi:
            out.append(Piece(piece.container, piece.row, piece.first + lo - offset, piece.first + hi - offset))
        offset += piece.size
        if offset > end:
            break
    return out


def read(read_one: Callable[[Object, int, int], Iterator[bytes]], pieces: list[Piece], start: int,
         end: int) -> Iterator[bytes]:
    """Bytes ``start``..``end`` of the concatenation, each segment opened only when it is reached."""
    for piece in cut(pieces, start, end):
        yield from read_one(piece.row, piece.first, piece.last)
