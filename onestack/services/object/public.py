"""What other services may use of the object service: listing value types (Block Storage backups and
Orchestration's containers will reach objects through the service's methods taking these)."""

from __future__ import annotations

import dataclasses


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
