"""What other services may use of the object service: listing value types (Block Storage backups and
Orchestration's containers will reach objects through the service's methods taking these)."""

from __future__ import annotations

import dataclasses
import json


@dataclasses.dataclass(frozen=True)
class Query:
    """A listing request: Swift's query parameters."""

    limit: int
    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    reverse: bool = False
    path: str | None = None


@dataclasses.dataclass(frozen=True)
class Subdir:
    """A "directory" a delimiter folded names into."""

    name: str


@dataclasses.dataclass(frozen=True)
class Bound:
    """One side of the range still to read: names after (or, reversed, before) ``name``."""

    name: str
    inclusive: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Listed:
    """An object as a listing shows it: read as plain columns (a page of 10,000 costs no ORM objects), its
    metadata kept as the stored JSON text and decoded only when asked for."""

    name: str
    etag: str
    size: int
    content_type: str
    timestamp: float
    meta_json: str | dict | None  # PostgreSQL's driver hands the JSON column over decoded

    @property
    def meta(self) -> dict:
        if isinstance(self.meta_json, dict):
            return self.meta_json
        return json.loads(self.meta_json) if self.meta_json else {}


@dataclasses.dataclass(frozen=True, slots=True)
class Versioned:
    """One version of an object in a listing of versions (``?versions``)."""

    entry: Listed
    version_id: str
    is_latest: bool
